// AVX-512 attention kernel (see attention_kernels.h), flash-style: per block of 64 keys, the scores
// of 6 query rows sit in 24 registers (keys transposed, 16 consecutive keys per vector), are turned
// into exps against a running row max right there, and only the block's probabilities (tile rows x
// 64 floats, L1-resident) are stored for the weighted sum of values, whose register block is up to 8
// rows x the whole head. No n_keys-wide score row is ever written. Tails use masked loads and stores.
// Everything called inside the register blocks is inlined: a call there would spill all 24 scores.
// While the first row group works on a block, the next block's keys and values are asked for (into
// L2), a line per row of each: with a few query rows (the beams of a decoder step over a window's
// 1500 frames) a block's arithmetic is short and the out-of-order window alone kept too few of its
// 64 strided key rows in flight, so the loads, not the FMAs, set the pace.
#include "nn/attention_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "nn/attention_f32_parts_avx512.h"
#include "util/simd_target.h"
#include "util/vec_math_avx512.h"

namespace npw {

namespace {

using attention_f32::load16;
using attention_f32::prefetch_l2;
using attention_f32::pv_block;

// Rows [0, RB) of one block of 16 KB keys: scores in registers, masked to the keys each row sees,
// then the running softmax: m (row max so far) and lv (the row's sum of exps so far, kept as 16
// partial sums so no block pays a horizontal add) updated, scale[r] = exp(old m - new m) for the
// row's partial output (one vector exp for all rows of the block, not a libm call per row), and
// exp(s - m) written to p (zeros where masked). kAll: every row sees every key of the block (the
// encoder's blocks but its last), so no mask is computed at all. The raw scores go through p: the
// exps then have the registers their constants need instead of spilling scores.
// Exps are taken base 2 with log2(e) folded into the score scale (m stays a raw score).
// kpf: the next block's first key (kt + j0 + 16 KB) when its lines are to be asked for, else nullptr.
template <int RB, int KB, bool kAll, typename KT>
NPW_TARGET_AVX512 inline void score_exp_block(const float* q, int ldq, const KT* kt, int ldkt, int d_head, float alpha, int j0,
                            const __mmask16* km, const int* lim, float* m, float* lv, float* scale, float* p, int ldp,
                            const KT* kpf) {
  static_assert(RB <= 16, "one lane per row for the rescale factors");
  __m512 acc[RB][KB];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) acc[r][c] = _mm512_setzero_ps();
  const KT* k = kt + j0;
  for (int d = 0; d < d_head; ++d) {
    const KT* kd = k + static_cast<long>(d) * ldkt;
    if (kpf) {
#pragma GCC unroll 16
      for (int c = 0; c < KB; ++c) prefetch_l2(kpf, static_cast<long>(d) * ldkt + 16 * c);
    }
    __m512 kv[KB];
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) kv[c] = kAll ? load16(kd + 16 * c) : load16(kd + 16 * c, km[c]);
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512 qv = _mm512_set1_ps(q[static_cast<long>(r) * ldq + d]);
#pragma GCC unroll 16
      for (int c = 0; c < KB; ++c) acc[r][c] = _mm512_fmadd_ps(qv, kv[c], acc[r][c]);
    }
  }
  const __m512 neg_inf = _mm512_set1_ps(-INFINITY);
  alignas(64) float m_new[16];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    float* pr = p + static_cast<long>(r) * ldp;
    __m512 vmax = neg_inf;
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) {
      vmax = kAll ? _mm512_max_ps(vmax, acc[r][c])
                  : _mm512_mask_max_ps(vmax, static_cast<__mmask16>(km[c] & avx512::tail_mask(lim[r] - j0 - 16 * c)), vmax,
                                       acc[r][c]);
      _mm512_storeu_ps(pr + 16 * c, acc[r][c]);
    }
    m_new[r] = std::max(m[r], _mm512_reduce_max_ps(vmax));
  }
  // scale = exp(alpha (old m - new m)): 0 where the row had no visible key before (its partial
  // output and sum are zero anyway), 1 where it still has none.
  const __mmask16 rows = static_cast<__mmask16>((1u << RB) - 1u);
  const __m512 mo = _mm512_mask_loadu_ps(neg_inf, rows, m);
  const __m512 mn = _mm512_mask_loadu_ps(neg_inf, rows, m_new);
  const __mmask16 had = _mm512_cmp_ps_mask(mo, neg_inf, _CMP_NEQ_OQ);
  const __mmask16 has = _mm512_cmp_ps_mask(mn, neg_inf, _CMP_NEQ_OQ);
  const __m512 a2 = _mm512_set1_ps(alpha * exp_poly::kLog2e);
  __m512 sc = _mm512_maskz_mov_ps(had, avx512::exp2_nonpositive_ps(_mm512_maskz_mul_ps(had, a2, _mm512_sub_ps(mo, mn))));
  sc = _mm512_mask_mov_ps(sc, static_cast<__mmask16>(~has), _mm512_set1_ps(1.0f));
  _mm512_mask_storeu_ps(scale, rows, sc);
  _mm512_mask_storeu_ps(m, rows, mn);
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    float* pr = p + static_cast<long>(r) * ldp;
    // exp(alpha (s - m)) = 2^(s a2 - m a2): one fused multiply-subtract per vector. A row with no
    // visible key yet gets exps of -inf scores masked to zero.
    const __m512 am_new = _mm512_set1_ps(m_new[r] == -INFINITY ? 0.0f : m_new[r] * (alpha * exp_poly::kLog2e));
    __m512 sum = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) {
      __m512 e = avx512::exp2_nonpositive_ps(_mm512_fmsub_ps(_mm512_loadu_ps(pr + 16 * c), a2, am_new));
      if (!kAll) e = _mm512_maskz_mov_ps(static_cast<__mmask16>(km[c] & avx512::tail_mask(lim[r] - j0 - 16 * c)), e);
      _mm512_storeu_ps(pr + 16 * c, e);
      sum = _mm512_add_ps(sum, e);
    }
    float* l = lv + 16 * r;
    _mm512_store_ps(l, _mm512_fmadd_ps(_mm512_load_ps(l), _mm512_set1_ps(scale[r]), sum));
  }
}

