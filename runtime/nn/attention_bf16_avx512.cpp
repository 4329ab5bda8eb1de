// The bf16 attention task (attention_kernels.h) for CPUs with AVX512_BF16 but no AMX tile unit (Zen 4,
// Zen 5: most of the AVX-512 machines the int8 backend runs on). Without it those CPUs ran the int8
// encoder's attention in f32, well over half of its time. vdpbf16ps does 32 multiply-adds per
// instruction where an f32 FMA does 16, on the same pair layouts the AMX task uses, so the conversion
// of keys and values is shared (attention_bf16_pairs.cpp) and the two tasks round alike.
//
// Per block of 6 query rows: the scores of every visible key (6 rows x 64 keys in 24 registers, each
// loaded key vector serving 6 rows) are written to the thread's score scratch with the row maxima
// kept on the way; the softmax then turns each row into bf16 probability pairs in f32 arithmetic; and
// the probabilities times the value pairs accumulate in 6 rows x the whole head (24 registers for
// heads of 64). Two passes over the keys rather than a flash-style running softmax: the score rows of
// 6 rows are L1/L2-resident, and no partial output needs rescaling.
#include "nn/attention_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "nn/attention_bf16_parts_avx512.h"
#include "nn/bf16_pairs_avx512.h"
#include "util/vec_math_avx512.h"
#include "util/simd_target.h"

namespace npw {

namespace {

using attention_avx512::as_bh;
using attention_avx512::block_limits;
using attention_avx512::finish_rows;
using attention_avx512::key_block;

constexpr int kKeyVectors = 4;  // 16-key vectors of scores per row in registers

// Scores of rows [0, RB) against keys [j0, j0 + 16 KB): s = q . k (unscaled), and vmax[r] raised to
// the scores row r sees. kAll: every row sees every key of the block, so nothing is masked (every
// block of the encoder's but its last); otherwise km masks the keys past the task's (never read).
template <int RB, int KB, int NP, bool kAll>
NPW_TARGET_AVX512_BF16 inline void score_block(const uint32_t* qp, const uint32_t* kp, int ldkp, int j0, const __mmask16* km,
                                               const int* lim, float* s, int lds, __m512* vmax) {
  __m512 acc[RB][KB];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) acc[r][c] = _mm512_setzero_ps();
  const uint32_t* k = kp + j0;
#pragma GCC unroll 4
  for (int p = 0; p < NP; ++p) {
    const uint32_t* kr = k + static_cast<long>(p) * ldkp;
    __m512bh kv[KB];
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) {
      kv[c] = as_bh(kAll ? _mm512_loadu_si512(kr + 16 * c) : _mm512_maskz_loadu_epi32(km[c], kr + 16 * c));
    }
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512bh qv = as_bh(_mm512_set1_epi32(static_cast<int>(qp[r * NP + p])));
#pragma GCC unroll 16
      for (int c = 0; c < KB; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], qv, kv[c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    float* sr = s + static_cast<long>(r) * lds + j0;
    __m512 m = vmax[r];
#pragma GCC unroll 16
    for (int c = 0; c < KB; ++c) {
      if (kAll) {
        _mm512_storeu_ps(sr + 16 * c, acc[r][c]);
        m = _mm512_max_ps(m, acc[r][c]);
      } else {
        _mm512_mask_storeu_ps(sr + 16 * c, km[c], acc[r][c]);
        m = _mm512_mask_max_ps(m, static_cast<__mmask16>(km[c] & avx512::tail_mask(lim[r] - j0 - 16 * c)), m, acc[r][c]);
      }
    }
    vmax[r] = m;
  }
}

// Query rows [0, RB) of one head, d_head = 16 NV: the whole task for those rows.
template <int RB, int NV>
NPW_TARGET_AVX512_BF16 void rows_block(const float* q, int ldq, const uint32_t* kp, int ldkp, int n_keys, const uint32_t* vp,
                                       int width, float alpha, const int* lim, float* out, int ldo, float* s, int lds,
                                       uint32_t* pp, int ldp) {
  constexpr int d_head = 16 * NV, NP = d_head / 2, KB = kKeyVectors;
  int row_lim[RB];
  const int nk = block_limits<RB>(lim, n_keys, row_lim, out, ldo, d_head);  // keys any row of the block sees
  if (nk == 0) return;

  alignas(64) uint32_t qp[RB * NP];
  for (int r = 0; r < RB; ++r) {
    const float* qr = q + static_cast<long>(r) * ldq;
#pragma GCC unroll 4
    for (int c = 0; c < d_head; c += 32) {
      const int left = d_head - c;
      const __m512 lo = _mm512_maskz_loadu_ps(avx512::tail_mask(left), qr + c);
      const __m512 hi = _mm512_maskz_loadu_ps(avx512::tail_mask(left - 16), qr + c + 16);
      _mm512_mask_storeu_epi32(qp + r * NP + c / 2, avx512::tail_mask(left / 2), avx512::pairs_of(lo, hi));
    }
  }

  __m512 vmax[RB];
  for (int r = 0; r < RB; ++r) vmax[r] = _mm512_set1_ps(-INFINITY);
  for (int j0 = 0; j0 < nk; j0 += 16 * KB) {
    __mmask16 km[KB];
    if (key_block<RB, KB>(nk, j0, row_lim, km)) {
      score_block<RB, KB, NP, true>(qp, kp, ldkp, j0, km, row_lim, s, lds, vmax);
    } else {
      score_block<RB, KB, NP, false>(qp, kp, ldkp, j0, km, row_lim, s, lds, vmax);
    }
  }

  float row_max[RB], row_alpha[RB];
  for (int r = 0; r < RB; ++r) {
    row_max[r] = _mm512_reduce_max_ps(vmax[r]);
    row_alpha[r] = alpha;
  }
  finish_rows<RB, NV>(s, lds, row_lim, nk, row_max, row_alpha, pp, ldp, vp, width, out, ldo);
}

template <int NV>
NPW_TARGET_AVX512_BF16 void task_nv(const float* q, int ldq, int rows, const uint32_t* kp, int ldkp, int n_keys,
                                    const uint32_t* vp, int width, float alpha, const int* lim, float* out, int ldo,
                                    float* s, int lds, uint32_t* pp, int ldp) {
  attention_avx512::for_row_blocks(rows, [&](auto rb, int r) {
    rows_block<decltype(rb)::value, NV>(q + static_cast<long>(r) * ldq, ldq, kp, ldkp, n_keys, vp, width, alpha, lim + r,
                                        out + static_cast<long>(r) * ldo, ldo, s, lds, pp, ldp);
  });
}

}  // namespace

NPW_TARGET_AVX512_BF16 void attention_task_bf16_avx512(const float* q, int ldq, int rows, const uint32_t* kp, int ldkp,
                                                       int n_keys, const uint32_t* vp, int width, int d_head, float alpha,
                                                       const int* lim, float* out, int ldo, float* s, int lds,
                                                       uint32_t* pp, int ldp) {
  switch (d_head / 16) {
    case 1: task_nv<1>(q, ldq, rows, kp, ldkp, n_keys, vp, width, alpha, lim, out, ldo, s, lds, pp, ldp); break;
    case 2: task_nv<2>(q, ldq, rows, kp, ldkp, n_keys, vp, width, alpha, lim, out, ldo, s, lds, pp, ldp); break;
    case 4: task_nv<4>(q, ldq, rows, kp, ldkp, n_keys, vp, width, alpha, lim, out, ldo, s, lds, pp, ldp); break;
    default: break;  // attention_bf16_takes() excludes the rest
  }
}

}  // namespace npw
