// The reduced-precision attention task with its scores made in int8 (AVX-512 VNNI) and its weighted
// sum of values in bf16 (AVX512_BF16), for CPUs with both but no AMX tile unit (Zen 4, Zen 5). A
// vpdpbusd does 64 multiply-adds where a vdpbf16ps does 32, so the scores, half of a task's products,
// cost half as many instructions as in the bf16 task (attention_bf16_avx512.cpp), whose softmax and
// value half this task shares (attention_bf16_parts_avx512.h).
//
// Quantisation follows SageAttention (Zhang et al., 2024): the keys are first "smoothed", the mean
// over the call's keys subtracted from each (which shifts every score of a query row by the same
// q . mean and so leaves the softmax unchanged, while the keys' common offset no longer eats into their
// 8 bits); then each key and each query row of a head is rounded to int8 with its own scale. The
// probabilities and values stay bf16: a peaked attention's many small probabilities, which int8 would
// round to zero, add up.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "nn/attention_kernels.h"

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "nn/attention_bf16_parts_avx512.h"
#include "util/simd_target.h"
#include "util/vec_math_avx512.h"

namespace npw {

namespace {

using attention_avx512::block_limits;
using attention_avx512::finish_rows;
using attention_avx512::key_block;

constexpr int kRowBlock = 6;    // query rows sharing each loaded key or value vector
constexpr int kKeyVectors = 4;  // 16-key vectors of scores per row in registers
static_assert(kAttentionBf16Avx512TileRows % kRowBlock == 0, "tiles of whole row blocks");

// Largest magnitude of 16 lanes of each of n vectors at p (n = d / 16).
NPW_TARGET_AVX512_BF16_VNNI inline float abs_max(const float* p, const float* mean, int n) {
  __m512 m = _mm512_setzero_ps();
  for (int i = 0; i < n; ++i) {
    __m512 x = _mm512_loadu_ps(p + 16 * i);
    if (mean) x = _mm512_sub_ps(x, _mm512_loadu_ps(mean + 16 * i));
    m = _mm512_max_ps(m, _mm512_abs_ps(x));
  }
  return _mm512_reduce_max_ps(m);
}

// 127 / m, the factor that takes values of largest magnitude m to +-127; 0 where m is 0 or so small
// (below ~4e-37) that the factor would overflow: such a row or key counts as all zeros.
inline float int8_factor(float m) {
  const float inv = m > 0.0f ? 127.0f / m : 0.0f;
  return inv <= std::numeric_limits<float>::max() ? inv : 0.0f;
}

// 16 values times inv rounded to the nearest integer (ties to even) and kept within +-127.
NPW_TARGET_AVX512_BF16_VNNI inline __m512i round_127(__m512 x, __m512 inv) {
  const __m512i i = _mm512_cvtps_epi32(_mm512_mul_ps(x, inv));
  return _mm512_max_epi32(_mm512_min_epi32(i, _mm512_set1_epi32(127)), _mm512_set1_epi32(-127));
}

// Scores of rows [0, RB) against keys [j0, j0 + 16 KB): s = ks_j (q8 . k8_j), the query row's own
// scale left for the softmax, and the 16 lanes vmax[16 r, 16 r + 16) raised to the scores row r sees.
// The maxima stay in memory: 24 accumulators, 4 key vectors and a broadcast leave no register for
// them. The keys are u8 quads k8 + 128 against the query's s8 quads, so the products carry
// 128 sum(q8), qc[r], which is taken back off.
template <int RB, int KB, int NQ, bool kAll>
NPW_TARGET_AVX512_BF16_VNNI inline void score_block(const uint32_t* qq, const int* qc, const uint32_t* kq, int ldkq,
                                                    const float* ks, int j0, const __mmask16* km, const int* lim,
                                                    float* s, int lds, float* vmax) {
  __m512i acc[RB][KB];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) acc[r][c] = _mm512_setzero_si512();
  const uint32_t* k = kq + j0;
#pragma GCC unroll 4
  for (int p = 0; p < NQ; ++p) {
    const uint32_t* kr = k + static_cast<long>(p) * ldkq;
    __m512i kv[KB];
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) {
      kv[c] = kAll ? _mm512_loadu_si512(kr + 16 * c) : _mm512_maskz_loadu_epi32(km[c], kr + 16 * c);
    }
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512i qv = _mm512_set1_epi32(static_cast<int>(qq[r * NQ + p]));
#pragma GCC unroll 16
      for (int c = 0; c < KB; ++c) acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], kv[c], qv);
    }
  }
