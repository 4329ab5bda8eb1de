// Kernel loading with the self-test, failure state, and the process's shared emulated devices.
#include "backend/npu/npu_context.h"

#include <cstdlib>
#include <thread>

#include "backend/npu/emulator_device.h"
#include "backend/npu/self_test.h"
#include "util/error.h"

namespace npw {
namespace npu {

const char* op_name(Op op) { return op == Op::GemmI8 ? "gemm_i8" : "gemm_bf16"; }

NpuContext::NpuContext(std::string name, std::unique_ptr<Device> device, std::unique_ptr<KernelCatalog> catalog)
    : name_(std::move(name)), device_(std::move(device)), catalog_(std::move(catalog)), info_(device_->info()) {}

NpuContext::~NpuContext() {
  kernels_.clear();  // before the device
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
