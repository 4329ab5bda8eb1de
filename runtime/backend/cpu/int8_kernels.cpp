// Chooses among the int8 variants by what the CPU reports at run time (once per process), so one
// binary runs everywhere and uses VNNI where it exists.
#include <string>

#include "backend/cpu/int8_kernels.h"
#include "util/error.h"

namespace npw {

const char* int8_isa_name(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::Scalar: return "scalar";
    case Int8Isa::Avx2: return "avx2";
    case Int8Isa::Avx512Vnni: return "avx512-vnni";
  }
  return "?";
}

bool int8_isa_supported(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::Scalar: return true;
    case Int8Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Int8Isa::Avx512Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

std::vector<Int8Isa> int8_supported_isas() {
  std::vector<Int8Isa> out;
  for (Int8Isa isa : {Int8Isa::Scalar, Int8Isa::Avx2, Int8Isa::Avx512Vnni}) {
    if (int8_isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

Int8Isa int8_best_isa() {
  static const Int8Isa best = int8_supported_isas().back();
  return best;
}

const Int8Kernel& int8_kernel(Int8Isa isa) {
  if (!int8_isa_supported(isa)) {
    throw Error(ErrorKind::Unavailable,
                std::string("cpu-int8 backend: this CPU lacks the instructions of the ") + int8_isa_name(isa) + " kernels");
  }
  switch (isa) {
    case Int8Isa::Scalar: return kInt8KernelScalar;
    case Int8Isa::Avx2: return kInt8KernelAvx2;
    case Int8Isa::Avx512Vnni: return kInt8KernelAvx512Vnni;
  }
  throw Error(ErrorKind::Internal, "cpu-int8 backend: unknown kernel variant");
}

}  // namespace npw
