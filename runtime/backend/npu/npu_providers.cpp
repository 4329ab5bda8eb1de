// "npu-emulator": the NPU backend over the emulated device, npu1 unless NPW_NPU_EMULATOR_GENERATION
// says npu2; NPW_NPU_PRECISION=bf16 selects the bf16 kernels (both also for "npu"). "npu": over the
// XRT module, registered from npu_xrt_provider.cpp when this build has its loader.
#include "backend/npu/npu_providers.h"

#include <cstdlib>
#include <string>

#include "backend/npu/npu_backend.h"
#include "backend/npu_build_config.h"
#include "backend/npu/npu_context.h"
#include "util/error.h"

namespace npw {
namespace npu {

#if NPW_HAVE_XRT_LOADER
void add_xrt_provider(std::vector<BackendProvider>& providers);  // npu_xrt_provider.cpp
#endif

Precision precision_from_env() {
  const char* p = std::getenv("NPW_NPU_PRECISION");
  const std::string s = p ? p : "";
  if (s.empty() || s == "int8") return Precision::Int8;
  if (s == "bf16") return Precision::Bf16;
  throw Error(ErrorKind::InvalidArgument, "NPW_NPU_PRECISION \"" + s + "\": expected int8 or bf16");
}

namespace {

Generation emulated_generation() {
  const char* g = std::getenv("NPW_NPU_EMULATOR_GENERATION");
  const std::string s = g ? g : "";
  if (s.empty() || s == "npu1") return Generation::Npu1;
  if (s == "npu2") return Generation::Npu2;
  throw Error(ErrorKind::InvalidArgument, "NPW_NPU_EMULATOR_GENERATION \"" + s + "\": expected npu1 or npu2");
}

}  // namespace

void add_npu_providers(std::vector<BackendProvider>& providers) {
  BackendProvider emulator;
  emulator.name = "npu-emulator";
  emulator.create = [](int n_threads) -> std::unique_ptr<Backend> {
    return std::make_unique<NpuBackend>(shared_emulator_context(emulated_generation()), n_threads, precision_from_env());
  };
  providers.push_back(std::move(emulator));
#if NPW_HAVE_XRT_LOADER
  add_xrt_provider(providers);
#endif
}

}  // namespace npu
}  // namespace npw