#pragma GCC unroll 16
  for (int c = 0; c < KB; ++c) {
    const int jc = j0 + 16 * c;
    const __m512 ksv = kAll ? _mm512_loadu_ps(ks + jc) : _mm512_maskz_loadu_ps(km[c], ks + jc);
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      float* sr = s + static_cast<long>(r) * lds + jc;
      const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][c], _mm512_set1_epi32(qc[r]))), ksv);
      const __m512 m = _mm512_load_ps(vmax + 16 * r);
      if (kAll) {
        _mm512_storeu_ps(sr, v);
        _mm512_store_ps(vmax + 16 * r, _mm512_max_ps(m, v));
      } else {
        _mm512_mask_storeu_ps(sr, km[c], v);
        _mm512_store_ps(vmax + 16 * r,
                        _mm512_mask_max_ps(m, static_cast<__mmask16>(km[c] & avx512::tail_mask(lim[r] - jc)), m, v));
      }
    }
  }
}

// Query rows [0, RB) of one head, d_head = 16 NV: the whole task for those rows.
template <int RB, int NV>
NPW_TARGET_AVX512_BF16_VNNI void rows_block(const float* q, int ldq, const uint32_t* kq, int ldkq, const float* ks,
                                            int n_keys, const uint32_t* vp, int width, float alpha,
                                            const int* lim, float* out, int ldo, float* s, int lds, uint32_t* pp,
                                            int ldp) {
  constexpr int d_head = 16 * NV, NQ = d_head / 4, KB = kKeyVectors;
  int row_lim[RB];
  const int nk = block_limits<RB>(lim, n_keys, row_lim, out, ldo, d_head);  // keys any row of the block sees
  if (nk == 0) return;

  // Each query row as s8 quads with its scale and 128 times the sum of its values.
  alignas(64) uint32_t qq[RB * NQ];
  float qs[RB];
  int qc[RB];
  for (int r = 0; r < RB; ++r) {
    const float* qr = q + static_cast<long>(r) * ldq;
    const float m = abs_max(qr, nullptr, NV);
    qs[r] = m / 127.0f;
    const __m512 inv = _mm512_set1_ps(int8_factor(m));
    __m512i sum = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c) {
      const __m512i i = round_127(_mm512_loadu_ps(qr + 16 * c), inv);
      sum = _mm512_add_epi32(sum, i);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qq + r * NQ + 4 * c), _mm512_cvtepi32_epi8(i));
    }
    qc[r] = 128 * _mm512_reduce_add_epi32(sum);
  }

  alignas(64) float vmax[RB * 16];
  std::fill(vmax, vmax + RB * 16, -INFINITY);
  for (int j0 = 0; j0 < nk; j0 += 16 * KB) {
    __mmask16 km[KB];
    if (key_block<RB, KB>(nk, j0, row_lim, km)) {
      score_block<RB, KB, NQ, true>(qq, qc, kq, ldkq, ks, j0, km, row_lim, s, lds, vmax);
    } else {
      score_block<RB, KB, NQ, false>(qq, qc, kq, ldkq, ks, j0, km, row_lim, s, lds, vmax);
    }
  }

  // The query row's scale goes into the softmax's.
  float row_max[RB], row_alpha[RB];
  for (int r = 0; r < RB; ++r) {
    row_max[r] = _mm512_reduce_max_ps(_mm512_load_ps(vmax + 16 * r));
    row_alpha[r] = alpha * qs[r];
  }
  finish_rows<RB, NV>(s, lds, row_lim, nk, row_max, row_alpha, pp, ldp, vp, width, out, ldo);
}

template <int NV>
NPW_TARGET_AVX512_BF16_VNNI void task_nv(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq,
                                         const float* ks, int n_keys, const uint32_t* vp, int width,
                                         float alpha, const int* lim, float* out, int ldo, float* s, int lds,
                                         uint32_t* pp, int ldp) {
  int r = 0;
  for (; r + kRowBlock <= rows; r += kRowBlock) {
    rows_block<kRowBlock, NV>(q + static_cast<long>(r) * ldq, ldq, kq, ldkq, ks, n_keys, vp, width, alpha, lim + r,
                              out + static_cast<long>(r) * ldo, ldo, s, lds, pp, ldp);
  }
  const float* qr = q + static_cast<long>(r) * ldq;
  float* o = out + static_cast<long>(r) * ldo;
  switch (rows - r) {
#define NPW_ROWS_TAIL(n)                                                                                          \
  case n:                                                                                                         \
    rows_block<n, NV>(qr, ldq, kq, ldkq, ks, n_keys, vp, width, alpha, lim + r, o, ldo, s, lds, pp, ldp); \
    break;
    NPW_ROWS_TAIL(5)
    NPW_ROWS_TAIL(4)
    NPW_ROWS_TAIL(3)
    NPW_ROWS_TAIL(2)
    NPW_ROWS_TAIL(1)
#undef NPW_ROWS_TAIL
    default: break;
  }
  static_assert(kRowBlock == 6, "the tail cases above cover kRowBlock - 1 rows");
}

}  // namespace

