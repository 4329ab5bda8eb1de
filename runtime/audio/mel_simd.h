// Four-lane float vectors for the log-mel hot loops (internal to runtime/audio). The project
// builds at -O2, where GCC's auto-vectoriser leaves these loops scalar; GCC/Clang vector
// extensions make the SIMD explicit without tying the code to one instruction set (they lower to
// SSE2 on x86-64 and NEON on AArch64).
#pragma once

#include <cstdint>
#include <cstring>

namespace npw {
namespace simd {

typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));

inline f32x4 splat(float x) { return f32x4{x, x, x, x}; }
inline i32x4 splat_i(int32_t x) { return i32x4{x, x, x, x}; }

// Unaligned load/store: memcpy compiles to a single unaligned vector move.
inline f32x4 load(const float* p) {
  f32x4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, f32x4 v) { std::memcpy(p, &v, sizeof v); }

// Same-size vector casts reinterpret the bits.
inline i32x4 as_int(f32x4 v) { return (i32x4)v; }
inline f32x4 as_float(i32x4 v) { return (f32x4)v; }

// mask lanes are all-ones or all-zeros, as produced by vector comparisons.
inline f32x4 select(i32x4 mask, f32x4 a, f32x4 b) { return as_float((as_int(a) & mask) | (as_int(b) & ~mask)); }

// Lane shuffle of the 8 lanes of (a, b); GCC < 12 lacks __builtin_shufflevector.
#if defined(__clang__)
#define NPW_SHUFFLE4(a, b, i0, i1, i2, i3) __builtin_shufflevector(a, b, i0, i1, i2, i3)
#else
#define NPW_SHUFFLE4(a, b, i0, i1, i2, i3) __builtin_shuffle(a, b, ::npw::simd::i32x4{i0, i1, i2, i3})
#endif

inline f32x4 max(f32x4 a, f32x4 b) { return select(a > b, a, b); }

// Replaces +inf and NaN by FLT_MAX, so that later sums and logs stay finite.
inline f32x4 saturate(f32x4 v) { return select(v <= splat(3.40282347e38f), v, splat(3.40282347e38f)); }

// 4x4 transpose: rows r0..r3 become columns.
inline void transpose4(f32x4& r0, f32x4& r1, f32x4& r2, f32x4& r3) {
  const f32x4 t0 = NPW_SHUFFLE4(r0, r1, 0, 4, 1, 5), t1 = NPW_SHUFFLE4(r2, r3, 0, 4, 1, 5);
  const f32x4 t2 = NPW_SHUFFLE4(r0, r1, 2, 6, 3, 7), t3 = NPW_SHUFFLE4(r2, r3, 2, 6, 3, 7);
  r0 = NPW_SHUFFLE4(t0, t1, 0, 1, 4, 5);
  r1 = NPW_SHUFFLE4(t0, t1, 2, 3, 6, 7);
  r2 = NPW_SHUFFLE4(t2, t3, 0, 1, 4, 5);
  r3 = NPW_SHUFFLE4(t2, t3, 2, 3, 6, 7);
}

// log10 of finite x >= 1e-10 (normal floats): split off the exponent, reduce the mantissa to
// [sqrt(1/2), sqrt(2)) and sum the atanh series of ln; the truncation error is < 1e-9, well below
// float32 rounding.
inline f32x4 log10_positive(f32x4 x) {
  const i32x4 bits = as_int(x);
  i32x4 e = ((bits >> 23) & splat_i(0xFF)) - splat_i(127);
  f32x4 m = as_float((bits & splat_i(0x007FFFFF)) | splat_i(0x3F800000));  // [1, 2)
  const i32x4 big = m > splat(1.41421356f);
  m = select(big, m * splat(0.5f), m);
  e = e - big;  // big lanes are -1
  const f32x4 s = (m - splat(1.0f)) / (m + splat(1.0f));
  const f32x4 s2 = s * s;
  const f32x4 series =
      splat(1.0f) +
      s2 * (splat(1.0f / 3) + s2 * (splat(1.0f / 5) + s2 * (splat(1.0f / 7) + s2 * splat(1.0f / 9))));
  const f32x4 ln_m = splat(2.0f) * s * series;
  // log10(x) = e * log10(2) + ln(m) * log10(e)
  return __builtin_convertvector(e, f32x4) * splat(0.30102999566f) + ln_m * splat(0.43429448190f);
}

}  // namespace simd
}  // namespace npw
