// The second half of an AVX512_BF16 attention task, shared by the tasks whose scores are made in bf16
// (attention_bf16_avx512.cpp) and in int8 (attention_int8_scores_avx512.cpp): a row of raw scores
// turned into bf16 probability pairs, and the probabilities times the value pairs. static inline with
// the AVX512_BF16 target, as vec_math_avx512.h, so no out-of-line copy can reach a lesser CPU.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <immintrin.h>

#include "nn/attention_kernels.h"
#include "nn/attention_row_blocks.h"
#include "nn/bf16_pairs_avx512.h"
#include "util/simd_target.h"
#include "util/vec_math_avx512.h"

namespace npw {
namespace attention_avx512 {

NPW_TARGET_AVX512_BF16 static inline __attribute__((always_inline)) __m512bh as_bh(__m512i v) {
  return reinterpret_cast<__m512bh>(v);
}

// Row r of raw scores s[0, lim) (lim > 0) as bf16 probability pairs p[0, n_pairs), exp(alpha (s - max))
// unnormalised and zero past lim; returns 1 / their sum. Exps are base 2 with log2(e) folded into the
// scale, one fused multiply-subtract per vector.
NPW_TARGET_AVX512_BF16 static inline float softmax_pairs(const float* s, int lim, float row_max, float alpha, uint32_t* p,
                                                  int n_pairs) {
  const __m512 a2 = _mm512_set1_ps(alpha * exp_poly::kLog2e);
  const __m512 am = _mm512_set1_ps(row_max * (alpha * exp_poly::kLog2e));
  __m512 sum = _mm512_setzero_ps();
  for (int j = 0; j < n_pairs; j += 16) {
    // Keys [2j, 2j + 32) make pairs [j, j + 16).
    const int k0 = 2 * j;
    const __mmask16 m0 = avx512::tail_mask(lim - k0), m1 = avx512::tail_mask(lim - k0 - 16);
    const __m512 e0 =
        _mm512_maskz_mov_ps(m0, avx512::exp2_nonpositive_ps(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m0, s + k0), a2, am)));
    const __m512 e1 =
        _mm512_maskz_mov_ps(m1, avx512::exp2_nonpositive_ps(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m1, s + k0 + 16), a2, am)));
    sum = _mm512_add_ps(sum, _mm512_add_ps(e0, e1));
    _mm512_mask_storeu_epi32(p + j, avx512::tail_mask(n_pairs - j), avx512::pairs_of(e0, e1));
  }
  return 1.0f / _mm512_reduce_add_ps(sum);
}

// out rows [0, RB) = inv[r] * (p[r] . v) over value pairs [0, n_pairs), the whole head (NV vectors of 16).
template <int RB, int NV>
NPW_TARGET_AVX512_BF16 static inline void pv_block(const uint32_t* pp, int ldp, int n_pairs, const uint32_t* vp, int width,
                                            const float* inv, float* out, int ldo) {
  __m512 acc[RB][NV];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int jp = 0; jp < n_pairs; ++jp) {
    const uint32_t* vj = vp + static_cast<long>(jp) * width;
    __m512bh vv[NV];
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) vv[c] = as_bh(_mm512_loadu_si512(vj + 16 * c));
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512bh pr = as_bh(_mm512_set1_epi32(static_cast<int>(pp[static_cast<long>(r) * ldp + jp])));
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], pr, vv[c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    const __m512 sc = _mm512_set1_ps(inv[r]);
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + static_cast<long>(r) * ldo + 16 * c, _mm512_mul_ps(acc[r][c], sc));
  }
}

// The keys each row of a block sees (shared with the AVX-VNNI task).
using attention_rows::block_limits;

// The key block [j0, j0 + 16 KB) of a row block: km[c] masks its keys below nk; returns whether every
// row sees every key of it (so that the scores need no masking).
template <int RB, int KB>
NPW_TARGET_AVX512 static inline bool key_block(int nk, int j0, const int* row_lim, __mmask16* km) {
  bool all = nk - j0 >= 16 * KB;
  for (int r = 0; r < RB && all; ++r) all = row_lim[r] >= j0 + 16 * KB;
  for (int c = 0; c < KB; ++c) km[c] = avx512::tail_mask(nk - j0 - 16 * c);
  return all;
}

// The rest of a row block once its raw scores are in s (rows lds apart, keys [0, nk)): each row's
// exp(alpha[r] (s - row_max[r])) as probability pairs in pp, then out = their normalised products
// with the value pairs; a row that sees no key gets zeros.
template <int RB, int NV>
NPW_TARGET_AVX512_BF16 static inline void finish_rows(const float* s, int lds, const int* row_lim, int nk,
                                                      const float* row_max, const float* alpha, uint32_t* pp, int ldp,
                                                      const uint32_t* vp, int width, float* out, int ldo) {
  const int n_pairs = (nk + 1) / 2;
  float inv[RB];
  for (int r = 0; r < RB; ++r) {
    uint32_t* pr = pp + static_cast<long>(r) * ldp;
    if (row_lim[r] == 0) {
      std::memset(pr, 0, sizeof(uint32_t) * static_cast<std::size_t>(n_pairs));
      inv[r] = 0.0f;
    } else {
      inv[r] = softmax_pairs(s + static_cast<long>(r) * lds, row_lim[r], row_max[r], alpha[r], pr, n_pairs);
    }
  }
  pv_block<RB, NV>(pp, ldp, n_pairs, vp, width, inv, out, ldo);
}

// Query rows per register block of the AVX512_BF16 and int8-score tasks, and their walk over a tile.
using attention_rows::for_row_blocks;
using attention_rows::kTaskRowBlock;
static_assert(kAttentionBf16Avx512TileRows % kTaskRowBlock == 0, "the tasks' tiles are whole row blocks");

}  // namespace attention_avx512
}  // namespace npw
