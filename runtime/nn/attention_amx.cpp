// The bf16 attention path on AMX tiles (Sapphire Rapids and later), per 16 query rows of one head:
// the scores of every key by tile products (queries as A tiles, the key pairs as B tiles), the softmax
// of those rows on AVX-512 into bf16 probability pairs, then probabilities times value pairs by tile
// products again. A tile product does 8192 multiply-adds, so the products all but vanish next to the
// softmax's exps. Keys and values are converted once per call into bf16 pair layouts, which are
// exactly AMX's B-tile format (attention_kernels.h; converted in attention_bf16_pairs.cpp).
#include "nn/attention_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "util/amx_tile_config.h"

#include "nn/bf16_pairs_avx512.h"
#include "util/vec_math_avx512.h"

#define NPW_AMX_BF16 __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,fma")))

namespace npw {

namespace {

constexpr int kRows = 16;  // rows of every tile

// Tiles: 0, 1 queries (16 rows x qstep pairs), 2 key pairs (qstep rows x 16 keys), 3 scores; 4
// probabilities (16 rows x 16 key pairs), 5 value pairs (16 key pairs x 16 dims); outputs 6, 7, then
// 3 and 2 (free by then) for heads of 64.
NPW_AMX_BF16 void configure(int qstep) {
  AmxTileConfig c;
  std::memset(&c, 0, sizeof c);
  c.palette = 1;
  const uint16_t full = 16 * sizeof(uint32_t);
  for (int t = 0; t < 8; ++t) {
    c.rows[t] = kRows;
    c.colsb[t] = full;
  }
  c.colsb[0] = c.colsb[1] = static_cast<uint16_t>(qstep * sizeof(uint32_t));
  c.rows[2] = static_cast<uint8_t>(qstep);
  _tile_loadconfig(&c);
}

// Softmax of one row of raw scores s[0, n_keys) (the visible ones [0, lim)) scaled by alpha, into
// bf16 pairs p[0, n_pairs) (zeros past lim); returns 1 / sum, or 0 when nothing is visible.
NPW_AMX_BF16 float softmax_row(const float* s, int n_keys, int lim, float alpha, uint32_t* p, int n_pairs) {
  lim = std::min(lim, n_keys);
  if (lim <= 0) {
    std::memset(p, 0, sizeof(uint32_t) * static_cast<std::size_t>(n_pairs));
    return 0.0f;
  }
  __m512 vmax = _mm512_set1_ps(-INFINITY);
  for (int j = 0; j < lim; j += 16) {
    const __mmask16 m = avx512::tail_mask(lim - j);
    vmax = _mm512_mask_max_ps(vmax, m, vmax, _mm512_maskz_loadu_ps(m, s + j));
  }
  const __m512 a = _mm512_set1_ps(alpha);
  const __m512 am = _mm512_set1_ps(alpha * _mm512_reduce_max_ps(vmax));
  __m512 sum = _mm512_setzero_ps();
  for (int j = 0; 2 * j < 2 * n_pairs; j += 16) {
    // Keys [2j, 2j + 32) make pairs [j, j + 16).
    const int k0 = 2 * j;
    const __mmask16 m0 = avx512::tail_mask(lim - k0), m1 = avx512::tail_mask(lim - k0 - 16);
    const __m512 e0 = _mm512_maskz_mov_ps(m0, avx512::exp_nonpositive_ps(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m0, s + k0), a, am)));
    const __m512 e1 = _mm512_maskz_mov_ps(m1, avx512::exp_nonpositive_ps(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m1, s + k0 + 16), a, am)));
    sum = _mm512_add_ps(sum, _mm512_add_ps(e0, e1));
    _mm512_mask_storeu_epi32(p + j, avx512::tail_mask(n_pairs - j), avx512::pairs_of(e0, e1));
  }
  return 1.0f / _mm512_reduce_add_ps(sum);
}