NPW_TARGET_AVX512_BF16_VNNI void attention_int8_key_means(const float* k, int ldk, int n_kv, int c0, int c1,
                                                          float* mean) {
  const float inv = n_kv > 0 ? 1.0f / static_cast<float>(n_kv) : 0.0f;
  for (int c = c0; c < c1; c += 16) {
    const __mmask16 m = avx512::tail_mask(c1 - c);
    // Four partial sums so that the adds of consecutive keys do not wait on each other.
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int j = 0;
    for (; j + 4 <= n_kv; j += 4) {
      for (int u = 0; u < 4; ++u) {
        acc[u] = _mm512_add_ps(acc[u], _mm512_maskz_loadu_ps(m, k + static_cast<long>(j + u) * ldk + c));
      }
    }
    for (; j < n_kv; ++j) acc[0] = _mm512_add_ps(acc[0], _mm512_maskz_loadu_ps(m, k + static_cast<long>(j) * ldk + c));
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    _mm512_mask_storeu_ps(mean + c, m, _mm512_mul_ps(sum, _mm512_set1_ps(inv)));
  }
}

NPW_TARGET_AVX512_BF16_VNNI void attention_int8_convert_keys(const float* k, int ldk, int n_kv, int width, int d_head,
                                                             const float* mean, uint32_t* kq, int ldkq, float* kscale) {
  const int nv = d_head / 16, nq = d_head / 4, n_head = width / d_head;
  const __m512i stride = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(ldkq));
  for (int j = 0; j < n_kv; ++j) {
    const float* row = k + static_cast<long>(j) * ldk;
    for (int h = 0; h < n_head; ++h) {
      const float* x = row + h * d_head;
      const float* mu = mean + h * d_head;
      const float m = abs_max(x, mu, nv);
      const float scale = m / 127.0f;
      const __m512 inv = _mm512_set1_ps(int8_factor(m));
      // The head's d_head values k8 + 128 as nq quads of u8, 16 quads (64 values) per vector.
      alignas(64) uint8_t bytes[64];
      for (int c = 0; c < nv; ++c) {
        const __m512i i = round_127(_mm512_sub_ps(_mm512_loadu_ps(x + 16 * c), _mm512_loadu_ps(mu + 16 * c)), inv);
        _mm_store_si128(reinterpret_cast<__m128i*>(bytes + 16 * c),
                        _mm512_cvtepi32_epi8(_mm512_add_epi32(i, _mm512_set1_epi32(128))));
      }
      const __m512i quads = _mm512_maskz_loadu_epi32(avx512::tail_mask(nq), bytes);
      _mm512_mask_i32scatter_epi32(kq + static_cast<long>(h * nq) * ldkq + j, avx512::tail_mask(nq), stride, quads, 4);
      kscale[static_cast<long>(h) * ldkq + j] = scale;
    }
  }
}

NPW_TARGET_AVX512_BF16_VNNI void attention_task_int8_scores_avx512(const float* q, int ldq, int rows,
                                                                   const uint32_t* kq, int ldkq, const float* kscale,
                                                                   int n_keys, const uint32_t* vp,
                                                                   int width, int d_head, float alpha, const int* lim,
                                                                   float* out, int ldo, float* s, int lds,
                                                                   uint32_t* pp, int ldp) {
  switch (d_head / 16) {
    case 1: task_nv<1>(q, ldq, rows, kq, ldkq, kscale, n_keys, vp, width, alpha, lim, out, ldo, s, lds, pp, ldp); break;
    case 2: task_nv<2>(q, ldq, rows, kq, ldkq, kscale, n_keys, vp, width, alpha, lim, out, ldo, s, lds, pp, ldp); break;
    case 4: task_nv<4>(q, ldq, rows, kq, ldkq, kscale, n_keys, vp, width, alpha, lim, out, ldo, s, lds, pp, ldp); break;
    default: break;  // attention_bf16_takes() excludes the rest
  }
}

}  // namespace npw
