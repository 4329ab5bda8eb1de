// The int8 half of the attention tasks that make their scores with AVX512_VNNI's vpdpbusd: query rows
// and keys rounded to int8 (attention_int8_scores_avx512.cpp says how and why), and a block of scores.
// Shared by the task whose values are bf16 pairs (AVX512_BF16 CPUs: Zen 4, Zen 5) and the one whose
// values stay f32 (VNNI without bf16 products: Ice Lake, Tiger Lake, Cascade Lake). static inline with
// the VNNI target alone, so that both can inline it and no copy needs an instruction a CPU lacks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <immintrin.h>

#include "nn/attention_bf16_parts_avx512.h"
#include "nn/attention_kernels.h"
#include "util/prefetch.h"
#include "util/simd_target.h"
#include "util/vec_math_avx512.h"

namespace npw {
namespace attention_int8 {

// acc + the dot products of a's u8 quads with b's s8 quads (vpdpbusd), in the register that holds acc.
// Written with the intrinsic, GCC 12 copies each of a block's sums through a spare register and back
// at every vpdpbusd of a loop (two extra instructions each); the asm ties the sum to its register.
NPW_TARGET_AVX512_VNNI static inline __attribute__((always_inline)) __m512i dpbusd(__m512i acc, __m512i a, __m512i b) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

// Largest magnitude of 16 lanes of each of n vectors at p (n = d / 16).
NPW_TARGET_AVX512_VNNI static inline __attribute__((always_inline)) float abs_max(const float* p, const float* mean, int n) {
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
static inline float int8_factor(float m) {
  const float inv = m > 0.0f ? 127.0f / m : 0.0f;
  return inv <= std::numeric_limits<float>::max() ? inv : 0.0f;
}

// 16 values times inv rounded to the nearest integer (ties to even) and kept within +-127.
NPW_TARGET_AVX512_VNNI static inline __attribute__((always_inline)) __m512i round_127(__m512 x, __m512 inv) {
  const __m512i i = _mm512_cvtps_epi32(_mm512_mul_ps(x, inv));
  return _mm512_max_epi32(_mm512_min_epi32(i, _mm512_set1_epi32(127)), _mm512_set1_epi32(-127));
}

// What a block of scores leaves besides the scores: nothing; each row's largest (kRow: the 16 lanes
// vmax[16 r, 16 r + 16) raised to the scores row r sees); or each row's 16 lane maxima of the block's
// keys it sees (kChunk: at tops + r ldt + j0 / 4, -inf in lanes of no such key; a block is one 64-key
// chunk of the u8 softmax, which then folds 16 lanes of a chunk where it read 64 scores).
enum class Tops { kNone, kRow, kChunk };

// Scores of rows [0, RB) against keys [j0, j0 + 16 KB): s = ks_j (q8 . k8_j), the query row's own
// scale left for the softmax, and the maxima kTops asks for (the block's four vectors folded first,
// then one store or update of the row's lanes in memory: 24 accumulators, 4 key vectors and a
// broadcast leave no register for them). The keys are u8 quads k8 + 128 against the query's s8 quads,
// so the products carry 128 sum(q8), qc[r], which the sums start below. kPrefetch: key lines
// kAttentionInt8KeyPrefetchBytes further in each plane are asked for into the L2 (see score_rows).
template <int RB, int KB, int NQ, bool kAll, Tops kTops, bool kPrefetch>
NPW_TARGET_AVX512_VNNI static inline __attribute__((always_inline)) void score_block(
    const uint32_t* qq, const int* qc, const uint32_t* kq, int ldkq, const float* ks, int j0, const __mmask16* km,
    const int* lim, float* s, int lds, float* vmax, float* tops, int ldt) {
  constexpr bool kFold = kTops != Tops::kNone;  // the block's lanes folded per row
  static_assert(kTops != Tops::kChunk || 16 * KB == 64, "a block of scores is one chunk of the u8 softmax");
  __m512i acc[RB][KB];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) acc[r][c] = _mm512_set1_epi32(-qc[r]);
  const uint32_t* k = kq + j0;
  // Not unrolled: unrolled by 4, GCC 12 stored all 24 sums to the stack at every trip.
#pragma GCC unroll 1
  for (int p = 0; p < NQ; ++p) {
    const uint32_t* kr = k + static_cast<long>(p) * ldkq;
    __m512i kv[KB];
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) {
      kv[c] = kAll ? _mm512_loadu_si512(kr + 16 * c) : _mm512_maskz_loadu_epi32(km[c], kr + 16 * c);
    }
    if constexpr (kPrefetch) {
#pragma GCC unroll 16
      for (int c = 0; c < KB; ++c) prefetch_bytes_past<PrefetchTo::L2>(kr, kAttentionInt8KeyPrefetchBytes + 64 * c);
    }
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512i qv = _mm512_set1_epi32(static_cast<int>(qq[r * NQ + p]));
#pragma GCC unroll 16
      for (int c = 0; c < KB; ++c) acc[r][c] = dpbusd(acc[r][c], kv[c], qv);
    }
  }
  __m512 ksv[KB];
#pragma GCC unroll 16
  for (int c = 0; c < KB; ++c) ksv[c] = kAll ? _mm512_loadu_ps(ks + j0 + 16 * c) : _mm512_maskz_loadu_ps(km[c], ks + j0 + 16 * c);
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    __m512 top = _mm512_set1_ps(-INFINITY);
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) {
      const int jc = j0 + 16 * c;
      float* sr = s + static_cast<long>(r) * lds + jc;
      const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[r][c]), ksv[c]);
      if (kAll) {
        _mm512_storeu_ps(sr, v);
        if (kFold) top = _mm512_max_ps(top, v);
      } else {
        _mm512_mask_storeu_ps(sr, km[c], v);
        if (kFold) top = _mm512_mask_max_ps(top, static_cast<__mmask16>(km[c] & avx512::tail_mask(lim[r] - jc)), top, v);
      }
    }
    if (kTops == Tops::kRow) _mm512_store_ps(vmax + 16 * r, _mm512_max_ps(_mm512_load_ps(vmax + 16 * r), top));
    if (kTops == Tops::kChunk) _mm512_storeu_ps(tops + static_cast<long>(r) * ldt + j0 / 4, top);
  }
}