// Rows [0, RB): the unmasked form where every row sees the whole (full) block.
template <int RB, int KB, typename KT>
NPW_TARGET_AVX512 inline void score_exp_rows(const float* q, int ldq, const KT* kt, int ldkt, int d_head, float alpha, int j0,
                                             bool full, const __mmask16* km, const int* lim, float* m, float* lv, float* scale,
                                             float* p, int ldp, const KT* kpf) {
  bool all = full;
  for (int r = 0; r < RB && all; ++r) all = lim[r] >= j0 + 16 * KB;
  if (all) {
    score_exp_block<RB, KB, true, KT>(q, ldq, kt, ldkt, d_head, alpha, j0, km, lim, m, lv, scale, p, ldp, kpf);
  } else {
    score_exp_block<RB, KB, false, KT>(q, ldq, kt, ldkt, d_head, alpha, j0, km, lim, m, lv, scale, p, ldp, kpf);
  }
}

template <int NV, typename VT>
NPW_TARGET_AVX512 void pv_rows(const float* p, int ldp, int rows, int nk, const VT* v, int ldv, bool first, const float* scale,
             float* out, int ldo, const VT* vpf) {
  constexpr int kRows = NV == 1 ? 8 : NV == 2 ? 8 : NV <= 4 ? 24 / NV : 3;
  int r = 0;
  for (; r + kRows <= rows; r += kRows) {
    pv_block<kRows, NV, VT>(p + static_cast<long>(r) * ldp, ldp, nk, v, ldv, first, scale + r, out + static_cast<long>(r) * ldo, ldo,
                        r == 0 ? vpf : nullptr);
  }
  const float* pr = p + static_cast<long>(r) * ldp;
  float* o = out + static_cast<long>(r) * ldo;
  switch (rows - r) {
    case 7: pv_block<7 < kRows ? 7 : 1, NV, VT>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo, r == 0 ? vpf : nullptr); break;
    case 6: pv_block<6 < kRows ? 6 : 1, NV, VT>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo, r == 0 ? vpf : nullptr); break;
    case 5: pv_block<5 < kRows ? 5 : 1, NV, VT>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo, r == 0 ? vpf : nullptr); break;
    case 4: pv_block<4 < kRows ? 4 : 1, NV, VT>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo, r == 0 ? vpf : nullptr); break;
    case 3: pv_block<3 < kRows ? 3 : 1, NV, VT>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo, r == 0 ? vpf : nullptr); break;
    case 2: pv_block<2 < kRows ? 2 : 1, NV, VT>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo, r == 0 ? vpf : nullptr); break;
    case 1: pv_block<1, NV, VT>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo, r == 0 ? vpf : nullptr); break;
    default: break;
  }
}