// Rows [0, rb <= 16) of one head. qp: the rows' query pairs [16][d/2] (padding rows zero).
template <int NT>  // output tiles: d_head = 16 NT
NPW_AMX_BF16 void block16(const uint32_t* qp, int rb, const uint32_t* kp, int ldkp, int n_keys, const uint32_t* vp,
                          int width, int d_head, float alpha, const int* lim, float* out, int ldo, float* s, int lds,
                          uint32_t* pp, int ldp) {
  const int n_qpairs = d_head / 2;
  const long q_stride = static_cast<long>(n_qpairs) * 4;
  _tile_loadd(0, qp, q_stride);
  if (n_qpairs > 16) _tile_loadd(1, qp + 16, q_stride);
  const long k_stride = static_cast<long>(ldkp) * 4;
  for (int j0 = 0; j0 < n_keys; j0 += 16) {
    _tile_zero(3);
    _tile_loadd(2, kp + j0, k_stride);
    _tile_dpbf16ps(3, 0, 2);
    if (n_qpairs > 16) {
      _tile_loadd(2, kp + 16L * ldkp + j0, k_stride);
      _tile_dpbf16ps(3, 1, 2);
    }
    _tile_stored(3, s + j0, static_cast<long>(lds) * 4);
  }

  // Pairs up to a whole number of 16-pair steps; the probabilities past the keys are zero.
  const int n_pairs = ((n_keys + 1) / 2 + 15) / 16 * 16;
  alignas(64) float inv[kRows];
  for (int r = 0; r < kRows; ++r) {
    uint32_t* pr = pp + static_cast<long>(r) * ldp;
    if (r < rb) {
      inv[r] = softmax_row(s + static_cast<long>(r) * lds, n_keys, lim[r], alpha, pr, n_pairs);
    } else {
      std::memset(pr, 0, sizeof(uint32_t) * static_cast<std::size_t>(n_pairs));
      inv[r] = 0.0f;
    }
  }

  _tile_zero(6);
  if (NT > 1) _tile_zero(7);
  if (NT > 2) _tile_zero(3);
  if (NT > 3) _tile_zero(2);
  const long v_stride = static_cast<long>(width) * 4;
  for (int jp = 0; jp < n_pairs; jp += 16) {
    _tile_loadd(4, pp + jp, static_cast<long>(ldp) * 4);
    const uint32_t* vj = vp + static_cast<long>(jp) * width;
    _tile_loadd(5, vj, v_stride);
    _tile_dpbf16ps(6, 4, 5);
    if (NT > 1) {
      _tile_loadd(5, vj + 16, v_stride);
      _tile_dpbf16ps(7, 4, 5);
    }
    if (NT > 2) {
      _tile_loadd(5, vj + 32, v_stride);
      _tile_dpbf16ps(3, 4, 5);
    }
    if (NT > 3) {
      _tile_loadd(5, vj + 48, v_stride);
      _tile_dpbf16ps(2, 4, 5);
    }
  }
  alignas(64) float o[kRows * 16 * 4];
  const long o_stride = 16L * NT * 4;
  _tile_stored(6, o, o_stride);
  if (NT > 1) _tile_stored(7, o + 16, o_stride);
  if (NT > 2) _tile_stored(3, o + 32, o_stride);
  if (NT > 3) _tile_stored(2, o + 48, o_stride);
  for (int r = 0; r < rb; ++r) {
    const __m512 sc = _mm512_set1_ps(inv[r]);
    for (int t = 0; t < NT; ++t) {
      _mm512_storeu_ps(out + static_cast<long>(r) * ldo + 16 * t, _mm512_mul_ps(_mm512_loadu_ps(o + r * 16 * NT + 16 * t), sc));
    }
  }
}

}  // namespace

NPW_AMX_BF16 void attention_task_amx(const float* q, int ldq, int rows, const uint32_t* kp, int ldkp, int n_keys,
                                     const uint32_t* vp, int width, int d_head, float alpha, const int* lim, float* out,
                                     int ldo, float* s, int lds, uint32_t* pp, int ldp) {
  const int n_qpairs = d_head / 2;
  configure(n_qpairs > 16 ? 16 : n_qpairs);
  alignas(64) uint32_t qp[kRows * 32];
  for (int r0 = 0; r0 < rows; r0 += kRows) {
    const int rb = std::min(kRows, rows - r0);
    for (int r = 0; r < kRows; ++r) {
      uint32_t* dst = qp + r * n_qpairs;
      if (r >= rb) {
        std::memset(dst, 0, sizeof(uint32_t) * static_cast<std::size_t>(n_qpairs));
        continue;
      }
      const float* qr = q + static_cast<long>(r0 + r) * ldq;
      for (int c = 0; c < d_head; c += 32) {
        const int left = d_head - c;
        const __m512 lo = _mm512_maskz_loadu_ps(avx512::tail_mask(left), qr + c);
        const __m512 hi = _mm512_maskz_loadu_ps(avx512::tail_mask(left - 16), qr + c + 16);
        _mm512_mask_storeu_epi32(dst + c / 2, avx512::tail_mask(left / 2), avx512::pairs_of(lo, hi));
      }
    }
    const int* lr = lim + r0;
    float* o = out + static_cast<long>(r0) * ldo;
    switch (d_head / 16) {
      case 1: block16<1>(qp, rb, kp, ldkp, n_keys, vp, width, d_head, alpha, lr, o, ldo, s, lds, pp, ldp); break;
      case 2: block16<2>(qp, rb, kp, ldkp, n_keys, vp, width, d_head, alpha, lr, o, ldo, s, lds, pp, ldp); break;
      case 4: block16<4>(qp, rb, kp, ldkp, n_keys, vp, width, d_head, alpha, lr, o, ldo, s, lds, pp, ldp); break;
      default: break;  // attention_bf16_takes() excludes the rest
    }
  }
  _tile_release();
}

}  // namespace npw
