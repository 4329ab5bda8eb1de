// The decoding policy's softmax sums (see exp_sum.h): a double exp of our own, 8 or 4 lanes at a time,
// where the CPU has AVX-512 or AVX2, and libm's exp one value at a time otherwise.
#include "util/exp_sum.h"

#include <algorithm>
#include <cmath>
#include <limits>

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "util/cpu_features.h"
#include "util/simd_target.h"

namespace npw {

namespace {

constexpr double kLog2e = 1.4426950408889634074;
// ln 2 in two parts (fdlibm's): ln2_hi has 32 significant bits, so n ln2_hi (and n ln2_hi / 16) is
// exact for |n| < 2^21 and x - n ln 2 loses nothing.
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
// Terms below e^kLowest (3.3e-308, just above the smallest normal double) are 0: no sum of
// probabilities can see them, and computing them as subnormals cost an Intel core a microcode assist
// a vector (a logit row with 50,000 suppressed tokens, -inf, as the timestamp rules leave it at every
// segment's end: 431 us instead of 22 on a Xeon). Above the upper bound exp overflows (the bounds
// keep 2^n in range).
constexpr double kLowest = -708.0;
constexpr double kHighest = 710.0;
// The AVX2 path's e^r on |r| <= ln2 / 2: its Taylor series to r^13 (truncation below 5e-18
// relative), highest power first.
constexpr double kTaylor[] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                              1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,      1.0 / 720.0,
                              1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,         0.5,
                              1.0,                1.0};
constexpr int kTerms = static_cast<int>(sizeof(kTaylor) / sizeof(kTaylor[0]));

double largest_scalar(const float* x, int n) {
  double m = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < n; ++i) m = std::max(m, static_cast<double>(x[i]));
  return m;
}

double exp_sum_scalar(const float* x, int n, double shift, double divisor, double* w) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - shift;
    const double e = std::exp(divisor == 1.0 ? d : d / divisor);
    if (w) w[i] = e;
    sum += e;
  }
  return sum;
}

// ---- AVX-512: 8 doubles ----

// 2^(j/16) for j = 0..15, rounded to double: with these the reduced argument is within ln2/32 and a
// degree-7 polynomial reaches the double's precision, where the 13th-degree Horner chain of the AVX2
// path left a row's exps waiting on FMA latency (26 -> 16.5 us a 51,865-logit row on a Zen 5).
// (Correctly rounded, from a 60-digit evaluation.)
alignas(64) constexpr double kPow2Sixteenths[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};

NPW_TARGET_AVX512 inline __m512d exp_pd(__m512d x, __m512d table_lo, __m512d table_hi) {
  const __mmask8 keep = _mm512_cmp_pd_mask(x, _mm512_set1_pd(kLowest), _CMP_NLT_UQ);  // true for NaN
  // max/min return their second operand when either is NaN: a NaN x stays NaN.
  x = _mm512_min_pd(_mm512_set1_pd(kHighest), _mm512_max_pd(_mm512_set1_pd(kLowest), x));
  // x = (16k + j) ln2/16 + r. Adding 1.5 * 2^52 rounds x * 16/ln2 to an integer n held in the low
  // bits of t (|n| < 2^15 after the clamp); those low bits index the table directly.
  const __m512d magic = _mm512_set1_pd(6755399441055744.0);
  const __m512d t = _mm512_fmadd_pd(x, _mm512_set1_pd(16.0 * kLog2e), magic);
  const __m512d n = _mm512_sub_pd(t, magic);
  __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(kLn2Hi / 16.0), x);
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(kLn2Lo / 16.0), r);
  const __m512d two_j16 = _mm512_permutex2var_pd(table_lo, _mm512_castpd_si512(t), table_hi);
  // e^r - 1 = r + r^2/2 + ... + r^7/7! by Estrin's scheme (truncation below 2e-18 for |r| <= ln2/32).
  const __m512d r2 = _mm512_mul_pd(r, r), r4 = _mm512_mul_pd(r2, r2);
  const __m512d c23 = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 6.0), r, _mm512_set1_pd(0.5));
  const __m512d c45 = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 120.0), r, _mm512_set1_pd(1.0 / 24.0));
  const __m512d c67 = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 5040.0), r, _mm512_set1_pd(1.0 / 720.0));
  const __m512d low = _mm512_fmadd_pd(c23, r2, r);
  const __m512d high = _mm512_fmadd_pd(c67, r2, c45);
  const __m512d em1 = _mm512_fmadd_pd(high, r4, low);
  // 2^(j/16) e^r, then 2^k: scalef takes the floor of n/16 (exact), which is k.
  return _mm512_maskz_scalef_pd(keep, _mm512_fmadd_pd(two_j16, em1, two_j16), _mm512_mul_pd(n, _mm512_set1_pd(1.0 / 16.0)));
}

