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

// The scores of one block of K keys (K = 1, 2, 4 or 8) for R query rows (one, or rows that share the
// keys: a prefix every beam reads): each key's vectors widened once and fed to R FMAs. Every key is
// its own chain over d in order and its lanes are summed by hsum8x4 four keys at a time, a key's sum
// unaffected by its neighbours (zeros fill a short group): a score does not depend on the block it
// was made in, so a shared prefix and the rest give the bits of one run, and a row's bits do not
// depend on its company.
template <int R, int K, typename T>
NPW_TARGET_AVX2 inline void scores_block(const float* const* q, const T* kj, std::size_t lk, int d, __m128 a4,
                                         float* const* out, int j) {
  __m256 acc[R][K];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < K; ++c) acc[r][c] = _mm256_setzero_ps();
  for (int i = 0; i < d; i += 8) {
    __m256 kv[K];
#pragma GCC unroll 8
    for (int c = 0; c < K; ++c) kv[c] = load8(kj + c * lk + i);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 qv = _mm256_loadu_ps(q[r] + i);
#pragma GCC unroll 8
      for (int c = 0; c < K; ++c) acc[r][c] = _mm256_fmadd_ps(qv, kv[c], acc[r][c]);
    }
  }
  const __m256 z = _mm256_setzero_ps();
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int c0 = 0; c0 < K; c0 += 4) {
      const __m128 s = _mm_mul_ps(a4, hsum8x4(acc[r][c0], c0 + 1 < K ? acc[r][c0 + 1 < K ? c0 + 1 : c0] : z,
                                              c0 + 2 < K ? acc[r][c0 + 2 < K ? c0 + 2 : c0] : z,
                                              c0 + 3 < K ? acc[r][c0 + 3 < K ? c0 + 3 : c0] : z));
      if (K >= 4) {
        _mm_storeu_ps(out[r] + j + c0, s);
      } else {
        alignas(16) float t[4];
        _mm_store_ps(t, s);
#pragma GCC unroll 4
        for (int c = 0; c < K; ++c) out[r][j + c] = t[c];
      }
    }
  }
}

// R rows over keys [0, n_kv): blocks of eight keys for one row (eight independent FMA chains), four
// for two rows, two for more (up to 10 sums: with the key and query vectors within AVX2's 16
// registers), the last keys one by one.
template <int R, typename T>
NPW_TARGET_AVX2 void scores_rows(const float* const* q, const T* k, int ldk, int n_kv, int d, float alpha,
                                 float* const* out) {
  constexpr int K = R == 1 ? 8 : R == 2 ? 4 : 2;
  const std::size_t lk = static_cast<std::size_t>(ldk);
  const __m128 a4 = _mm_set1_ps(alpha);
  int j = 0;
  for (; j + K <= n_kv; j += K) scores_block<R, K>(q, k + j * lk, lk, d, a4, out, j);
  for (; j < n_kv; ++j) scores_block<R, 1>(q, k + j * lk, lk, d, a4, out, j);
}

