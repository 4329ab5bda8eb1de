// exp, horizontal reductions and lane masks on 8 floats at a time, for the AVX2 kernel files only.
// Same contract as vec_math_avx512.h: every function carries the AVX2 target attribute and is
// static inline (always inlined: a call inside a register block would spill it), so no copy
// compiled for AVX2 can be picked by the linker for code that runs on a lesser CPU.
#pragma once

#include <immintrin.h>

#include "util/vec_math_poly.h"
#include "util/simd_target.h"

#define NPW_AVX2_INLINE NPW_TARGET_AVX2 static inline __attribute__((always_inline))

namespace npw {
namespace avx2 {

// All bits set in lanes [0, n) of 8: none for n <= 0, all for n >= 8 (maskload masks, blends).
NPW_AVX2_INLINE __m256i lane_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n < 0 ? 0 : n > 8 ? 8 : n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

NPW_AVX2_INLINE float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

NPW_AVX2_INLINE float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The polynomial with coefficients s.c (highest power first) at r, by Horner's scheme.
template <int N>
NPW_AVX2_INLINE __m256 horner(const exp_poly::Series<N>& s, __m256 r) {
  __m256 p = _mm256_set1_ps(s.c[0]);
#pragma GCC unroll 16
  for (int i = 1; i < N; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(s.c[i]));
  return p;
}

// p * 2^n for integral n in [-126, 127], n placed in the exponent bits (AVX2 has no scalef).
NPW_AVX2_INLINE __m256 times_pow2(__m256 p, __m256 n) {
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// e^x for x <= 0 (softmax's shifted scores), relative error below 2e-7 as avx512::exp_ps: the same
// reduction and Taylor series to r^6, 2^n built in the exponent bits. Inputs below -87.3 give about
// 1e-38 instead of 0. Positive inputs give garbage: callers mask such lanes away.
NPW_AVX2_INLINE __m256 exp_nonpositive_ps(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(exp_poly::kMinArg));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(exp_poly::kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(exp_poly::kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(exp_poly::kLn2Lo), r);
  return times_pow2(horner(exp_poly::kTaylor, r), n);
}

// 2^x for x <= 0, the relative error of exp_nonpositive_ps (for scores already scaled by log2(e)).
// Inputs below -126 give about 1e-38; positive inputs give garbage.
NPW_AVX2_INLINE __m256 exp2_nonpositive_ps(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(exp_poly::kMinArg2));
  const __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(x, n);  // exact, |f| <= 1/2
  return times_pow2(horner(exp_poly::kExp2Taylor, f), n);
}

// e^x with a relative error below 2e-7 on [-87, 88] (softmax, erf), as avx512::exp_ps: exp of anything
// below about -87.3 flushes to 0 (the float result would be denormal or zero anyway) and NaN gives 0;
// unlike there, results past 2^127 (x above about 88.03) come out as infinity.
NPW_AVX2_INLINE __m256 exp_ps(__m256 x) {
  const __m256 lo = _mm256_set1_ps(exp_poly::kMinArg);
  x = _mm256_min_ps(_mm256_set1_ps(exp_poly::kMaxArg), x);  // a NaN x stays NaN (min returns its second operand)
  const __m256 keep = _mm256_cmp_ps(x, lo, _CMP_GT_OQ);     // false for NaN and for x <= lo
  return _mm256_and_ps(keep, exp_nonpositive_ps(x));
}

// erf(x) with an absolute error below 4.5e-7, as avx512::erf_ps (the odd rational of
// vec_math_poly.h); an 8-lane divide costs little next to the polynomials, so it stays a divide.
NPW_AVX2_INLINE __m256 erf_ps(__m256 x) {
  const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(0x80000000u)));
  const __m256 lim = _mm256_set1_ps(erf_poly::kSaturate);
  const __m256 z = _mm256_min_ps(lim, _mm256_max_ps(_mm256_xor_ps(lim, sign), x));  // NaN stays NaN
  const __m256 t = _mm256_mul_ps(z, z);
  const __m256 e = _mm256_div_ps(_mm256_mul_ps(z, horner(erf_poly::kP, t)), horner(erf_poly::kQ, t));
  const __m256 unit = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(x, sign));  // +-1 with x's sign
  return _mm256_blendv_ps(e, unit, _mm256_cmp_ps(_mm256_andnot_ps(sign, x), lim, _CMP_GE_OQ));
}

}  // namespace avx2
}  // namespace npw
