// Kernel loading with the self-test, failure state, and the process's shared emulated devices.
#include "backend/npu/npu_context.h"

#include <cstdlib>
#include <cstring>
#include <thread>

#include "backend/npu/emulator_device.h"
#include "backend/npu/op_shapes.h"
#include "backend/npu/self_test.h"
#include "util/error.h"

namespace npw {
namespace npu {

const char* op_name(Op op) { return op == Op::GemmI8 ? "gemm_i8" : "gemm_bf16"; }

NpuContext::NpuContext(std::string name, std::unique_ptr<Device> device, std::unique_ptr<KernelCatalog> catalog)
    : name_(std::move(name)), device_(std::move(device)), catalog_(std::move(catalog)), info_(device_->info()) {
  auto env_ms = [](const char* name, unsigned* out) {
    const char* ms = std::getenv(name);
    if (!ms || !*ms) return;
    char* end = nullptr;
    const unsigned long v = std::strtoul(ms, &end, 10);
    if (end && *end == '\0' && v <= 3600000) *out = static_cast<unsigned>(v);
  };
  env_ms("NPW_NPU_KEEP_WARM_MS", &keep_warm_ms_);
  env_ms("NPW_NPU_TIMEOUT_MS", &timeout_ms_);
}

NpuContext::~NpuContext() {
  {
    std::lock_guard<std::mutex> lock(keeper_mutex_);
    keeper_stop_ = true;
  }
  keeper_wake_.notify_all();
  if (keeper_.joinable()) keeper_.join();
  warm_a_.reset();
  warm_b_.reset();
  warm_c_.reset();
  kernels_.clear();  // before the device
}

void NpuContext::stream_started() {
  std::lock_guard<std::mutex> lock(keeper_mutex_);
  ++streams_;
  if (!keeper_.joinable()) {
    keeper_stop_ = false;
    keeper_ = std::thread([this] { keeper_loop(); });
  }
}

void NpuContext::stream_stopped() {
  std::thread done;
  {
    std::lock_guard<std::mutex> lock(keeper_mutex_);
    if (streams_ > 0) --streams_;
    if (streams_ > 0 || !keeper_.joinable()) return;
    keeper_stop_ = true;
    done = std::move(keeper_);
  }
  keeper_wake_.notify_all();
  done.join();
}

void NpuContext::set_keep_warm_ms(unsigned ms) {
  {
    std::lock_guard<std::mutex> lock(keeper_mutex_);
    keep_warm_ms_ = ms;
  }
  keeper_wake_.notify_all();
}

std::uint64_t NpuContext::keep_warm_launches() const {
  std::lock_guard<std::mutex> lock(keeper_mutex_);
  return keep_warm_launches_;
}

void NpuContext::keeper_loop() {
  std::unique_lock<std::mutex> lock(keeper_mutex_);
  while (!keeper_stop_) {
    const unsigned ms = keep_warm_ms_;
    if (ms == 0) {
      keeper_wake_.wait(lock);
      continue;
    }
    keeper_wake_.wait_for(lock, std::chrono::milliseconds(ms));
    if (keeper_stop_ || keep_warm_ms_ == 0) continue;
    lock.unlock();
    bool launched = false;
    {
      // Products hold mutex_ while they run: a busy device is warm, so wait for it only briefly.
      std::unique_lock<std::mutex> device_lock(mutex_, std::try_to_lock);
      if (device_lock.owns_lock() && failure_.empty() &&
          std::chrono::steady_clock::now() - last_run_ >= std::chrono::milliseconds(ms)) {
        keep_warm_launch();
        launched = true;
      }
    }
    lock.lock();
    if (launched) ++keep_warm_launches_;
  }
}

void NpuContext::keep_warm_launch() {
  try {
    // The op the streams use (the last one loaded), so that no other kernel has to be loaded for this.
    const std::vector<int> d = catalog_->smallest_shape(op_name(warm_op_));
    const Kernel& k = kernel(warm_op_, d[0], d[1], d[2]);
    if (!warm_a_) {
      // Zeros in, zeros out: the run's only purpose is to keep the device from suspending.
      const std::size_t e = static_cast<std::size_t>(op_input_bytes(op_name(warm_op_)));
      warm_a_ = device_->allocate(static_cast<std::size_t>(d[0]) * d[2] * e, k, 0);
      warm_b_ = device_->allocate(static_cast<std::size_t>(d[1]) * d[2] * e, k, 1);
      warm_c_ = device_->allocate(static_cast<std::size_t>(d[0]) * d[1] * 4, k, 2);
      std::memset(warm_a_->host(), 0, warm_a_->size());
      std::memset(warm_b_->host(), 0, warm_b_->size());
      warm_a_->sync_to_device(0, warm_a_->size());
      warm_b_->sync_to_device(0, warm_b_->size());
    }
    Launch l;
    l.kernel = &k;
    l.n_args = 3;
    l.args[0] = warm_a_.get();
    l.args[1] = warm_b_.get();
    l.args[2] = warm_c_.get();
    device_->run(&l, 1, timeout_ms_);
    note_run();
  } catch (const Error& e) {
    // A device that cannot run its smallest kernel cannot run the next product either: say so there.
    fail(std::string("keeping the device warm, the smallest kernel failed: ") + e.what());
  }
}

const Kernel& NpuContext::kernel(Op op, int Mp, int Np, int Kp) {
  for (const Entry& e : kernels_) {
    if (e.op == op && e.Mp == Mp && e.Np == Np && e.Kp == Kp) return *e.kernel;
  }
  check_usable();
  const KernelSpec spec = catalog_->spec(op_name(op), Mp, Np, Kp);
  std::unique_ptr<Kernel> k = device_->load_kernel(spec);
  SelfTestResult r;
  try {
    r = self_test_kernel(*device_, *k, timeout_ms_);
  } catch (const Error& e) {
    fail("the self-test of kernel " + spec.op + " " + std::to_string(Mp) + "x" + std::to_string(Np) + "x" +
         std::to_string(Kp) + " failed to run: " + e.what());
    check_usable();
  }
  if (!r.ok) {
    fail("self-test: kernel " + spec.op + " " + std::to_string(Mp) + "x" + std::to_string(Np) + "x" + std::to_string(Kp) +
         " on " + info_.name + " disagrees with the CPU: " + r.detail);
    check_usable();
  }
  kernels_.push_back(Entry{op, Mp, Np, Kp, std::move(k)});
  if (warm_op_ != op) {
    warm_op_ = op;
    warm_a_.reset();
    warm_b_.reset();
    warm_c_.reset();
  }
  return *kernels_.back().kernel;
}

void NpuContext::fail(const std::string& why) {
  if (failure_.empty()) failure_ = why;
}

void NpuContext::check_usable() {
  if (!failure_.empty()) throw Error(ErrorKind::Unavailable, name_ + " is disabled: " + failure_);
}

std::shared_ptr<NpuContext> shared_emulator_context(Generation g) {
  static std::mutex mutex;
  static std::shared_ptr<NpuContext> contexts[2];
  std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<NpuContext>& c = contexts[g == Generation::Npu2 ? 1 : 0];
  if (!c) {
    int threads = static_cast<int>(std::thread::hardware_concurrency());
    if (const char* t = std::getenv("NPW_NPU_EMULATOR_THREADS"); t && *t) threads = std::atoi(t);
    auto device = std::make_unique<EmulatorDevice>(g, threads < 1 ? 1 : threads);
    const char* fault = std::getenv("NPW_NPU_EMULATOR_FAULT");
    device->set_fault(parse_fault_plan(fault ? fault : ""));
    const std::string name = g == Generation::Npu2 ? "npu-emulator-npu2" : "npu-emulator";
    c = std::make_shared<NpuContext>(name, std::move(device), contract_catalog(g));
  }
  return c;
}

}  // namespace npu
}  // namespace npw