// Query rows [0, RB) of one head (d_head = 16 NV, rows ldq apart) as s8 quads qq[r * d_head / 4 + P],
// each row's scale qs[r] = max |q| / 127 and qc[r] = 128 times the sum of its int8 values (what the
// u8 keys' offset adds to each product, taken back off in score_block).
template <int RB, int NV>
NPW_TARGET_AVX512_VNNI static inline __attribute__((always_inline)) void quantize_queries(const float* q, int ldq,
                                                                                         uint32_t* qq, float* qs,
                                                                                         int* qc) {
  constexpr int NQ = 4 * NV;
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
}

constexpr int kKeyVectors = 4;  // 16-key vectors of scores per row in registers

// The int8 scores of query rows [0, RB) of one head (d_head = 16 NV) against the keys each sees: raw
// scores ks_j (q8 . k8_j) into s (rows lds apart), the maxima kTops asks for (kRow: each row's largest
// into row_max; kChunk: each 64-key chunk's lane maxima into tops, rows ldt floats apart), its query
// scale into qs and its key count into row_lim; returns the most keys any row sees (0: no key, and the
// rows' outputs were zeroed). prefetch: ask for the keys ahead, which pays where they come from memory
// (a decoder step's window keys) and costs where they are in the L2 (the blocks of rows after a
// task's first, which read the keys that block brought in): a 6-row block's scores against 1500
// L2-resident keys 513 -> 547 GOP/s without the hints (Xeon, one core, 4 alternations). Every task
// passes true for its first block of rows only.
template <int RB, int NV, Tops kTops = Tops::kRow>
NPW_TARGET_AVX512_VNNI static inline __attribute__((always_inline)) int score_rows(
    const float* q, int ldq, const uint32_t* kq, int ldkq, const float* ks, int n_keys, const int* lim, float* out,
    int ldo, float* s, int lds, int* row_lim, float* row_max, float* qs, bool prefetch, float* tops = nullptr,
    int ldt = 0) {
  constexpr bool kRowMax = kTops == Tops::kRow;
  constexpr int d_head = 16 * NV, NQ = d_head / 4, KB = kKeyVectors;
  const int nk = attention_avx512::block_limits<RB>(lim, n_keys, row_lim, out, ldo, d_head);
  if (nk == 0) return 0;
  alignas(64) uint32_t qq[RB * NQ];
  int qc[RB];
  quantize_queries<RB, NV>(q, ldq, qq, qs, qc);
  alignas(64) float vmax[RB * 16];
  if (kRowMax) std::fill(vmax, vmax + RB * 16, -INFINITY);
  for (int j0 = 0; j0 < nk; j0 += 16 * KB) {
    __mmask16 km[KB];
    const bool all = attention_avx512::key_block<RB, KB>(nk, j0, row_lim, km);
    if (all && !prefetch) {
      score_block<RB, KB, NQ, true, kTops, false>(qq, qc, kq, ldkq, ks, j0, km, row_lim, s, lds, vmax, tops, ldt);
    } else if (all) {
      score_block<RB, KB, NQ, true, kTops, true>(qq, qc, kq, ldkq, ks, j0, km, row_lim, s, lds, vmax, tops, ldt);
    } else {
      // A block some row's limit cuts is among the row block's last: what lies ahead of it is past the
      // keys.
      score_block<RB, KB, NQ, false, kTops, false>(qq, qc, kq, ldkq, ks, j0, km, row_lim, s, lds, vmax, tops, ldt);
    }
  }
  if (kRowMax) {
    for (int r = 0; r < RB; ++r) row_max[r] = _mm512_reduce_max_ps(_mm512_load_ps(vmax + 16 * r));
  }
  return nk;
}

}  // namespace attention_int8
}  // namespace npw
