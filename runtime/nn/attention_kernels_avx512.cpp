// AVX-512 attention kernel (see attention_kernels.h), flash-style: per block of 64 keys, the scores
// of 6 query rows sit in 24 registers (keys transposed, 16 consecutive keys per vector), are turned
// into exps against a running row max right there, and only the block's probabilities (64 x 64
// floats, L1-resident) are stored for the weighted sum of values, whose register block is up to 8
// rows x the whole head. No n_keys-wide score row is ever written. Tails use masked loads and stores.
#include "nn/attention_kernels.h"

#include <algorithm>
#include <cmath>

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "util/simd_target.h"


#include "nn/vec_math_avx512.h"

namespace npw {

namespace {

// Rows [0, RB) of one key block: scores in registers, masked to the keys each row sees, then the
// running softmax: m (row max so far) and l (sum of exps so far) updated, scale[r] = exp(old m - new
// m) for the row's partial output, and exp(s - m) written to p (zeros where masked).
template <int RB>
NPW_TARGET_AVX512 inline void score_exp_block(const float* q, int ldq, const float* kt, int ldkt, int d_head, float alpha, int j0,
                            const __mmask16* km, const int* lim, float* m, float* l, float* scale, float* p, int ldp) {
  __m512 acc[RB][4];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_ps();
  const float* k = kt + j0;
  for (int d = 0; d < d_head; ++d) {
    const float* kd = k + static_cast<long>(d) * ldkt;
    const __m512 k0 = _mm512_maskz_loadu_ps(km[0], kd);
    const __m512 k1 = _mm512_maskz_loadu_ps(km[1], kd + 16);
    const __m512 k2 = _mm512_maskz_loadu_ps(km[2], kd + 32);
    const __m512 k3 = _mm512_maskz_loadu_ps(km[3], kd + 48);
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512 qv = _mm512_set1_ps(q[static_cast<long>(r) * ldq + d]);
      acc[r][0] = _mm512_fmadd_ps(qv, k0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(qv, k1, acc[r][1]);
      acc[r][2] = _mm512_fmadd_ps(qv, k2, acc[r][2]);
      acc[r][3] = _mm512_fmadd_ps(qv, k3, acc[r][3]);
    }
  }
  const __m512 a = _mm512_set1_ps(alpha);
  const __m512 neg_inf = _mm512_set1_ps(-INFINITY);
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    const int left = lim[r] - j0;  // keys of this block the row sees, from its start
    __mmask16 vm[4];
    __m512 vmax = neg_inf;
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const int n = left - 16 * c;
      vm[c] = static_cast<__mmask16>(km[c] & avx512::tail_mask(n));
      vmax = _mm512_mask_max_ps(vmax, vm[c], vmax, acc[r][c]);
    }
    float* pr = p + static_cast<long>(r) * ldp;
    const float m_new = std::max(m[r], _mm512_reduce_max_ps(vmax));
    if (m_new == -INFINITY) {  // no visible key yet: nothing to add, nothing to rescale
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) _mm512_storeu_ps(pr + 16 * c, _mm512_setzero_ps());
      scale[r] = 1.0f;
      continue;
    }
    // m holds raw (unscaled) maxima: exp(alpha (s - m)) is one fused multiply-subtract per vector.
    const float sc = m[r] == -INFINITY ? 0.0f : std::exp(alpha * (m[r] - m_new));
    const __m512 am_new = _mm512_set1_ps(alpha * m_new);
    __m512 sum = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m512 e = _mm512_maskz_mov_ps(vm[c], avx512::exp_nonpositive_ps(_mm512_fmsub_ps(acc[r][c], a, am_new)));
      _mm512_storeu_ps(pr + 16 * c, e);
      sum = _mm512_add_ps(sum, e);
    }
    l[r] = l[r] * sc + _mm512_reduce_add_ps(sum);
    m[r] = m_new;
    scale[r] = sc;
  }
}

// out rows [0, RB) = out * scale + p . v over the nk keys of one block (out = p . v when first).
template <int RB, int NV>
NPW_TARGET_AVX512 inline void pv_block(const float* p, int ldp, int nk, const float* v, int ldv, bool first, const float* scale,
                     float* out, int ldo) {
  __m512 acc[RB][NV];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    const __m512 sc = _mm512_set1_ps(scale[r]);
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c)
      acc[r][c] = first ? _mm512_setzero_ps() : _mm512_mul_ps(_mm512_loadu_ps(out + static_cast<long>(r) * ldo + 16 * c), sc);
  }
  for (int j = 0; j < nk; ++j) {
    const float* vj = v + static_cast<long>(j) * ldv;
    __m512 vv[NV];
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) vv[c] = _mm512_loadu_ps(vj + 16 * c);
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512 pr = _mm512_set1_ps(p[static_cast<long>(r) * ldp + j]);
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_fmadd_ps(pr, vv[c], acc[r][c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + static_cast<long>(r) * ldo + 16 * c, acc[r][c]);
}

