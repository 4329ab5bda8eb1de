// The emulator's buffers, kernel checks, launches and books (see emulator_device.h).
#include "backend/npu/emulator_device.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "backend/npu/emulated_ops.h"
#include "backend/npu/op_shapes.h"
#include "util/aligned_buffer.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace npu {

namespace {

class EmulatedKernel : public Kernel {
 public:
  EmulatedKernel(KernelSpec spec, const EmulatorDevice* device) : spec_(std::move(spec)), device_(device) {}
  const KernelSpec& spec() const override { return spec_; }
  const EmulatorDevice* device() const { return device_; }

 private:
  KernelSpec spec_;
  const EmulatorDevice* device_;
};

class EmulatedBuffer : public DeviceBuffer {
 public:
  EmulatedBuffer(std::size_t bytes, EmulatorDevice* device) : host_(bytes), device_mem_(bytes), device_(device) {}
  std::size_t size() const override { return host_.size(); }
  void* host() override { return host_.data(); }
  void sync_to_device(std::size_t offset, std::size_t bytes) override {
    check(offset, bytes, "sync_to_device");
    std::memcpy(device_mem_.data() + offset, host_.data() + offset, bytes);
    device_->count_sync(true, bytes);
  }
  void sync_from_device(std::size_t offset, std::size_t bytes) override {
    check(offset, bytes, "sync_from_device");
    std::memcpy(host_.data() + offset, device_mem_.data() + offset, bytes);
    device_->count_sync(false, bytes);
  }
  unsigned char* device_bytes() { return device_mem_.data(); }
  const EmulatorDevice* owner() const { return device_; }

 private:
  void check(std::size_t offset, std::size_t bytes, const char* what) const {
    if (offset > host_.size() || bytes > host_.size() - offset) {
      throw Error(ErrorKind::InvalidArgument, std::string("npu-emulator buffer ") + what + ": bytes [" +
                                                  std::to_string(offset) + ", " + std::to_string(offset + bytes) +
                                                  ") outside a buffer of " + std::to_string(host_.size()) + " bytes");
    }
  }

  AlignedBuffer<unsigned char> host_;
  AlignedBuffer<unsigned char> device_mem_;  // what the device sees
  EmulatorDevice* device_;
};

}  // namespace

FaultPlan parse_fault_plan(const std::string& text) {
  FaultPlan plan;
  if (text.empty() || text == "none") return plan;
  std::string name = text;
  const std::size_t at = text.find('@');
  if (at != std::string::npos) {
    name = text.substr(0, at);
    const std::string n = text.substr(at + 1);
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 12) {
      throw Error(ErrorKind::InvalidArgument, "NPW_NPU_EMULATOR_FAULT \"" + text + "\": the launch number after @ must be a non-negative integer");
    }
    plan.after_launches = std::stoull(n);
  }
  if (name == "zeros") {
    plan.fault = Fault::ZeroOutput;
  } else if (name == "timeout") {
    plan.fault = Fault::Timeout;
  } else if (name == "error") {
    plan.fault = Fault::RunError;
  } else if (name == "stall") {
    plan.fault = Fault::Stall;
  } else {
    throw Error(ErrorKind::InvalidArgument, "NPW_NPU_EMULATOR_FAULT \"" + text + "\": expected zeros, timeout, error or stall, optionally followed by @N");
  }
  return plan;
}

EmulatorDevice::EmulatorDevice(Generation generation, int n_threads)
    : generation_(generation), cost_(CostModel::for_generation(generation)),
      pool_(std::make_unique<ThreadPool>(std::max(1, n_threads))) {}

EmulatorDevice::~EmulatorDevice() = default;

DeviceInfo EmulatorDevice::info() const {
  DeviceInfo i;
  i.generation = generation_;
  i.name = std::string("npu-emulator (") + generation_name(generation_) + ")";
  i.columns = generation_ == Generation::Npu2 ? 8 : 4;
  i.rows = 4;
  return i;
}

void EmulatorDevice::set_fault(FaultPlan plan) {
  std::lock_guard<std::mutex> lock(mutex_);
  fault_ = plan;
}

std::unique_ptr<Kernel> EmulatorDevice::load_kernel(const KernelSpec& spec) {
  check_kernel_shape(spec, generation_);  // the same checks a manifest entry gets
  return std::make_unique<EmulatedKernel>(spec, this);
}

std::unique_ptr<DeviceBuffer> EmulatorDevice::allocate(std::size_t bytes, const Kernel& kernel, int arg_index) {
  const auto* k = dynamic_cast<const EmulatedKernel*>(&kernel);
  if (!k || k->device() != this) {
    throw Error(ErrorKind::InvalidArgument, "npu-emulator allocate: the kernel was loaded on a different device");
  }
  if (arg_index < 0 || arg_index >= op_arg_count(kernel.spec().op)) {
    throw Error(ErrorKind::InvalidArgument, "npu-emulator allocate: " + kernel.spec().op + " has no argument " +
                                                std::to_string(arg_index));
  }
  if (bytes == 0) throw Error(ErrorKind::InvalidArgument, "npu-emulator allocate: a buffer of 0 bytes");
  auto b = std::make_unique<EmulatedBuffer>(bytes, this);
  std::lock_guard<std::mutex> lock(mutex_);
  ++books_.buffers_allocated;
  books_.bytes_allocated += bytes;
  return b;
}

void EmulatorDevice::count_sync(bool to_device, std::size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  (to_device ? books_.bytes_to_device : books_.bytes_from_device) += bytes;
  books_.device_seconds += cost_.sync_seconds(bytes);
}

