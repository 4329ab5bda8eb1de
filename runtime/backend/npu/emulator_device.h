// A Device that runs each kernel's contract on the CPU (emulated_ops.h) instead of on an NPU, so that
// the whole NPU path (packing, pooled device buffers, syncs, launches, self-test, books) runs and is
// tested on any machine. Its buffers keep a host copy and a separate "device" copy, joined only by
// sync_to_device / sync_from_device, so a missing or short sync shows up as wrong numbers exactly as
// it would on hardware. Device time is modelled by CostModel. Faults can be injected for tests.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "backend/npu/cost_model.h"
#include "backend/npu/device.h"

namespace npw {

class ThreadPool;

namespace npu {

// What an injected fault does, from the launch numbered `after_launches` on (0: from the first).
enum class Fault {
  None,
  ZeroOutput,  // every kernel "completes" with its output all zeros (the failure seen on hardware)
  Timeout,     // a run does not finish within its time limit
  RunError,    // the driver reports a failed run
  Stall,       // a run never finishes: it ends only at its time limit or when stopped (a hung device)
};

struct FaultPlan {
  Fault fault = Fault::None;
  std::uint64_t after_launches = 0;
};

// Parses NPW_NPU_EMULATOR_FAULT's syntax: "", "zeros", "timeout", "error", "stall", each optionally followed
// by "@N" (from launch N on). Throws npw::Error(InvalidArgument) naming the text otherwise.
FaultPlan parse_fault_plan(const std::string& text);

class EmulatorDevice : public Device {
 public:
  // n_threads: CPU threads the emulated kernels may use.
  EmulatorDevice(Generation generation, int n_threads);
  ~EmulatorDevice() override;

  DeviceInfo info() const override;
  std::unique_ptr<Kernel> load_kernel(const KernelSpec& spec) override;
  std::unique_ptr<DeviceBuffer> allocate(std::size_t bytes, const Kernel& kernel, int arg_index) override;
  using Device::run;
  void run(const Launch* launches, int n, unsigned timeout_ms, const std::atomic<bool>* stop) override;
  const DeviceBooks& books() const override { return books_; }

  const CostModel& cost_model() const { return cost_; }
  void set_fault(FaultPlan plan);

  // Called by this device's buffers (the books are the device's).
  void count_sync(bool to_device, std::size_t bytes);

 private:
  // Returns false when `stop` was raised before all rows were computed.
  bool execute(const Launch& launch, const std::atomic<bool>* stop);

  Generation generation_;
  CostModel cost_;
  std::unique_ptr<ThreadPool> pool_;
  mutable std::mutex mutex_;  // books and fault state: buffers of several streams sync concurrently
  DeviceBooks books_;
  FaultPlan fault_;
};

}  // namespace npu
}  // namespace npw