template <int NV>
NPW_TARGET_AVX512 void pv_rows(const float* p, int ldp, int rows, int nk, const float* v, int ldv, bool first, const float* scale,
             float* out, int ldo) {
  constexpr int kRows = NV == 1 ? 8 : NV == 2 ? 8 : NV <= 4 ? 24 / NV : 3;
  int r = 0;
  for (; r + kRows <= rows; r += kRows) {
    pv_block<kRows, NV>(p + static_cast<long>(r) * ldp, ldp, nk, v, ldv, first, scale + r, out + static_cast<long>(r) * ldo, ldo);
  }
  const float* pr = p + static_cast<long>(r) * ldp;
  float* o = out + static_cast<long>(r) * ldo;
  switch (rows - r) {
    case 7: pv_block<7 < kRows ? 7 : 1, NV>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo); break;
    case 6: pv_block<6 < kRows ? 6 : 1, NV>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo); break;
    case 5: pv_block<5 < kRows ? 5 : 1, NV>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo); break;
    case 4: pv_block<4 < kRows ? 4 : 1, NV>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo); break;
    case 3: pv_block<3 < kRows ? 3 : 1, NV>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo); break;
    case 2: pv_block<2 < kRows ? 2 : 1, NV>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo); break;
    case 1: pv_block<1, NV>(pr, ldp, nk, v, ldv, first, scale + r, o, ldo); break;
    default: break;
  }
}

template <int NV>
NPW_TARGET_AVX512 void fused_tile_nv(const float* q, int ldq, int rows, const float* kt, int ldkt, int n_keys, const float* v, int ldv,
                   float alpha, const int* lim, float* out, int ldo) {
  constexpr int kKeys = 64, kMaxRows = kAttentionMaxTileRows, kScoreRows = 6;
  constexpr int d_head = 16 * NV;
  alignas(64) float p[kMaxRows * kKeys];
  float m[kMaxRows], l[kMaxRows], scale[kMaxRows];
  for (int r = 0; r < rows; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.0f;
  }
  for (int j0 = 0; j0 < n_keys; j0 += kKeys) {
    __mmask16 km[4];
    for (int c = 0; c < 4; ++c) {
      const int left = n_keys - j0 - 16 * c;
      km[c] = avx512::tail_mask(left);
    }
    int r = 0;
    for (; r + kScoreRows <= rows; r += kScoreRows) {
      score_exp_block<kScoreRows>(q + static_cast<long>(r) * ldq, ldq, kt, ldkt, d_head, alpha, j0, km, lim + r, m + r,
                                  l + r, scale + r, p + r * kKeys, kKeys);
    }
    const float* qr = q + static_cast<long>(r) * ldq;
    switch (rows - r) {
      case 5: score_exp_block<5>(qr, ldq, kt, ldkt, d_head, alpha, j0, km, lim + r, m + r, l + r, scale + r, p + r * kKeys, kKeys); break;
      case 4: score_exp_block<4>(qr, ldq, kt, ldkt, d_head, alpha, j0, km, lim + r, m + r, l + r, scale + r, p + r * kKeys, kKeys); break;
      case 3: score_exp_block<3>(qr, ldq, kt, ldkt, d_head, alpha, j0, km, lim + r, m + r, l + r, scale + r, p + r * kKeys, kKeys); break;
      case 2: score_exp_block<2>(qr, ldq, kt, ldkt, d_head, alpha, j0, km, lim + r, m + r, l + r, scale + r, p + r * kKeys, kKeys); break;
      case 1: score_exp_block<1>(qr, ldq, kt, ldkt, d_head, alpha, j0, km, lim + r, m + r, l + r, scale + r, p + r * kKeys, kKeys); break;
      default: break;
    }
    const int nk = n_keys - j0 < kKeys ? n_keys - j0 : kKeys;
    pv_rows<NV>(p, kKeys, rows, nk, v + static_cast<long>(j0) * ldv, ldv, j0 == 0, scale, out, ldo);
  }
  for (int r = 0; r < rows; ++r) {
    const __m512 inv = _mm512_set1_ps(l[r] > 0.0f ? 1.0f / l[r] : 0.0f);
    float* o = out + static_cast<long>(r) * ldo;
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(o + 16 * c, _mm512_mul_ps(_mm512_loadu_ps(o + 16 * c), inv));
  }
}

NPW_TARGET_AVX512 void fused_tile(const float* q, int ldq, int rows, const float* kt, int ldkt, int n_keys, const float* v, int ldv,
                int d_head, float alpha, const int* lim, float* out, int ldo) {
  switch (d_head / 16) {
    case 1: fused_tile_nv<1>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 2: fused_tile_nv<2>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 3: fused_tile_nv<3>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 4: fused_tile_nv<4>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 5: fused_tile_nv<5>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 6: fused_tile_nv<6>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 7: fused_tile_nv<7>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    case 8: fused_tile_nv<8>(q, ldq, rows, kt, ldkt, n_keys, v, ldv, alpha, lim, out, ldo); break;
    default: break;
  }
}

}  // namespace

const AttentionKernels kAttentionKernelsAvx512 = {16, 128, fused_tile};

}  // namespace npw


namespace npw {

const AttentionKernels* attention_kernels(SimdLevel level) {
  return level == SimdLevel::Avx512 ? &kAttentionKernelsAvx512 : nullptr;
}

}  // namespace npw