void EmulatorDevice::run(const Launch* launches, int n, unsigned timeout_ms, const std::atomic<bool>* stop) {
  if (n <= 0) return;
  // Check every launch before any runs, as XRT refuses a malformed runlist as a whole.
  for (int i = 0; i < n; ++i) {
    const Launch& l = launches[i];
    const auto* k = dynamic_cast<const EmulatedKernel*>(l.kernel);
    if (!k || k->device() != this) throw Error(ErrorKind::InvalidArgument, "npu-emulator run: a launch without a kernel of this device");
    const ArgBytes need = op_arg_bytes(k->spec());
    if (l.n_args != static_cast<int>(need.size())) {
      throw Error(ErrorKind::InvalidArgument, "npu-emulator run: " + k->spec().op + " takes " +
                                                  std::to_string(need.size()) + " buffers, got " + std::to_string(l.n_args));
    }
    for (int a = 0; a < l.n_args; ++a) {
      const auto* b = dynamic_cast<const EmulatedBuffer*>(l.args[a]);
      if (!b || b->owner() != this) throw Error(ErrorKind::InvalidArgument, "npu-emulator run: argument " + std::to_string(a) + " is not a buffer of this device");
      if (b->size() < need[static_cast<std::size_t>(a)]) {
        throw Error(ErrorKind::InvalidArgument, "npu-emulator run: " + describe_kernel(k->spec()) + " argument " +
                                                    std::to_string(a) + " needs " + std::to_string(need[static_cast<std::size_t>(a)]) +
                                                    " bytes, the buffer has " + std::to_string(b->size()));
      }
    }
  }
  double seconds = 0.0;
  for (int i = 0; i < n; ++i) {
    const Launch& l = launches[i];
    FaultPlan fault;
    std::uint64_t number;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fault = fault_;
      number = books_.launches++;
      if (i == 0) ++books_.batches;
    }
    const bool faulty = fault.fault != Fault::None && number >= fault.after_launches;
    if (faulty && fault.fault == Fault::Timeout) {
      std::lock_guard<std::mutex> lock(mutex_);
      books_.device_seconds += seconds + timeout_ms / 1000.0;
      throw Error(ErrorKind::Internal, "npu-emulator: " + describe_kernel(l.kernel->spec()) + " did not finish within " +
                                           std::to_string(timeout_ms) + " ms (injected timeout)");
    }
    if (faulty && fault.fault == Fault::Stall) {
      // A hung device: nothing completes; the wait ends at the time limit or when stopped.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      while (!cancel_requested(stop) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (cancel_requested(stop)) throw Error(ErrorKind::Cancelled, "npu-emulator: a stalled run was stopped");
      std::lock_guard<std::mutex> lock(mutex_);
      books_.device_seconds += seconds + timeout_ms / 1000.0;
      throw Error(ErrorKind::Internal, "npu-emulator: " + describe_kernel(l.kernel->spec()) + " did not finish within " +
                                           std::to_string(timeout_ms) + " ms (injected stall)");
    }
    if (faulty && fault.fault == Fault::RunError) {
      throw Error(ErrorKind::Internal, "npu-emulator: the run of " + describe_kernel(l.kernel->spec()) +
                                           " failed (injected error: ERT_CMD_STATE_ERROR)");
    }
    if (!execute(l, stop)) {
      std::lock_guard<std::mutex> lock(mutex_);
      books_.device_seconds += seconds;
      throw Error(ErrorKind::Cancelled, "npu-emulator: the run of " + describe_kernel(l.kernel->spec()) + " was stopped");
    }
    if (faulty && fault.fault == Fault::ZeroOutput) {
      auto* out = static_cast<EmulatedBuffer*>(l.args[l.n_args - 1]);
      std::memset(out->device_bytes(), 0, op_arg_bytes(l.kernel->spec()).back());
    }
    const std::vector<int>& d = l.kernel->spec().dims;
    const bool bf16 = l.kernel->spec().op == "gemm_bf16";
    seconds += cost_.launch_seconds(i == 0) + cost_.gemm_seconds(d[0], d[1], d[2], bf16 ? 2 : 1, 4);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  books_.device_seconds += seconds;
}

bool EmulatorDevice::execute(const Launch& l, const std::atomic<bool>* stop) {
  const KernelSpec& s = l.kernel->spec();
  const int M = s.dims[0], N = s.dims[1], K = s.dims[2];
  auto bytes = [&](int a) { return static_cast<EmulatedBuffer*>(l.args[a])->device_bytes(); };
  // In blocks of rows, so that a stop is noticed within a few milliseconds of CPU work, as it would
  // be within one of the device's own tiles.
  constexpr int kRowsPerCheck = 256;
  for (int m0 = 0; m0 < M; m0 += kRowsPerCheck) {
    if (cancel_requested(stop)) return false;
    const int rows = std::min(kRowsPerCheck, M - m0);
    const std::size_t a_at = static_cast<std::size_t>(m0) * static_cast<std::size_t>(K);
    const std::size_t c_at = static_cast<std::size_t>(m0) * static_cast<std::size_t>(N);
    if (s.op == "gemm_i8") {
      emulate_gemm_i8(reinterpret_cast<const int8_t*>(bytes(0)) + a_at, reinterpret_cast<const int8_t*>(bytes(1)),
                      reinterpret_cast<int32_t*>(bytes(2)) + c_at, rows, N, K, pool_.get());
    } else {
      emulate_gemm_bf16(reinterpret_cast<const uint16_t*>(bytes(0)) + a_at, reinterpret_cast<const uint16_t*>(bytes(1)),
                        reinterpret_cast<float*>(bytes(2)) + c_at, rows, N, K, pool_.get());
    }
  }
  return true;
}

}  // namespace npu
}  // namespace npw
