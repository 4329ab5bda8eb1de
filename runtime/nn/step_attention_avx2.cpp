// AVX2 + FMA (+ F16C for half caches) kernels of the decoder's step attention (step_attention.h): dot
// products of one query head against cache rows, eight keys at a time (eight independent FMA chains,
// their sums gathered by horizontal adds), and the probability-weighted sum of value rows, up to 64
// output floats in registers. Called only at SimdLevel::Avx2 or above, with d a multiple of 8.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "nn/step_attention.h"
#include "util/horizontal_sum_avx2.h"
#include "util/simd_target.h"

namespace npw {

namespace {

// 8 cache elements as floats (halves widened exactly).
NPW_TARGET_AVX2 inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
NPW_TARGET_AVX2 inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

template <typename T>
NPW_TARGET_AVX2 void scores(const float* q, const T* k, int ldk, int n_kv, int d, float alpha, float* out) {
  const std::size_t lk = static_cast<std::size_t>(ldk);
  const __m128 a4 = _mm_set1_ps(alpha);
  int j = 0;
  for (; j + 8 <= n_kv; j += 8) {
    __m256 acc[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) acc[r] = _mm256_setzero_ps();
    const T* kj = k + j * lk;
    for (int i = 0; i < d; i += 8) {
      const __m256 qv = _mm256_loadu_ps(q + i);
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r) acc[r] = _mm256_fmadd_ps(qv, load8(kj + r * lk + i), acc[r]);
    }
    _mm_storeu_ps(out + j, _mm_mul_ps(a4, hsum8x4(acc[0], acc[1], acc[2], acc[3])));
    _mm_storeu_ps(out + j + 4, _mm_mul_ps(a4, hsum8x4(acc[4], acc[5], acc[6], acc[7])));
  }
  // Leftover keys summed in the order of a block's (hsum8x4 with zeros): a key's score then does not
  // depend on where a call's keys begin, so a shared prefix and the rest give the bits of one run.
  const __m256 z = _mm256_setzero_ps();
  for (; j < n_kv; ++j) {
    const T* kj = k + j * lk;
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < d; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8(kj + i), acc);
    out[j] = _mm_cvtss_f32(_mm_mul_ss(a4, hsum8x4(acc, z, z, z)));
  }
}

// out[0, 8C) = sum_j p[j] v_j[0, 8C): C accumulators, each value row's 8C elements read once; the
// rows of the second run continue the same sums.
template <int C, typename T>
NPW_TARGET_AVX2 inline void weighted_chunk(const float* p, const T* v0, int n0, const T* v1, int n1,
                                           std::size_t ldv, float* out) {
  __m256 acc[C];
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
  // (A loop over the two runs, not a lambda: a lambda would not inherit the target attribute.)
  for (int part = 0; part < 2; ++part) {
    const float* pr = part == 0 ? p : p + n0;
    const T* v = part == 0 ? v0 : v1;
    const int n = part == 0 ? n0 : n1;
    for (int j = 0; j < n; ++j) {
      const __m256 pj = _mm256_broadcast_ss(pr + j);
      const T* vj = v + j * ldv;
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[c] = _mm256_fmadd_ps(pj, load8(vj + 8 * c), acc[c]);
    }
  }
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + 8 * c, acc[c]);
}

template <typename T>
NPW_TARGET_AVX2 void weighted_sum(const float* p, const T* v0, int n0, const T* v1, int n1, int ldv, int d,
                                  float* out) {
  const std::size_t lv = static_cast<std::size_t>(ldv);
  int i = 0;
  for (; i + 64 <= d; i += 64) weighted_chunk<8>(p, v0 + i, n0, v1 + i, n1, lv, out + i);
  for (; i + 32 <= d; i += 32) weighted_chunk<4>(p, v0 + i, n0, v1 + i, n1, lv, out + i);
  for (; i < d; i += 8) weighted_chunk<1>(p, v0 + i, n0, v1 + i, n1, lv, out + i);
}

}  // namespace

NPW_TARGET_AVX2 void step_scores_avx2(const float* q, const float* k, int ldk, int n_kv, int d, float alpha,
                                      float* out) {
  scores(q, k, ldk, n_kv, d, alpha, out);
}
NPW_TARGET_AVX2 void step_scores_avx2(const float* q, const uint16_t* k, int ldk, int n_kv, int d, float alpha,
                                      float* out) {
  scores(q, k, ldk, n_kv, d, alpha, out);
}
NPW_TARGET_AVX2 void step_weighted_sum_avx2(const float* p, const float* v0, int n0, const float* v1, int n1, int ldv,
                                            int d, float* out) {
  weighted_sum(p, v0, n0, v1, n1, ldv, d, out);
}
NPW_TARGET_AVX2 void step_weighted_sum_avx2(const float* p, const uint16_t* v0, int n0, const uint16_t* v1, int n1,
                                            int ldv, int d, float* out) {
  weighted_sum(p, v0, n0, v1, n1, ldv, d, out);
}

}  // namespace npw
