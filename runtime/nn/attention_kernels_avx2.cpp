// AVX2 + FMA attention kernel (see attention_kernels.h) for CPUs without AVX-512 (most desktop and
// laptop x86 CPUs): the flash-style scheme of attention_kernels_avx512.cpp with 8-float vectors
// and 16 registers. Per block of 32 keys, the scores of 3 query rows sit in 12 registers (keys
// transposed, 8 consecutive keys per vector) and become exps against the running row max right
// there; the block's probabilities (tile rows x 32 floats) are stored for the weighted sum of
// values, which runs over column strips of 32 (4 registers per row, 3 rows). Both loops broadcast
// their 3 rows' values first and use each key or value vector as it is loaded: 12 accumulators + 3
// broadcasts + 1 vector is the whole register file, where loading the 4 vectors first spilled (at
// 2 score rows, 8 accumulators and 4 vectors, each key vector fed 2 multiply-adds for its load).
// On a Zen 3 (one thread, a tiny head: 25 tiles of 60 rows over 1500 keys) 12.1-13.1 -> 8.9-9.4 ms,
// the same bits. No n_keys-wide score row is written. Tails use masked loads and lane-mask blends.
// The first row group of a block asks for the next block's keys and values (into L2), as the AVX-512
// kernel does. Every loop over the rows and vectors of a register block is unrolled by pragma, so
// that GCC unrolls it before it replaces the accumulator arrays by registers: left to its late
// unrolling, GCC 12 kept the arrays' stack homes and stored all 12 accumulators of the half-value
// block on every key (the float one, inlined elsewhere, escaped by chance). Unrolled early: 60 rows
// of half keys and values over 1500 keys (x25, one thread, Zen 3) 17.8 -> 12.2 ms, 5 rows 1.33 -> 0.84;
// the same bits. scripts/loop-spills.py finds such loops.
#include "nn/attention_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include <immintrin.h>

#include "util/vec_math_avx2.h"
#include "util/prefetch.h"
#include "util/simd_target.h"

namespace npw {

namespace {

constexpr int kKeyVecs = 4;              // vectors of 8 keys per block
constexpr int kKeys = 8 * kKeyVecs;      // keys per block
constexpr int kScoreRows = 3;            // query rows per score block: 3 x 4 accumulators
constexpr int kPvRows = 3;               // rows per value block: 3 x 4 accumulators
constexpr int kTileRows = 60;            // a multiple of both
// Accumulators + one broadcast per row + the vector being consumed: the whole register file, no spill.
static_assert(kScoreRows * kKeyVecs + kScoreRows + 1 <= 16 && kPvRows * 4 + kPvRows + 1 <= 16,
              "the score and value blocks must fit the 16 ymm registers");

// Asks for the line at p + off elements into L2 (past the last block it may lie outside the buffers).
template <typename T>
inline void prefetch_l2(const T* p, long off) {
  prefetch_bytes_past<PrefetchTo::L2>(p, static_cast<std::size_t>(off) * sizeof(T));
}

// 8 keys or value elements as floats: f32 as stored, or IEEE halves widened exactly in the register
// (F16C), as in the AVX-512 kernel. The masked forms take the lanes of `m` (a prefix: avx2::lane_mask).
NPW_AVX2_INLINE __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
NPW_AVX2_INLINE __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
NPW_AVX2_INLINE __m256 load8(const float* p, __m256i m) { return _mm256_maskload_ps(p, m); }
NPW_AVX2_INLINE __m256 load8(const uint16_t* p, __m256i m) {
  const int n = __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(m))));
  alignas(16) uint16_t h[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < n; ++k) h[k] = p[k];
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
}

// Lanes of a vector of 8 keys that a row sees, given how many of them (from its first) it sees.
NPW_AVX2_INLINE __m256 visible(int left) { return _mm256_castsi256_ps(avx2::lane_mask(left)); }