template <int NV, int KB, typename KT, typename VT>
NPW_TARGET_AVX512 void fused_tile_nv(const float* q, int ldq, int rows, const KT* kt, int ldkt, int n_keys, const VT* v, int ldv,
                   float alpha, const int* lim, float* out, int ldo) {
  constexpr int kKeys = 16 * KB, kMaxRows = kAttentionMaxTileRows, kScoreRows = 24 / KB;
  constexpr int d_head = 16 * NV;
  alignas(64) float p[kMaxRows * kKeys];
  alignas(64) float lv[kMaxRows * 16];
  // m and scale are read and written a vector of rows at a time (masked): padded so that even the
  // masked-off lanes stay inside the arrays.
  alignas(64) float m[kMaxRows + 16];
  float scale[kMaxRows + 16];
  for (int r = 0; r < rows; ++r) {
    m[r] = -INFINITY;
    _mm512_store_ps(lv + 16 * r, _mm512_setzero_ps());
  }
  for (int j0 = 0; j0 < n_keys; j0 += kKeys) {
    __mmask16 km[KB];
    for (int c = 0; c < KB; ++c) km[c] = avx512::tail_mask(n_keys - j0 - 16 * c);
    const bool full = n_keys - j0 >= kKeys;
    // The next block's lines, asked for by the first row group only (the others find them cached).
    const bool more = j0 + kKeys < n_keys;
    const KT* kpf = more ? kt + j0 + kKeys : nullptr;
    const VT* vpf = more ? v + static_cast<long>(j0 + kKeys) * ldv : nullptr;
    int r = 0;
    for (; r + kScoreRows <= rows; r += kScoreRows) {
      score_exp_rows<kScoreRows, KB, KT>(q + static_cast<long>(r) * ldq, ldq, kt, ldkt, d_head, alpha, j0, full, km, lim + r,
                                     m + r, lv + 16 * r, scale + r, p + r * kKeys, kKeys, r == 0 ? kpf : nullptr);
    }
    const float* qr = q + static_cast<long>(r) * ldq;
    float* pr = p + r * kKeys;
    switch (rows - r) {
#define NPW_SCORE_TAIL(n) \
  case n: score_exp_rows<(n < kScoreRows ? n : 1), KB, KT>(qr, ldq, kt, ldkt, d_head, alpha, j0, full, km, lim + r, m + r, lv + 16 * r, scale + r, pr, kKeys, r == 0 ? kpf : nullptr); break;
      NPW_SCORE_TAIL(5)
      NPW_SCORE_TAIL(4)
      NPW_SCORE_TAIL(3)
      NPW_SCORE_TAIL(2)
      NPW_SCORE_TAIL(1)
#undef NPW_SCORE_TAIL
      default: break;
    }
    const int nk = n_keys - j0 < kKeys ? n_keys - j0 : kKeys;
    pv_rows<NV, VT>(p, kKeys, rows, nk, v + static_cast<long>(j0) * ldv, ldv, j0 == 0, scale, out, ldo, vpf);
  }
  for (int r = 0; r < rows; ++r) {
    const float l = _mm512_reduce_add_ps(_mm512_load_ps(lv + 16 * r));
    const __m512 inv = _mm512_set1_ps(l > 0.0f ? 1.0f / l : 0.0f);
    float* o = out + static_cast<long>(r) * ldo;
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(o + 16 * c, _mm512_mul_ps(_mm512_loadu_ps(o + 16 * c), inv));
  }
}

template <int KB, typename KT, typename VT>
NPW_TARGET_AVX512 void fused_tile_kb(const float* q, int ldq, int rows, const KT* kt, int ldkt, int n_keys, const VT* v, int ldv,
                int d_head, float alpha, const int* lim, float* out, int ldo) {
  switch (d_head / 16) {
    case 1: fused_tile_nv<1, KB, KT, VT>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 2: fused_tile_nv<2, KB, KT, VT>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 3: fused_tile_nv<3, KB, KT, VT>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 4: fused_tile_nv<4, KB, KT, VT>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 5: fused_tile_nv<5, KB, KT, VT>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 6: fused_tile_nv<6, KB, KT, VT>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 7: fused_tile_nv<7, KB, KT, VT>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 8: fused_tile_nv<8, KB, KT, VT>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    default: break;
  }
}

// Blocks of 64 keys: 6 query rows x 4 vectors of scores fill 24 of the 32 registers. (128-key blocks,
// 3 rows x 8 vectors, measured 10-15 % slower: fewer rows share each key load.)
NPW_TARGET_AVX512 void fused_tile(const float* q, int ldq, int rows, const float* kt, int ldkt, int n_keys, const float* v, int ldv,
                int d_head, float alpha, const int* lim, float* out, int ldo) {
  fused_tile_kb<4>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, d_head, alpha, lim, out, ldo);
}
NPW_TARGET_AVX512 void fused_tile_half_values(const float* q, int ldq, int rows, const float* kt, int ldkt, int n_keys,
                                              const uint16_t* v, int ldv, int d_head, float alpha, const int* lim, float* out,
                                              int ldo) {
  fused_tile_kb<4>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, d_head, alpha, lim, out, ldo);
}
NPW_TARGET_AVX512 void fused_tile_halves(const float* q, int ldq, int rows, const uint16_t* kt, int ldkt, int n_keys,
                                         const uint16_t* v, int ldv, int d_head, float alpha, const int* lim, float* out, int ldo) {
  fused_tile_kb<4>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, d_head, alpha, lim, out, ldo);
}

}  // namespace

const AttentionKernels kAttentionKernelsAvx512 = {16, 128, 60, fused_tile, fused_tile_half_values, fused_tile_halves};

}  // namespace npw