NPW_TARGET_AVX512 double largest_avx512(const float* x, int n) {
  const __m512 lowest = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 m = lowest;
  int i = 0;
  for (; i + 16 <= n; i += 16) m = _mm512_max_ps(_mm512_loadu_ps(x + i), m);
  if (i < n) m = _mm512_max_ps(_mm512_mask_loadu_ps(lowest, static_cast<__mmask16>((1u << (n - i)) - 1u), x + i), m);
  return static_cast<double>(_mm512_reduce_max_ps(m));
}

template <bool kDivide>
NPW_TARGET_AVX512 inline __m512d exp_term(__m512d x, __m512d shift, __m512d divisor, __m512d table_lo, __m512d table_hi) {
  __m512d d = _mm512_sub_pd(x, shift);
  if (kDivide) d = _mm512_div_pd(d, divisor);
  return exp_pd(d, table_lo, table_hi);
}

// The loop for one kind of call, so that neither the division nor the store is a branch in it.
template <bool kDivide, bool kWrite>
NPW_TARGET_AVX512 double exp_sum_avx512_loop(const float* x, int n, double shift, double divisor, double* w) {
  const __m512d s = _mm512_set1_pd(shift), dv = _mm512_set1_pd(divisor);
  const __m512d table_lo = _mm512_load_pd(kPow2Sixteenths), table_hi = _mm512_load_pd(kPow2Sixteenths + 8);
  __m512d acc = _mm512_setzero_pd();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d e = exp_term<kDivide>(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), s, dv, table_lo, table_hi);
    if (kWrite) _mm512_storeu_pd(w + i, e);
    acc = _mm512_add_pd(acc, e);
  }
  if (i < n) {
    const __mmask8 m = static_cast<__mmask8>((1u << (n - i)) - 1u);
    const __m512d e = _mm512_maskz_mov_pd(m, exp_term<kDivide>(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + i)), s, dv, table_lo, table_hi));
    if (kWrite) _mm512_mask_storeu_pd(w + i, m, e);
    acc = _mm512_add_pd(acc, e);
  }
  return _mm512_reduce_add_pd(acc);
}

double exp_sum_avx512(const float* x, int n, double shift, double divisor, double* w) {
  if (divisor != 1.0) {
    return w ? exp_sum_avx512_loop<true, true>(x, n, shift, divisor, w) : exp_sum_avx512_loop<true, false>(x, n, shift, divisor, w);
  }
  return w ? exp_sum_avx512_loop<false, true>(x, n, shift, divisor, w) : exp_sum_avx512_loop<false, false>(x, n, shift, divisor, w);
}

// ---- AVX2: 4 doubles ----

// 2^k for k in [-538, 513], a normal double built from its exponent bits.
NPW_TARGET_AVX2 inline __m256d pow2_pd(__m128i k) {
  const __m256i e = _mm256_add_epi64(_mm256_cvtepi32_epi64(k), _mm256_set1_epi64x(1023));
  return _mm256_castsi256_pd(_mm256_slli_epi64(e, 52));
}

// 1/i!, all lanes.
NPW_TARGET_AVX2 inline __m256d taylor(int i) { return _mm256_set1_pd(kTaylor[kTerms - 1 - i]); }