// out_r[0, d) = sum_{j < n} p_r[j] v_j for R rows over the same value rows, 16 outputs (two vectors) a
// pass: each value vector widened once for R FMAs; every output lane sums over j in order, as
// weighted_chunk's do, so the bits are the one-row kernel's.
template <int R, typename T>
NPW_TARGET_AVX2 void weighted_rows(const float* const* p, const T* v, int n, std::size_t lv, int d,
                                   float* const* out) {
  int i = 0;
  for (; i + 16 <= d; i += 16) {
    __m256 acc[R][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int j = 0; j < n; ++j) {
      const T* vj = v + j * lv + i;
      const __m256 v0 = load8(vj), v1 = load8(vj + 8);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256 pj = _mm256_broadcast_ss(p[r] + j);
        acc[r][0] = _mm256_fmadd_ps(pj, v0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(pj, v1, acc[r][1]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(out[r] + i, acc[r][0]);
      _mm256_storeu_ps(out[r] + i + 8, acc[r][1]);
    }
  }
  if (i < d) {  // d = 16 k + 8
    __m256 acc[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int j = 0; j < n; ++j) {
      const __m256 vv = load8(v + j * lv + i);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(p[r] + j), vv, acc[r]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) _mm256_storeu_ps(out[r] + i, acc[r]);
  }
}

// out[0, 8C) = sum_j p[j] v_j[0, 8C): C accumulators, each value row's 8C elements read once; the
// rows of the second run continue the same sums.
// With kMore the sums start from out's values instead of zeros (the rest of a row whose shared prefix
// weighted_rows summed).
template <int C, bool kMore, typename T>
NPW_TARGET_AVX2 inline void weighted_chunk(const float* p, const T* v0, int n0, const T* v1, int n1,
                                           std::size_t ldv, float* out) {
  __m256 acc[C];
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) acc[c] = kMore ? _mm256_loadu_ps(out + 8 * c) : _mm256_setzero_ps();
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

template <bool kMore, typename T>
NPW_TARGET_AVX2 void weighted_sum(const float* p, const T* v0, int n0, const T* v1, int n1, int ldv, int d,
                                  float* out) {
  const std::size_t lv = static_cast<std::size_t>(ldv);
  int i = 0;
  for (; i + 64 <= d; i += 64) weighted_chunk<8, kMore>(p, v0 + i, n0, v1 + i, n1, lv, out + i);
  for (; i + 32 <= d; i += 32) weighted_chunk<4, kMore>(p, v0 + i, n0, v1 + i, n1, lv, out + i);
  for (; i < d; i += 8) weighted_chunk<1, kMore>(p, v0 + i, n0, v1 + i, n1, lv, out + i);
}

// R = n_rows dispatched (1..kStepGroupRows), five rows at most a pass.
template <typename T>
NPW_TARGET_AVX2 void scores_rows_any(const float* const* q, int n_rows, const T* k, int ldk, int n_kv, int d,
                                     float alpha, float* const* out) {
  for (int r = 0; r < n_rows; r += 5) {
    switch (n_rows - r < 5 ? n_rows - r : 5) {
      case 1: scores_rows<1>(q + r, k, ldk, n_kv, d, alpha, out + r); break;
      case 2: scores_rows<2>(q + r, k, ldk, n_kv, d, alpha, out + r); break;
      case 3: scores_rows<3>(q + r, k, ldk, n_kv, d, alpha, out + r); break;
      case 4: scores_rows<4>(q + r, k, ldk, n_kv, d, alpha, out + r); break;
      default: scores_rows<5>(q + r, k, ldk, n_kv, d, alpha, out + r); break;
    }
  }
}
template <typename T>
NPW_TARGET_AVX2 void weighted_rows_any(const float* const* p, int n_rows, const T* v, int n, int ldv, int d,
                                       float* const* out) {
  const std::size_t lv = static_cast<std::size_t>(ldv);
  for (int r = 0; r < n_rows; r += 5) {
    switch (n_rows - r < 5 ? n_rows - r : 5) {
      case 1: weighted_rows<1>(p + r, v, n, lv, d, out + r); break;
      case 2: weighted_rows<2>(p + r, v, n, lv, d, out + r); break;
      case 3: weighted_rows<3>(p + r, v, n, lv, d, out + r); break;
      case 4: weighted_rows<4>(p + r, v, n, lv, d, out + r); break;
      default: weighted_rows<5>(p + r, v, n, lv, d, out + r); break;
    }
  }
}

}  // namespace

NPW_TARGET_AVX2 void step_scores_avx2(const float* q, const float* k, int ldk, int n_kv, int d, float alpha,
                                      float* out) {
  scores_rows<1>(&q, k, ldk, n_kv, d, alpha, &out);
}
NPW_TARGET_AVX2 void step_scores_avx2(const float* q, const uint16_t* k, int ldk, int n_kv, int d, float alpha,
                                      float* out) {
  scores_rows<1>(&q, k, ldk, n_kv, d, alpha, &out);
}
NPW_TARGET_AVX2 void step_weighted_sum_avx2(const float* p, const float* v0, int n0, const float* v1, int n1, int ldv,
                                            int d, float* out) {
  weighted_sum<false>(p, v0, n0, v1, n1, ldv, d, out);
}
NPW_TARGET_AVX2 void step_weighted_sum_avx2(const float* p, const uint16_t* v0, int n0, const uint16_t* v1, int n1,
                                            int ldv, int d, float* out) {
  weighted_sum<false>(p, v0, n0, v1, n1, ldv, d, out);
}
NPW_TARGET_AVX2 void step_weighted_sum_more_avx2(const float* p, const float* v, int n, int ldv, int d, float* out) {
  weighted_sum<true>(p, v, n, v, 0, ldv, d, out);
}
NPW_TARGET_AVX2 void step_weighted_sum_more_avx2(const float* p, const uint16_t* v, int n, int ldv, int d,
                                                 float* out) {
  weighted_sum<true>(p, v, n, v, 0, ldv, d, out);
}
NPW_TARGET_AVX2 void step_scores_rows_avx2(const float* const* q, int n_rows, const float* k, int ldk, int n_kv, int d,
                                           float alpha, float* const* scores) {
  scores_rows_any(q, n_rows, k, ldk, n_kv, d, alpha, scores);
}
NPW_TARGET_AVX2 void step_scores_rows_avx2(const float* const* q, int n_rows, const uint16_t* k, int ldk, int n_kv,
                                           int d, float alpha, float* const* scores) {
  scores_rows_any(q, n_rows, k, ldk, n_kv, d, alpha, scores);
}
NPW_TARGET_AVX2 void step_weighted_sum_rows_avx2(const float* const* p, int n_rows, const float* v, int n, int ldv,
                                                 int d, float* const* out) {
  weighted_rows_any(p, n_rows, v, n, ldv, d, out);
}
NPW_TARGET_AVX2 void step_weighted_sum_rows_avx2(const float* const* p, int n_rows, const uint16_t* v, int n, int ldv,
                                                 int d, float* const* out) {
  weighted_rows_any(p, n_rows, v, n, ldv, d, out);
}

}  // namespace npw
