// AVX-512 GELU and softmax (see ops_simd.h). Compiled for AVX-512 function by function
// (util/simd_target.h); only called after the run-time check in ops.cpp.
#include "nn/ops_simd.h"

#include <cmath>

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "util/simd_target.h"


#include "util/vec_math_avx512.h"

namespace npw {
namespace avx512 {

// Whole vectors without masks, then the tail: a mask made per vector cost 8-10 % of this loop (Zen 5).
NPW_TARGET_AVX512 void gelu(float* x, std::size_t n) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, gelu_ps(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, m, gelu_ps(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

NPW_TARGET_AVX512 void softmax(float* x, int n) {
  if (n <= 0) return;
  const std::size_t un = static_cast<std::size_t>(n);
  const __m512 vmax = _mm512_set1_ps(row_max(x, n));
  __m512 sum = _mm512_setzero_ps();
  for (std::size_t i = 0; i < un; i += 16) {
    const __mmask16 m = tail_mask(un - i);
    const __m512 e = _mm512_maskz_mov_ps(m, exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vmax)));
    _mm512_mask_storeu_ps(x + i, m, e);
    sum = _mm512_add_ps(sum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
  for (std::size_t i = 0; i < un; i += 16) {
    const __mmask16 m = tail_mask(un - i);
    _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
  }
}

NPW_TARGET_AVX512 float row_max(const float* x, int n) {
  const std::size_t un = static_cast<std::size_t>(n);
  __m512 m0 = _mm512_set1_ps(-INFINITY), m1 = m0;
  std::size_t i = 0;
  for (; i + 32 <= un; i += 32) {
    m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i));
    m1 = _mm512_max_ps(m1, _mm512_loadu_ps(x + i + 16));
  }
  for (; i < un; i += 16) {
    const __mmask16 m = tail_mask(un - i);
    m0 = _mm512_mask_max_ps(m0, m, m0, _mm512_maskz_loadu_ps(m, x + i));
  }
  return _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
}

NPW_TARGET_AVX512 float sum_exp(const float* x, int n, float shift) {
  const std::size_t un = static_cast<std::size_t>(n);
  const __m512 s = _mm512_set1_ps(shift);
  __m512 a0 = _mm512_setzero_ps(), a1 = a0;
  std::size_t i = 0;
  for (; i + 32 <= un; i += 32) {
    a0 = _mm512_add_ps(a0, exp_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), s)));
    a1 = _mm512_add_ps(a1, exp_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), s)));
  }
  for (; i < un; i += 16) {
    const __mmask16 m = tail_mask(un - i);
    a0 = _mm512_add_ps(a0, _mm512_maskz_mov_ps(m, exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s))));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

NPW_TARGET_AVX512 void layer_norm_row(const float* x, int n, const float* w, const float* b, float eps, float* y) {
  const std::size_t un = static_cast<std::size_t>(n);
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= un; i += 32) {
    s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + i));
    s1 = _mm512_add_ps(s1, _mm512_loadu_ps(x + i + 16));
  }
  for (; i < un; i += 16) s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(tail_mask(un - i), x + i));
  const double mean = static_cast<double>(_mm512_reduce_add_ps(_mm512_add_ps(s0, s1))) / n;
  const __m512 vm = _mm512_set1_ps(static_cast<float>(mean));
  __m512 q0 = _mm512_setzero_ps(), q1 = _mm512_setzero_ps();
  for (i = 0; i + 32 <= un; i += 32) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), vm);
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), vm);
    q0 = _mm512_fmadd_ps(d0, d0, q0);
    q1 = _mm512_fmadd_ps(d1, d1, q1);
  }
  for (; i < un; i += 16) {
    const __mmask16 m = tail_mask(un - i);
    const __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), vm);
    q0 = _mm512_fmadd_ps(d, d, q0);
  }
  const double var = static_cast<double>(_mm512_reduce_add_ps(_mm512_add_ps(q0, q1))) / n;
  const __m512 inv = _mm512_set1_ps(static_cast<float>(1.0 / std::sqrt(var + eps)));
  for (i = 0; i < un; i += 16) {
    const __mmask16 m = tail_mask(un - i);
    __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vm), inv);
    if (w) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, w + i));
    if (b) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, b + i));
    _mm512_mask_storeu_ps(y + i, m, v);
  }
}

}  // namespace avx512
}  // namespace npw