NPW_TARGET_AVX2 inline __m256d exp_pd(__m256d x) {
  const __m256d below = _mm256_cmp_pd(x, _mm256_set1_pd(kLowest), _CMP_LT_OQ);  // false for NaN
  x = _mm256_min_pd(_mm256_set1_pd(kHighest), _mm256_max_pd(_mm256_set1_pd(kLowest), x));
  const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(kLn2Hi), x);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(kLn2Lo), r);
  // e^r = 1 + (r + r^2 P(r)), P of degree 11 by Estrin's scheme (a shorter chain than Horner's; the 1
  // added last keeps the rounding of the rest below a quarter ulp).
  const __m256d r2 = _mm256_mul_pd(r, r), r4 = _mm256_mul_pd(r2, r2);
  const __m256d p23 = _mm256_fmadd_pd(taylor(3), r, taylor(2)), p45 = _mm256_fmadd_pd(taylor(5), r, taylor(4));
  const __m256d p67 = _mm256_fmadd_pd(taylor(7), r, taylor(6)), p89 = _mm256_fmadd_pd(taylor(9), r, taylor(8));
  const __m256d pab = _mm256_fmadd_pd(taylor(11), r, taylor(10)), pcd = _mm256_fmadd_pd(taylor(13), r, taylor(12));
  const __m256d p25 = _mm256_fmadd_pd(p45, r2, p23), p69 = _mm256_fmadd_pd(p89, r2, p67), pad = _mm256_fmadd_pd(pcd, r2, pab);
  const __m256d p = _mm256_fmadd_pd(_mm256_fmadd_pd(pad, r4, p69), r4, p25);
  const __m256d e = _mm256_add_pd(_mm256_set1_pd(1.0), _mm256_fmadd_pd(p, r2, r));
  const __m128i k = _mm256_cvtpd_epi32(n);
  const __m128i k1 = _mm_srai_epi32(k, 1);
  return _mm256_andnot_pd(below, _mm256_mul_pd(_mm256_mul_pd(e, pow2_pd(k1)), pow2_pd(_mm_sub_epi32(k, k1))));
}

NPW_TARGET_AVX2 double largest_avx2(const float* x, int n) {
  __m256 m = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int i = 0;
  for (; i + 8 <= n; i += 8) m = _mm256_max_ps(_mm256_loadu_ps(x + i), m);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  double best = largest_scalar(lanes, 8);
  for (; i < n; ++i) best = std::max(best, static_cast<double>(x[i]));
  return best;
}

template <bool kDivide>
NPW_TARGET_AVX2 inline __m256d exp_term(__m256d x, __m256d shift, __m256d divisor) {
  __m256d d = _mm256_sub_pd(x, shift);
  if (kDivide) d = _mm256_div_pd(d, divisor);
  return exp_pd(d);
}

template <bool kDivide, bool kWrite>
NPW_TARGET_AVX2 double exp_sum_avx2_loop(const float* x, int n, double shift, double divisor, double* w) {
  const __m256d s = _mm256_set1_pd(shift), dv = _mm256_set1_pd(divisor);
  __m256d acc = _mm256_setzero_pd();
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d e = exp_term<kDivide>(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), s, dv);
    if (kWrite) _mm256_storeu_pd(w + i, e);
    acc = _mm256_add_pd(acc, e);
  }
  if (i < n) {
    // The last 1-3 values through the same exp, the unused lanes dropped.
    alignas(16) float tail[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::copy(x + i, x + n, tail);
    alignas(32) double e[4];
    _mm256_store_pd(e, exp_term<kDivide>(_mm256_cvtps_pd(_mm_load_ps(tail)), s, dv));
    for (int j = 0; j < 4; ++j) {
      if (i + j >= n) e[j] = 0.0;
      else if (kWrite) w[i + j] = e[j];
    }
    acc = _mm256_add_pd(acc, _mm256_load_pd(e));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, acc);
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

double exp_sum_avx2(const float* x, int n, double shift, double divisor, double* w) {
  if (divisor != 1.0) {
    return w ? exp_sum_avx2_loop<true, true>(x, n, shift, divisor, w) : exp_sum_avx2_loop<true, false>(x, n, shift, divisor, w);
  }
  return w ? exp_sum_avx2_loop<false, true>(x, n, shift, divisor, w) : exp_sum_avx2_loop<false, false>(x, n, shift, divisor, w);
}

double exp_sum_any(const float* x, int n, double shift, double divisor, double* w) {
  if (n <= 0) return 0.0;
  switch (active_simd_level()) {
    case SimdLevel::Avx512: return exp_sum_avx512(x, n, shift, divisor, w);
    case SimdLevel::Avx2: return exp_sum_avx2(x, n, shift, divisor, w);
    default: return exp_sum_scalar(x, n, shift, divisor, w);
  }
}

}  // namespace

double largest_value(const float* x, int n) {
  if (n <= 0) return -std::numeric_limits<double>::infinity();
  switch (active_simd_level()) {
    case SimdLevel::Avx512: return largest_avx512(x, n);
    case SimdLevel::Avx2: return largest_avx2(x, n);
    default: return largest_scalar(x, n);
  }
}

double exp_sum(const float* x, int n, double shift, double divisor) { return exp_sum_any(x, n, shift, divisor, nullptr); }

double exp_values(const float* x, int n, double shift, double divisor, double* w) {
  return exp_sum_any(x, n, shift, divisor, w);
}

}  // namespace npw
