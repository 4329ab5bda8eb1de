// Chooses among the int8 variants by what the CPU reports at run time (once per process), so one
// binary runs everywhere and uses AMX or VNNI where they exist.
#include <cpuid.h>

#include <string>

#include "backend/cpu/int8_kernels.h"
#include "util/cpu_features.h"
#include "util/error.h"

namespace npw {

namespace {

// AMX-INT8 on top of the tile unit (cpu_amx_tiles_usable: CPU, OS state, the Linux permission).
bool amx_usable() {
  static const bool amx_int8 = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && ((d >> 25) & 1u) && cpu_amx_tiles_usable();
  }();
  return amx_int8;
}

}  // namespace

const char* int8_isa_name(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::Scalar: return "scalar";
    case Int8Isa::Avx2: return "avx2";
    case Int8Isa::Avx512Vnni: return "avx512-vnni";
    case Int8Isa::Amx: return "amx";
  }
  return "?";
}

bool int8_isa_supported(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::Scalar: return true;
    case Int8Isa::Avx2:
      // F16C too (the records' half scales): the CPU's AVX2 level requires all three.
      return cpu_simd_level() != SimdLevel::Scalar;
    case Int8Isa::Avx512Vnni:
      // DQ too: the kernels share the AVX-512 helpers of util/vec_math_avx512.h (every VNNI CPU has it).
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni");
    case Int8Isa::Amx:
      // Leftover rows run on the VNNI variant.
      return int8_isa_supported(Int8Isa::Avx512Vnni) && amx_usable();
  }
  return false;
}

std::vector<Int8Isa> int8_supported_isas() {
  std::vector<Int8Isa> out;
  for (Int8Isa isa : {Int8Isa::Scalar, Int8Isa::Avx2, Int8Isa::Avx512Vnni, Int8Isa::Amx}) {
    if (int8_isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

Int8Isa int8_best_isa() {
  static const Int8Isa best = int8_supported_isas().back();
  // The process-wide SIMD level (NPW_SIMD, tests) caps the choice too, so that a run "at the AVX2
  // level" or "portable" exercises the int8 variants of that level like every other kernel.
  switch (active_simd_level()) {
    case SimdLevel::Scalar: return Int8Isa::Scalar;
    case SimdLevel::Avx2: return int8_isa_supported(Int8Isa::Avx2) ? Int8Isa::Avx2 : Int8Isa::Scalar;
    case SimdLevel::Avx512: break;
  }
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
    case Int8Isa::Amx: return kInt8KernelAmx;
  }
  throw Error(ErrorKind::Internal, "cpu-int8 backend: unknown kernel variant");
}

}  // namespace npw