// Rows [0, RB) of one key block: scores, the running max m and the row sums lv (8 partial sums per
// row) updated, scale[r] = exp(alpha (old m - new m)) for the row's partial output, exps to p.
// `full`: all 32 keys of the block exist (no load masks needed); kAll: besides, every row sees all
// of them (no masks at all). Raw scores go through p so that the exps' constants fit the 16
// registers; exps are taken base 2 with log2(e) folded into the score scale.
// kpf: the next block's first key (kt + j0 + kKeys) when its lines are to be asked for, else nullptr.
template <int RB, bool kAll, typename KT>
NPW_TARGET_AVX2 inline void score_exp_block(const float* q, int ldq, const KT* kt, int ldkt, int d_head, float alpha,
                                            int j0, bool full, const __m256i* km, const int* lim, float* m, float* lv,
                                            float* scale, float* p, int ldp, const KT* kpf) {
  static_assert(RB <= 8, "one lane per row for the rescale factors");
  __m256 acc[RB][kKeyVecs];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < kKeyVecs; ++c) acc[r][c] = _mm256_setzero_ps();
  const KT* k = kt + j0;
  for (int d = 0; d < d_head; ++d) {
    const KT* kd = k + static_cast<long>(d) * ldkt;
    if (kpf) {
      prefetch_l2(kpf, static_cast<long>(d) * ldkt);
      prefetch_l2(kpf, static_cast<long>(d) * ldkt + 16);
    }
    // The query values broadcast first and each key vector consumed as it is loaded.
    __m256 qv[RB];
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) qv[r] = _mm256_broadcast_ss(q + static_cast<long>(r) * ldq + d);
#pragma GCC unroll 16
    for (int c = 0; c < kKeyVecs; ++c) {
      const __m256 kv = kAll || full ? load8(kd + 8 * c) : load8(kd + 8 * c, km[c]);
#pragma GCC unroll 16
      for (int r = 0; r < RB; ++r) acc[r][c] = _mm256_fmadd_ps(qv[r], kv, acc[r][c]);
    }
  }
  const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
  alignas(32) float mo[8], mn[8];
  for (int r = 0; r < 8; ++r) mo[r] = mn[r] = -INFINITY;
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    float* pr = p + static_cast<long>(r) * ldp;
    __m256 vmax = neg_inf;
#pragma GCC unroll 16
    for (int c = 0; c < kKeyVecs; ++c) {
      vmax = _mm256_max_ps(vmax, kAll ? acc[r][c] : _mm256_blendv_ps(neg_inf, acc[r][c], visible(lim[r] - j0 - 8 * c)));
      _mm256_storeu_ps(pr + 8 * c, acc[r][c]);
    }
    mo[r] = m[r];
    mn[r] = std::max(m[r], avx2::hmax(vmax));
  }
  // exp(alpha (old m - new m)) for every row at once: 0 where the row saw no key before, 1 where it
  // still sees none.
  const float a2s = alpha * exp_poly::kLog2e;
  const __m256 vo = _mm256_load_ps(mo), vn = _mm256_load_ps(mn);
  const __m256 had = _mm256_cmp_ps(vo, neg_inf, _CMP_NEQ_OQ), has = _mm256_cmp_ps(vn, neg_inf, _CMP_NEQ_OQ);
  const __m256 a2 = _mm256_set1_ps(a2s);
  const __m256 diff = _mm256_and_ps(had, _mm256_sub_ps(vo, vn));  // 0 - 0 where no key was seen
  __m256 sc = _mm256_and_ps(had, avx2::exp2_nonpositive_ps(_mm256_mul_ps(a2, diff)));
  sc = _mm256_blendv_ps(_mm256_set1_ps(1.0f), sc, has);
  alignas(32) float scv[8];
  _mm256_store_ps(scv, sc);
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    m[r] = mn[r];
    scale[r] = scv[r];
    float* pr = p + static_cast<long>(r) * ldp;
    const __m256 am = _mm256_set1_ps(mn[r] == -INFINITY ? 0.0f : a2s * mn[r]);
    __m256 sum = _mm256_setzero_ps();
#pragma GCC unroll 16
    for (int c = 0; c < kKeyVecs; ++c) {
      __m256 e = avx2::exp2_nonpositive_ps(_mm256_fmsub_ps(_mm256_loadu_ps(pr + 8 * c), a2, am));
      if (!kAll) e = _mm256_and_ps(visible(lim[r] - j0 - 8 * c), e);
      _mm256_storeu_ps(pr + 8 * c, e);
      sum = _mm256_add_ps(sum, e);
    }
    float* l = lv + 8 * r;
    _mm256_store_ps(l, _mm256_fmadd_ps(_mm256_load_ps(l), _mm256_set1_ps(scv[r]), sum));
  }
}

template <int RB, typename KT>
NPW_TARGET_AVX2 inline void score_exp_rows(const float* q, int ldq, const KT* kt, int ldkt, int d_head, float alpha,
                                           int j0, bool full, const __m256i* km, const int* lim, float* m, float* lv,
                                           float* scale, float* p, int ldp, const KT* kpf) {
  bool all = full;
  for (int r = 0; r < RB && all; ++r) all = lim[r] >= j0 + kKeys;
  if (all) {
    score_exp_block<RB, true, KT>(q, ldq, kt, ldkt, d_head, alpha, j0, full, km, lim, m, lv, scale, p, ldp, kpf);
  } else {
    score_exp_block<RB, false, KT>(q, ldq, kt, ldkt, d_head, alpha, j0, full, km, lim, m, lv, scale, p, ldp, kpf);
  }
}

