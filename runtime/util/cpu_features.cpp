// CPU feature detection for the run-time choice of kernel paths (see cpu_features.h).
#include "util/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace npw {

namespace {

SimdLevel detect() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  if (!avx2) return SimdLevel::Scalar;
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return avx512 ? SimdLevel::Avx512 : SimdLevel::Avx2;
#else
  return SimdLevel::Scalar;
#endif
}

SimdLevel from_env(SimdLevel cpu) {
  const char* s = std::getenv("NPW_SIMD");
  if (!s || !*s) return cpu;
  SimdLevel want = cpu;
  if (std::strcmp(s, "scalar") == 0) want = SimdLevel::Scalar;
  else if (std::strcmp(s, "avx2") == 0) want = SimdLevel::Avx2;
  else if (std::strcmp(s, "avx512") == 0) want = SimdLevel::Avx512;
  return static_cast<int>(want) < static_cast<int>(cpu) ? want : cpu;
}

std::atomic<int>& active() {
  static std::atomic<int> level{static_cast<int>(from_env(cpu_simd_level()))};
  return level;
}

}  // namespace

SimdLevel cpu_simd_level() {
  static const SimdLevel level = detect();
  return level;
}

SimdLevel active_simd_level() { return static_cast<SimdLevel>(active().load(std::memory_order_relaxed)); }

void set_active_simd_level(SimdLevel level) {
  const int cpu = static_cast<int>(cpu_simd_level());
  const int want = static_cast<int>(level);
  active().store(want < cpu ? want : cpu, std::memory_order_relaxed);
}

bool simd_has_avx512_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool cpu = cpu_simd_level() == SimdLevel::Avx512 && __builtin_cpu_supports("avx512bf16");
  return cpu && active_simd_level() == SimdLevel::Avx512;
#else
  return false;
#endif
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Avx512: return "avx512";
    case SimdLevel::Avx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace npw
