// exp and erf on 16 floats at a time, and the tail-lane masks, for the AVX-512 kernel files only: in
// util/ because nn/ (attention, element-wise passes) and backend/ (the products' kernels) both use
// them. Every function carries the AVX-512 target attribute and is static inline, so no out-of-line copy compiled for AVX-512 can be
// picked by the linker for code that runs on a lesser CPU.
#pragma once

#include <immintrin.h>

#include "util/vec_math_poly.h"
#include "util/simd_target.h"

namespace npw {
namespace avx512 {

// The mask of lanes [0, n) of 16: none for n <= 0, all for n >= 16 (row tails of every kernel).
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) __mmask16 tail_mask(long long n) {
  return n <= 0 ? static_cast<__mmask16>(0) : n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// Lane j of the result is the largest lane of a[j]. Pairs of vectors are folded into one, halving
// the lanes per source each time (256-bit halves, 128-bit quarters, pairs, single lanes): 15 folds
// of two shuffles and a max for 16 sources, where a reduction per vector takes 4 dependent
// shuffle-and-max steps each. The folds leave source j in lane kFoldOrder[j].
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) __m512 lane_maxima(const __m512 (&a)[16]) {
  __m512 b[8], c[4], d[2];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)
    b[i] = _mm512_max_ps(_mm512_shuffle_f32x4(a[i], a[i + 8], 0x44), _mm512_shuffle_f32x4(a[i], a[i + 8], 0xEE));
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i)
    c[i] = _mm512_max_ps(_mm512_shuffle_f32x4(b[i], b[i + 4], 0x88), _mm512_shuffle_f32x4(b[i], b[i + 4], 0xDD));
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i)
    d[i] = _mm512_max_ps(_mm512_shuffle_ps(c[i], c[i + 2], 0x44), _mm512_shuffle_ps(c[i], c[i + 2], 0xEE));
  const __m512 e = _mm512_max_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xDD));
  const __m512i kFoldOrder = _mm512_setr_epi32(0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15);
  return _mm512_permutexvar_ps(kFoldOrder, e);
}

// The polynomial with coefficients s.c (highest power first) at r, by Horner's scheme.
template <int N>
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) __m512 horner(const exp_poly::Series<N>& s, __m512 r) {
  __m512 p = _mm512_set1_ps(s.c[0]);
#pragma GCC unroll 16
  for (int i = 1; i < N; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(s.c[i]));
  return p;
}

// e^r * 2^n for |r| <= ln2 / 2 (vec_math_poly.h).
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) __m512 exp_reduced_ps(__m512 x) {
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(exp_poly::kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(exp_poly::kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(exp_poly::kLn2Lo), r);
  return _mm512_scalef_ps(horner(exp_poly::kTaylor, r), n);
}

// e^x with a relative error below 2e-7 on [-87, 88]; exp of anything below about -87.3 flushes to 0,
// as the float result would be denormal or zero anyway; NaN gives 0.
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) __m512 exp_ps(__m512 x) {
  const __m512 lo = _mm512_set1_ps(exp_poly::kMinArg);
  x = _mm512_max_ps(x, lo);
  x = _mm512_min_ps(x, _mm512_set1_ps(exp_poly::kMaxArg));
  const __m512 e = exp_reduced_ps(x);
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, lo, _CMP_LE_OQ), e, _mm512_setzero_ps());
}

// e^x for finite x <= 0 (softmax's shifted scores): inputs below -87.3 give about 1e-38 instead of
// exactly 0, which no sum of probabilities can see. Cheaper than exp_ps: no upper clamp, no blend.
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) __m512 exp_nonpositive_ps(__m512 x) {
  return exp_reduced_ps(_mm512_max_ps(x, _mm512_set1_ps(exp_poly::kMinArg)));
}

// x minus the integer nearest it (ties to even), exact, |result| <= 1/2. One vreduceps, where a
// vrndscaleps and a subtraction took the fraction through two dependent steps: the exps below then
// start 4 cycles earlier (the int8 task's u8 softmax 5 % faster on a Xeon), same values.
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) __m512 fraction_ps(__m512 x) {
  return _mm512_reduce_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// 2^x for finite x <= 0: the relative error of exp_nonpositive_ps; inputs below -126 give about
// 1e-38 instead of 0.
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) __m512 exp2_nonpositive_ps(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(exp_poly::kMinArg2));
  const __m512 f = fraction_ps(x);
  const __m512 n = _mm512_sub_ps(x, f);  // exact: the integer nearest x
  return _mm512_scalef_ps(horner(exp_poly::kExp2Taylor, f), n);
}

// 2^x for x <= log2(255) to the precision u8 probabilities need (the int8 attention task's): a cubic
// on the fraction, relative error 7.5e-5 (a fiftieth of a u8 step at 255), where exp2_nonpositive_ps
// takes a sixth degree. Inputs below -125 give about 2^-125: the cubic is below 1 at 0, so a clamp at
// -126 gave subnormal results, and each subnormal result costs an Intel core a microcode assist
// (measured: 40 % of a 128-key attention task on a Xeon).
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) __m512 exp2_u8_ps(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-125.0f));
  const __m512 f = fraction_ps(x);
  const __m512 n = _mm512_sub_ps(x, f);  // exact: the integer nearest x
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(0.05517167f), f, _mm512_set1_ps(0.24261119f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.69326099f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.99992807f));
  return _mm512_scalef_ps(p, n);
}

// erf(x) with an absolute error below 4.5e-7 (float rounding of the odd rational of vec_math_poly.h,
// itself within 5e-8; a form through erfc and exp reaches 1.5e-7 at twice the cost), its one
// division as a 14-bit reciprocal and a Newton step (the divide unit is the slowest part of the core
// for 16 lanes), and exactly +-1 where erf is that to float precision.
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) __m512 erf_ps(__m512 x) {
  const __m512 lim = _mm512_set1_ps(erf_poly::kSaturate);
  // Operand order keeps a NaN x a NaN (min/max return their second operand when either is NaN).
  const __m512 z = _mm512_min_ps(lim, _mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), lim), x));
  const __m512 t = _mm512_mul_ps(z, z);
  const __m512 q = horner(erf_poly::kQ, t);
  const __m512 r0 = _mm512_rcp14_ps(q);
  const __m512 r = _mm512_fmadd_ps(r0, _mm512_fnmadd_ps(q, r0, _mm512_set1_ps(1.0f)), r0);
  const __m512 e = _mm512_mul_ps(_mm512_mul_ps(z, horner(erf_poly::kP, t)), r);
  const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(static_cast<int>(0x80000000u)));
  const __m512 unit = _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_and_ps(x, sign));  // +-1 with x's sign
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(_mm512_abs_ps(x), lim, _CMP_GE_OQ), e, unit);
}

// GELU, the erf form: 0.5 x (1 + erf(x / sqrt 2)).
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) __m512 gelu_ps(__m512 x) {
  const __m512 half_x = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
  return _mm512_fmadd_ps(half_x, erf_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f))), half_x);
}

}  // namespace avx512
}  // namespace npw
