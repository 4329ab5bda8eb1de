// AVX2 GELU, softmax and LayerNorm rows (see ops_simd.h). Compiled for AVX2 function by function
// (util/simd_target.h); only called after the run-time check in ops.cpp. Row tails go through
// masked loads and stores.
#include "nn/ops_simd.h"

#include <immintrin.h>

#include <cmath>

#include "util/vec_math_avx2.h"
#include "util/simd_target.h"

namespace npw {
namespace avx2 {

NPW_TARGET_AVX2 void gelu(float* x, std::size_t n) {
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 rsqrt2 = _mm256_set1_ps(0.70710678118654752f);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(v, half), _mm256_add_ps(one, erf_ps(_mm256_mul_ps(v, rsqrt2)))));
  }
  if (i < n) {
    const __m256i m = lane_mask(static_cast<int>(n - i));
    const __m256 v = _mm256_maskload_ps(x + i, m);
    _mm256_maskstore_ps(x + i, m, _mm256_mul_ps(_mm256_mul_ps(v, half), _mm256_add_ps(one, erf_ps(_mm256_mul_ps(v, rsqrt2)))));
  }
}

NPW_TARGET_AVX2 void softmax(float* x, int n) {
  if (n <= 0) return;
  const __m256 vmax = _mm256_set1_ps(row_max(x, n));
  __m256 sum = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 8) {
    const __m256i m = lane_mask(n - i);
    const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(m), exp_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), vmax)));
    _mm256_maskstore_ps(x + i, m, e);
    sum = _mm256_add_ps(sum, e);
  }
  const __m256 inv = _mm256_set1_ps(1.0f / hsum(sum));
  for (int i = 0; i < n; i += 8) {
    const __m256i m = lane_mask(n - i);
    _mm256_maskstore_ps(x + i, m, _mm256_mul_ps(_mm256_maskload_ps(x + i, m), inv));
  }
}

NPW_TARGET_AVX2 float row_max(const float* x, int n) {
  const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
  __m256 m0 = neg_inf, m1 = neg_inf;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + i));
    m1 = _mm256_max_ps(m1, _mm256_loadu_ps(x + i + 8));
  }
  for (; i < n; i += 8) {
    const __m256 keep = _mm256_castsi256_ps(lane_mask(n - i));
    m0 = _mm256_max_ps(m0, _mm256_blendv_ps(neg_inf, _mm256_maskload_ps(x + i, lane_mask(n - i)), keep));
  }
  return hmax(_mm256_max_ps(m0, m1));
}

NPW_TARGET_AVX2 float sum_exp(const float* x, int n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256 a0 = _mm256_setzero_ps(), a1 = a0;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_ps(a0, exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
    a1 = _mm256_add_ps(a1, exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), s)));
  }
  for (; i < n; i += 8) {
    const __m256i m = lane_mask(n - i);
    a0 = _mm256_add_ps(a0, _mm256_and_ps(_mm256_castsi256_ps(m), exp_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), s))));
  }
  return hsum(_mm256_add_ps(a0, a1));
}

NPW_TARGET_AVX2 void layer_norm_row(const float* x, int n, const float* w, const float* b, float eps, float* y) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
    s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + 8));
  }
  for (; i < n; i += 8) s0 = _mm256_add_ps(s0, _mm256_maskload_ps(x + i, lane_mask(n - i)));
  const double mean = static_cast<double>(hsum(_mm256_add_ps(s0, s1))) / n;
  const __m256 vm = _mm256_set1_ps(static_cast<float>(mean));
  __m256 q0 = _mm256_setzero_ps(), q1 = _mm256_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm);
    q0 = _mm256_fmadd_ps(d0, d0, q0);
    q1 = _mm256_fmadd_ps(d1, d1, q1);
  }
  for (; i < n; i += 8) {
    const __m256i m = lane_mask(n - i);
    const __m256 d = _mm256_and_ps(_mm256_castsi256_ps(m), _mm256_sub_ps(_mm256_maskload_ps(x + i, m), vm));
    q0 = _mm256_fmadd_ps(d, d, q0);
  }
  const double var = static_cast<double>(hsum(_mm256_add_ps(q0, q1))) / n;
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / std::sqrt(var + eps)));
  for (i = 0; i < n; i += 8) {
    const __m256i m = lane_mask(n - i);
    __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), vm), inv);
    if (w) v = _mm256_mul_ps(v, _mm256_maskload_ps(w + i, m));
    if (b) v = _mm256_add_ps(v, _mm256_maskload_ps(b + i, m));
    _mm256_maskstore_ps(y + i, m, v);
  }
}

}  // namespace avx2
}  // namespace npw