// out[r][0, 8 CV) = out * scale + p . v over the nk keys of the block (p . v when first), rows [0, RB).
// vpf: the next block's first value row when its v_lines lines a row are to be asked for, else nullptr.
template <int RB, int CV, typename VT>
NPW_TARGET_AVX2 inline void pv_block(const float* p, int ldp, int nk, const VT* v, int ldv, bool first,
                                     const float* scale, float* out, int ldo, const VT* vpf, int v_lines) {
  __m256 acc[RB][CV];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    const __m256 s = _mm256_set1_ps(scale[r]);
#pragma GCC unroll 16
    for (int c = 0; c < CV; ++c)
      acc[r][c] = first ? _mm256_setzero_ps() : _mm256_mul_ps(_mm256_loadu_ps(out + static_cast<long>(r) * ldo + 8 * c), s);
  }
  for (int j = 0; j < nk; ++j) {
    const VT* vj = v + static_cast<long>(j) * ldv;
    if (vpf) {
      for (int l = 0; l < v_lines; ++l) prefetch_l2(vpf, static_cast<long>(j) * ldv + 16 * l);
    }
    // As in the scores: the probabilities broadcast first, each value vector consumed as loaded.
    __m256 pr[RB];
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) pr[r] = _mm256_broadcast_ss(p + static_cast<long>(r) * ldp + j);
#pragma GCC unroll 16
    for (int c = 0; c < CV; ++c) {
      const __m256 vv = load8(vj + 8 * c);
#pragma GCC unroll 16
      for (int r = 0; r < RB; ++r) acc[r][c] = _mm256_fmadd_ps(pr[r], vv, acc[r][c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < CV; ++c) _mm256_storeu_ps(out + static_cast<long>(r) * ldo + 8 * c, acc[r][c]);
}

// All rows, one column strip of 8 CV.
// vpf, v_lines: the next block's values to ask for (by the first row group), as in pv_block.
template <int CV, typename VT>
NPW_TARGET_AVX2 void pv_rows(const float* p, int ldp, int rows, int nk, const VT* v, int ldv, bool first,
                             const float* scale, float* out, int ldo, const VT* vpf, int v_lines) {
  int r = 0;
  for (; r + kPvRows <= rows; r += kPvRows) {
    pv_block<kPvRows, CV, VT>(p + static_cast<long>(r) * ldp, ldp, nk, v, ldv, first, scale + r, out + static_cast<long>(r) * ldo, ldo,
                          r == 0 ? vpf : nullptr, v_lines);
  }
  if (rows - r == 2) {
    pv_block<2, CV, VT>(p + static_cast<long>(r) * ldp, ldp, nk, v, ldv, first, scale + r, out + static_cast<long>(r) * ldo, ldo,
                    r == 0 ? vpf : nullptr, v_lines);
  } else if (rows - r == 1) {
    pv_block<1, CV, VT>(p + static_cast<long>(r) * ldp, ldp, nk, v, ldv, first, scale + r, out + static_cast<long>(r) * ldo, ldo,
                    r == 0 ? vpf : nullptr, v_lines);
  }
}

template <typename KT, typename VT>
NPW_TARGET_AVX2 void fused_tile_t(const float* q, int ldq, int rows, const KT* kt, int ldkt, int n_keys, const VT* v,
                                  int ldv, int d_head, float alpha, const int* lim, float* out, int ldo) {
  constexpr int kMaxRows = kAttentionMaxTileRows;
  alignas(32) float p[kMaxRows * kKeys];
  alignas(32) float lv[kMaxRows * 8];
  float m[kMaxRows], scale[kMaxRows];
  for (int r = 0; r < rows; ++r) {
    m[r] = -INFINITY;
    _mm256_store_ps(lv + 8 * r, _mm256_setzero_ps());
  }
  const int nv = d_head / 8;
  for (int j0 = 0; j0 < n_keys; j0 += kKeys) {
    __m256i km[kKeyVecs];
    for (int c = 0; c < kKeyVecs; ++c) km[c] = avx2::lane_mask(n_keys - j0 - 8 * c);
    const bool full = n_keys - j0 >= kKeys;
    // The next block's lines, asked for by the first row group only (the others find them cached).
    const bool more = j0 + kKeys < n_keys;
    const KT* kpf = more ? kt + j0 + kKeys : nullptr;
    const VT* vpf = more ? v + static_cast<long>(j0 + kKeys) * ldv : nullptr;
    int r = 0;
    for (; r + kScoreRows <= rows; r += kScoreRows) {
      score_exp_rows<kScoreRows, KT>(q + static_cast<long>(r) * ldq, ldq, kt, ldkt, d_head, alpha, j0, full, km, lim + r,
                                  m + r, lv + 8 * r, scale + r, p + r * kKeys, kKeys, r == 0 ? kpf : nullptr);
    }
    // The rows left (a decoder step's 5 beams leave 2) in one group: each group of one row reads the
    // block's keys again and runs 4 dependent FMA chains.
    if (rows - r == 2) {
      score_exp_rows<2, KT>(q + static_cast<long>(r) * ldq, ldq, kt, ldkt, d_head, alpha, j0, full, km, lim + r, m + r,
                         lv + 8 * r, scale + r, p + r * kKeys, kKeys, r == 0 ? kpf : nullptr);
    } else if (rows - r == 1) {
      score_exp_rows<1, KT>(q + static_cast<long>(r) * ldq, ldq, kt, ldkt, d_head, alpha, j0, full, km, lim + r, m + r,
                         lv + 8 * r, scale + r, p + r * kKeys, kKeys, r == 0 ? kpf : nullptr);
    }
    const int nk = std::min(kKeys, n_keys - j0);
    const VT* vb = v + static_cast<long>(j0) * ldv;
    // A value row's whole head in lines of 16 floats, asked for during the first column strip.
    const int v_lines = (d_head + 15) / 16;
    for (int c0 = 0; c0 < nv; c0 += 4) {
      const VT* vpf0 = c0 == 0 ? vpf : nullptr;
      switch (std::min(4, nv - c0)) {
        case 4: pv_rows<4, VT>(p, kKeys, rows, nk, vb + 8 * c0, ldv, j0 == 0, scale, out + 8 * c0, ldo, vpf0, v_lines); break;
        case 3: pv_rows<3, VT>(p, kKeys, rows, nk, vb + 8 * c0, ldv, j0 == 0, scale, out + 8 * c0, ldo, vpf0, v_lines); break;
        case 2: pv_rows<2, VT>(p, kKeys, rows, nk, vb + 8 * c0, ldv, j0 == 0, scale, out + 8 * c0, ldo, vpf0, v_lines); break;
        default: pv_rows<1, VT>(p, kKeys, rows, nk, vb + 8 * c0, ldv, j0 == 0, scale, out + 8 * c0, ldo, vpf0, v_lines); break;
      }
    }
  }
  for (int r = 0; r < rows; ++r) {
    const float l = avx2::hsum(_mm256_load_ps(lv + 8 * r));
    const __m256 inv = _mm256_set1_ps(l > 0.0f ? 1.0f / l : 0.0f);
    float* o = out + static_cast<long>(r) * ldo;
    for (int c = 0; c < nv; ++c) _mm256_storeu_ps(o + 8 * c, _mm256_mul_ps(_mm256_loadu_ps(o + 8 * c), inv));
  }
}

NPW_TARGET_AVX2 void fused_tile(const float* q, int ldq, int rows, const float* kt, int ldkt, int n_keys, const float* v,
                                int ldv, int d_head, float alpha, const int* lim, float* out, int ldo) {
  fused_tile_t(q, ldq, rows, kt, ldkt, n_keys, v, ldv, d_head, alpha, lim, out, ldo);
}
NPW_TARGET_AVX2 void fused_tile_half_values(const float* q, int ldq, int rows, const float* kt, int ldkt, int n_keys,
                                            const uint16_t* v, int ldv, int d_head, float alpha, const int* lim, float* out,
                                            int ldo) {
  fused_tile_t(q, ldq, rows, kt, ldkt, n_keys, v, ldv, d_head, alpha, lim, out, ldo);
}
NPW_TARGET_AVX2 void fused_tile_halves(const float* q, int ldq, int rows, const uint16_t* kt, int ldkt, int n_keys,
                                       const uint16_t* v, int ldv, int d_head, float alpha, const int* lim, float* out, int ldo) {
  fused_tile_t(q, ldq, rows, kt, ldkt, n_keys, v, ldv, d_head, alpha, lim, out, ldo);
}

}  // namespace

const AttentionKernels kAttentionKernelsAvx2 = {8, 128, kTileRows, fused_tile, fused_tile_half_values, fused_tile_halves};

}  // namespace npw
