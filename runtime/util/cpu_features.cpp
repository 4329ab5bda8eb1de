// CPU feature detection for the run-time choice of kernel paths (see cpu_features.h).
#include "util/cpu_features.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace npw {

namespace {

#if defined(__x86_64__)
// CPUID leaf 7 sub-leaf 1's EAX (0 where the leaf is missing): AVX-VNNI is bit 4, AVX512_BF16 bit 5.
// Read directly, since not every compiler's __builtin_cpu_supports knows these names (clang 14, which
// the fuzz build uses, does not know "avxvnni").
unsigned cpuid_7_1_eax() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) ? a : 0u;
}

bool cpu_has_avx512_bf16() { return (cpuid_7_1_eax() >> 5) & 1u; }
#endif

SimdLevel detect() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  // F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not know "f16c".
  unsigned a = 0, b = 0, c = 0, d = 0;
  const bool f16c = __get_cpuid(1, &a, &b, &c, &d) && ((c >> 29) & 1u);
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
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
  else if (std::strcmp(s, "avx512") == 0 || std::strcmp(s, "avx512-noamx") == 0) want = SimdLevel::Avx512;
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

// NPW_SIMD=avx512-noamx: AVX-512 (with VNNI and BF16 where the CPU has them) but no tile unit, so
// that a CPU with AMX runs the paths of AVX-512 CPUs without it (Zen 4/Zen 5 Ryzen laptops, most
// EPYCs) and their speed and accuracy can be measured there.
static bool amx_disabled_by_env() {
  static const bool disabled = [] {
    const char* s = std::getenv("NPW_SIMD");
    return s && std::strcmp(s, "avx512-noamx") == 0;
  }();
  return disabled;
}

bool cpu_amx_tiles_usable() {
  if (amx_disabled_by_env()) return false;
#if defined(__x86_64__) && defined(__linux__) && defined(SYS_arch_prctl)
  static const bool usable = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !((d >> 24) & 1u)) return false;  // AMX-TILE
    if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1u)) return false;            // OSXSAVE
    unsigned xcr0_lo = 0, xcr0_hi = 0;
    __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if (((xcr0_lo >> 17) & 3u) != 3u) return false;  // XTILECFG and XTILEDATA state enabled
    constexpr int kArchReqXcompPerm = 0x1023;
    constexpr int kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return usable;
#else
  return false;
#endif
}

bool simd_has_amx_bf16() {
#if defined(__x86_64__)
  static const bool cpu = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return cpu_simd_level() == SimdLevel::Avx512 && cpu_has_avx512_bf16() && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
           ((d >> 22) & 1u) && cpu_amx_tiles_usable();
  }();
  return cpu && active_simd_level() == SimdLevel::Avx512;
#else
  return false;
#endif
}

bool simd_has_avx512_bf16() {
#if defined(__x86_64__)
  static const bool cpu = cpu_simd_level() == SimdLevel::Avx512 && cpu_has_avx512_bf16();
  return cpu && active_simd_level() == SimdLevel::Avx512;
#else
  return false;
#endif
}

bool cpu_vendor_is_amd() {
#if defined(__x86_64__)
  static const bool amd = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return false;
    char vendor[13];
    std::memcpy(vendor, &b, 4);
    std::memcpy(vendor + 4, &d, 4);
    std::memcpy(vendor + 8, &c, 4);
    vendor[12] = '\0';
    return std::strcmp(vendor, "AuthenticAMD") == 0;
  }();
  return amd;
#else
  return false;
#endif
}

bool simd_prefers_avx512_bf16_attention() {
#if defined(__x86_64__)
  static const bool prefer = [] {
    if (const char* env = std::getenv("NPW_BF16_ATTENTION")) {
      if (std::strcmp(env, "1") == 0) return true;
      if (std::strcmp(env, "0") == 0) return false;
    }
    return cpu_vendor_is_amd();
  }();
  return prefer && simd_has_avx512_bf16();
#else
  return false;
#endif
}

namespace {

// NPW_ATTENTION_SCORES, read once: int8 (the default where the CPU can) or bf16 / f32 (scores in floats).
bool int8_scores_allowed() {
  static const bool allowed = [] {
    if (const char* env = std::getenv("NPW_ATTENTION_SCORES")) {
      if (std::strcmp(env, "int8") == 0) return true;
      if (std::strcmp(env, "bf16") == 0 || std::strcmp(env, "f32") == 0) return false;
    }
    return true;
  }();
  return allowed;
}

// NPW_ATTENTION_VALUES, read once: int8 (the default where the CPU can) or float (the bf16 or f32
// values of the int8-score tasks).
bool int8_values_allowed() {
  static const bool allowed = [] {
    if (const char* env = std::getenv("NPW_ATTENTION_VALUES")) {
      if (std::strcmp(env, "int8") == 0) return true;
      if (std::strcmp(env, "float") == 0) return false;
    }
    return true;
  }();
  return allowed;
}

bool cpu_has_avx512_vnni() {
#if defined(__x86_64__)
  static const bool vnni = __builtin_cpu_supports("avx512vnni");
  return vnni;
#else
  return false;
#endif
}

}  // namespace

bool cpu_has_avx_vnni() {
#if defined(__x86_64__)
  static const bool vnni = (cpuid_7_1_eax() >> 4) & 1u;
  return vnni;
#else
  return false;
#endif
}

bool simd_prefers_int8_attention_scores() {
  return int8_scores_allowed() && cpu_has_avx512_vnni() && !simd_has_amx_bf16() && simd_prefers_avx512_bf16_attention();
}

bool simd_prefers_int8_scores_f32_values() {
  return int8_scores_allowed() && cpu_has_avx512_vnni() && active_simd_level() == SimdLevel::Avx512 &&
         !simd_has_amx_bf16() && !simd_prefers_avx512_bf16_attention();
}

bool simd_takes_int8_attention_task() {
  if (!int8_scores_allowed() || !int8_values_allowed()) return false;
  switch (active_simd_level()) {
    case SimdLevel::Avx512: return cpu_has_avx512_vnni();
    case SimdLevel::Avx2: return cpu_has_avx_vnni();
    default: return false;
  }
}

bool simd_prefers_int8_attention_values() { return simd_takes_int8_attention_task() && !simd_has_amx_bf16(); }

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Avx512: return "avx512";
    case SimdLevel::Avx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace npw
