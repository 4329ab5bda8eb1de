// One NPU as every stream of the process shares it: the device, the kernels loaded on it (each
// self-tested once, on first use), the lock that serialises its use, and whether it has failed. The
// packed weights of every model hold a reference to it, so the device lives as long as any of them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
  // A device run's time limit: 5000 ms, or $NPW_NPU_TIMEOUT_MS (0: none, as in XRT).
  unsigned timeout_ms() const { return timeout_ms_; }
  void set_timeout_ms(unsigned ms) { timeout_ms_ = ms; }

  // The kernel of shape (Mp, Np, Kp), loaded and self-tested on first use. Call with mutex() held.
  // Throws npw::Error(Unavailable) when the kernel is missing or fails its self-test (which also
  // disables the context), and whatever the device throws.
  const Kernel& kernel(Op op, int Mp, int Np, int Kp);

  // Keeping the device warm. amdxdna suspends an NPU after about 5 s without work and the next launch
  // then costs ~100 ms; a live stream that is silent (the VAD gate closed) would pay that on every
  // utterance. While at least one stream (an NpuBackend) holds the device, a keeper thread runs the
  // smallest kernel once whenever the device has been idle for keep_warm_ms (default 2000 ms,
  // $NPW_NPU_KEEP_WARM_MS, 0: never). Its launches are counted here, not in any stream's books.
  void stream_started();
  void stream_stopped();
  // Records that the device just ran (call with mutex() held).
  void note_run() { last_run_ = std::chrono::steady_clock::now(); }
  void set_keep_warm_ms(unsigned ms);
  unsigned keep_warm_ms() const { return keep_warm_ms_; }
  std::uint64_t keep_warm_launches() const;

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

  void keeper_loop();
  void keep_warm_launch();  // with mutex_ held
  std::chrono::steady_clock::time_point last_run_ = std::chrono::steady_clock::now();
  // The keeper's own state, under keeper_mutex_ (never taken while waiting for mutex_'s holder).
  mutable std::mutex keeper_mutex_;
  std::condition_variable keeper_wake_;
  std::thread keeper_;
  int streams_ = 0;
  bool keeper_stop_ = false;
  unsigned keep_warm_ms_ = 2000;
  std::uint64_t keep_warm_launches_ = 0;
  Op warm_op_ = Op::GemmI8;                                 // mutex_
  std::unique_ptr<DeviceBuffer> warm_a_, warm_b_, warm_c_;  // the keeper's own inputs and output (mutex_)
};

// The process's emulated NPU of generation g, created on first use (with the fault plan of
// $NPW_NPU_EMULATOR_FAULT, for tests), and its shape-sized threads.
std::shared_ptr<NpuContext> shared_emulator_context(Generation g);

}  // namespace npu
}  // namespace npw
