// Vector forms of the width-7 median network; see median7_simd.h. Lane i of a vector holds the window
// that starts at padded[i], so the seven inputs are seven unaligned loads of overlapping memory and the
// network runs unchanged on whole vectors. The scalar network orders a pair as (std::min(a, b),
// std::max(a, b)), which on a tie (+0 against -0) gives a both times; minps/maxps return their second
// operand on a tie, so they take (b, a) to give the same bits.
#include "decode/median7_simd.h"

// GCC 12 reports its own intrinsics' undefined-vector idiom as (maybe-)uninitialised once inlined;
// silenced before the header is read, as in the other AVX-512 files.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "util/simd_target.h"

namespace npw {

// One comparator: x, y = min, max, operands swapped for the scalar network's ties (see above).
#define NPW_ORDER(x, y, MIN, MAX) \
  lo = MIN(y, x);                 \
  hi = MAX(y, x);                 \
  x = lo;                         \
  y = hi;
// median7_network's 16 comparators on vectors a..g of type V; leaves the middle in d.
#define NPW_MEDIAN7_NETWORK(V, MIN, MAX)                                         \
  do {                                                                           \
    V lo, hi;                                                                    \
    NPW_ORDER(a, g, MIN, MAX) NPW_ORDER(c, d, MIN, MAX) NPW_ORDER(e, f, MIN, MAX) \
    NPW_ORDER(a, c, MIN, MAX) NPW_ORDER(b, e, MIN, MAX) NPW_ORDER(d, g, MIN, MAX) \
    NPW_ORDER(a, b, MIN, MAX) NPW_ORDER(c, f, MIN, MAX) NPW_ORDER(d, e, MIN, MAX) \
    NPW_ORDER(b, c, MIN, MAX) NPW_ORDER(e, g, MIN, MAX)                           \
    NPW_ORDER(c, d, MIN, MAX) NPW_ORDER(e, f, MIN, MAX)                           \
    NPW_ORDER(b, c, MIN, MAX) NPW_ORDER(d, e, MIN, MAX) NPW_ORDER(f, g, MIN, MAX) \
  } while (0)

NPW_TARGET_AVX512 void median7_run_avx512(const float* padded, int n, float* out) {
  for (int i = 0; i < n; i += 16) {
    // The last vector's lanes past n read (and ignore) nothing: masked loads and store.
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    const float* p = padded + i;
    __m512 a = _mm512_maskz_loadu_ps(m, p), b = _mm512_maskz_loadu_ps(m, p + 1), c = _mm512_maskz_loadu_ps(m, p + 2),
           d = _mm512_maskz_loadu_ps(m, p + 3), e = _mm512_maskz_loadu_ps(m, p + 4), f = _mm512_maskz_loadu_ps(m, p + 5),
           g = _mm512_maskz_loadu_ps(m, p + 6);
    NPW_MEDIAN7_NETWORK(__m512, _mm512_min_ps, _mm512_max_ps);
    _mm512_mask_storeu_ps(out + i, m, d);
  }
}

NPW_TARGET_AVX512 bool any_nan_avx512(const float* x, int n) {
  __mmask16 nan = 0;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  }
  if (i < n) {
    const __m512 v = _mm512_maskz_loadu_ps(__mmask16((1u << (n - i)) - 1), x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  }
  return nan != 0;
}

NPW_TARGET_AVX2 bool any_nan_avx2(const float* x, int n) {
  __m256 nan = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  bool any = _mm256_movemask_ps(nan) != 0;
  for (; i < n; ++i) any |= x[i] != x[i];
  return any;
}

NPW_TARGET_AVX2 void median7_run_avx2(const float* padded, int n, float* out) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const float* p = padded + i;
    __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 1), c = _mm256_loadu_ps(p + 2), d = _mm256_loadu_ps(p + 3),
           e = _mm256_loadu_ps(p + 4), f = _mm256_loadu_ps(p + 5), g = _mm256_loadu_ps(p + 6);
    NPW_MEDIAN7_NETWORK(__m256, _mm256_min_ps, _mm256_max_ps);
    _mm256_storeu_ps(out + i, d);
  }
  if (i < n) {
    // The tail through a copy of its windows, so that no load passes the padded row's end.
    alignas(32) float tail[8 + 6] = {};
    for (int k = 0; k < n - i + 6; ++k) tail[k] = padded[i + k];
    alignas(32) float med[8];
    median7_run_avx2(tail, 8, med);
    for (int k = 0; k < n - i; ++k) out[i + k] = med[k];
  }
}

#undef NPW_MEDIAN7_NETWORK
#undef NPW_ORDER

}  // namespace npw
