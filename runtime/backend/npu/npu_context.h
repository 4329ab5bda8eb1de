// One NPU as every stream of the process shares it: the device, the kernels loaded on it (each
// self-tested once, on first use), the lock that serialises its use, and whether it has failed. The
// packed weights of every model hold a reference to it, so the device lives as long as any of them.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/npu/device.h"
#include "backend/npu/kernel_catalog.h"

namespace npw {
namespace npu {

enum class Op { GemmI8, GemmBf16 };
const char* op_name(Op op);

class NpuContext {
 public:
  // `name`: what the backend calls itself ("npu", "npu-emulator", "npu-emulator-npu2", ...); it is
  // also the key under which models cache weights packed for this device, so two contexts must not
  // share one.
  NpuContext(std::string name, std::unique_ptr<Device> device, std::unique_ptr<KernelCatalog> catalog);
  ~NpuContext();

  const std::string& name() const { return name_; }
  Device& device() { return *device_; }
  const DeviceInfo& info() const { return info_; }
  const KernelCatalog& catalog() const { return *catalog_; }
  std::mutex& mutex() { return mutex_; }
  unsigned timeout_ms() const { return timeout_ms_; }
  void set_timeout_ms(unsigned ms) { timeout_ms_ = ms; }

  // The kernel of shape (Mp, Np, Kp), loaded and self-tested on first use. Call with mutex() held.
  // Throws npw::Error(Unavailable) when the kernel is missing or fails its self-test (which also
  // disables the context), and whatever the device throws.
  const Kernel& kernel(Op op, int Mp, int Np, int Kp);

  // Marks the device unusable (a run failed or timed out); later calls of check_usable() throw.
  void fail(const std::string& why);
  // Throws npw::Error(Unavailable) with the reason when the device was disabled.
  void check_usable();

 private:
  struct Entry {
    Op op;
    int Mp, Np, Kp;
    std::unique_ptr<Kernel> kernel;
  };
  std::string name_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<KernelCatalog> catalog_;
  DeviceInfo info_;
  std::mutex mutex_;
  std::vector<Entry> kernels_;
  std::string failure_;  // empty while usable
  unsigned timeout_ms_ = 5000;
};

// The process's emulated NPU of generation g, created on first use (with the fault plan of
// $NPW_NPU_EMULATOR_FAULT, for tests), and its shape-sized threads.
std::shared_ptr<NpuContext> shared_emulator_context(Generation g);

}  // namespace npu
}  // namespace npw
