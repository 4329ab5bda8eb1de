// Reduced-precision attention for the int8 path (see AttentionKernelsBf16 in attention_kernels.h):
// the flash-style kernel of attention_kernels_avx512.cpp with both products done by AVX512_BF16 pair
// dot products (twice the multiply-adds of an f32 FMA per instruction), keys and values rounded to
// bf16 once per call into pair layouts, queries once per task, probabilities once per key block.
// Scores, the running softmax and all sums stay f32.
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

NPW_TARGET_AVX512_BF16 inline __mmask16 tail_mask(int n) { return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u); }

// 32 floats (lo = first 16) as 16 bf16 pairs, element 2i in the low half of 32-bit lane i.
NPW_TARGET_AVX512_BF16 inline __m512i pairs_of(__m512 lo, __m512 hi) { return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)); }

// 16 floats rounded to bf16, each zero-extended into a 32-bit lane.
NPW_TARGET_AVX512_BF16 inline __m512i bf16_lanes(__m512 v) {
  return _mm512_cvtepu16_epi32(reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v)));
}

NPW_TARGET_AVX512_BF16 inline __m512 dot_pairs(__m512 acc, __m512i a, __m512i b) {
  return _mm512_dpbf16_ps(acc, reinterpret_cast<__m512bh>(a), reinterpret_cast<__m512bh>(b));
}

NPW_TARGET_AVX512_BF16 void convert_keys(const float* k, int ldk, int n_kv, int width, uint32_t* kp, int ldkp) {
  const int n_pairs = width / 2;
  const __m512i stride = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(ldkp));
  for (int j = 0; j < n_kv; ++j) {
    const float* row = k + static_cast<long>(j) * ldk;
    for (int p0 = 0; p0 < n_pairs; p0 += 16) {
      const int n = std::min(16, n_pairs - p0);
      const __mmask16 m = tail_mask(n);
      const __mmask16 lo = tail_mask(2 * n), hi = tail_mask(2 * n - 16 > 0 ? 2 * n - 16 : 0);
      const __m512i pr = pairs_of(_mm512_maskz_loadu_ps(lo, row + 2 * p0), _mm512_maskz_loadu_ps(hi, row + 2 * p0 + 16));
      _mm512_mask_i32scatter_epi32(kp + static_cast<long>(p0) * ldkp + j, m, stride, pr, 4);
    }
  }
}

NPW_TARGET_AVX512_BF16 void convert_values(const float* v, int ldv, int n_kv, int width, uint32_t* vp) {
  for (int jp = 0; jp < (n_kv + 1) / 2; ++jp) {
    const float* a = v + static_cast<long>(2 * jp) * ldv;
    const float* b = 2 * jp + 1 < n_kv ? a + ldv : nullptr;
    uint32_t* out = vp + static_cast<long>(jp) * width;
    for (int c = 0; c < width; c += 16) {
      const __mmask16 m = tail_mask(width - c);
      const __m512i lo = bf16_lanes(_mm512_maskz_loadu_ps(m, a + c));
      const __m512i hi = b ? bf16_lanes(_mm512_maskz_loadu_ps(m, b + c)) : _mm512_setzero_si512();
      _mm512_mask_storeu_epi32(out + c, m, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
  }
}

constexpr int kKeys = 64;

// Scores of rows [0, RB) over one key block from bf16 pairs, then the running softmax as in the f32
// kernel; the block's probabilities leave as bf16 pairs (32 per row).
template <int RB>
NPW_TARGET_AVX512_BF16 inline void score_exp_block(const uint32_t* qp, int n_dpairs, const uint32_t* kp, int ldkp, float alpha, int j0,
                            const __mmask16* km, const int* lim, float* m, float* l, float* scale, uint32_t* pp) {
  __m512 acc[RB][4];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_ps();
  const uint32_t* k = kp + j0;
  for (int p = 0; p < n_dpairs; ++p) {
    const uint32_t* kd = k + static_cast<long>(p) * ldkp;
    const __m512i k0 = _mm512_maskz_loadu_epi32(km[0], kd);
    const __m512i k1 = _mm512_maskz_loadu_epi32(km[1], kd + 16);
    const __m512i k2 = _mm512_maskz_loadu_epi32(km[2], kd + 32);
    const __m512i k3 = _mm512_maskz_loadu_epi32(km[3], kd + 48);
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512i qv = _mm512_set1_epi32(static_cast<int>(qp[r * n_dpairs + p]));
      acc[r][0] = dot_pairs(acc[r][0], qv, k0);
      acc[r][1] = dot_pairs(acc[r][1], qv, k1);
      acc[r][2] = dot_pairs(acc[r][2], qv, k2);
      acc[r][3] = dot_pairs(acc[r][3], qv, k3);
    }
  }
  const __m512 a = _mm512_set1_ps(alpha);
  const __m512 neg_inf = _mm512_set1_ps(-INFINITY);
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    const int left = lim[r] - j0;
    __mmask16 vm[4];
    __m512 vmax = neg_inf;
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const int n = left - 16 * c;
      vm[c] = static_cast<__mmask16>(km[c] & (n <= 0 ? 0 : tail_mask(n)));
      acc[r][c] = _mm512_mul_ps(acc[r][c], a);
      vmax = _mm512_mask_max_ps(vmax, vm[c], vmax, acc[r][c]);
    }
    uint32_t* pr = pp + r * (kKeys / 2);
    const float m_new = std::max(m[r], _mm512_reduce_max_ps(vmax));
    if (m_new == -INFINITY) {
      _mm512_storeu_si512(pr, _mm512_setzero_si512());
      _mm512_storeu_si512(pr + 16, _mm512_setzero_si512());
      scale[r] = 1.0f;
      continue;
    }
    const float sc = m[r] == -INFINITY ? 0.0f : std::exp(m[r] - m_new);
    const __m512 vm_new = _mm512_set1_ps(m_new);
    __m512 e[4];
    __m512 sum = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      e[c] = _mm512_maskz_mov_ps(vm[c], avx512::exp_nonpositive_ps(_mm512_sub_ps(acc[r][c], vm_new)));
      sum = _mm512_add_ps(sum, e[c]);
    }
    _mm512_storeu_si512(pr, pairs_of(e[0], e[1]));
    _mm512_storeu_si512(pr + 16, pairs_of(e[2], e[3]));
    l[r] = l[r] * sc + _mm512_reduce_add_ps(sum);
    m[r] = m_new;
    scale[r] = sc;
  }
}

// out rows [0, RB) = out * scale + p . v over the key pairs [0, n_kpairs) of one block.
template <int RB, int NV>
NPW_TARGET_AVX512_BF16 inline void pv_block(const uint32_t* pp, int n_kpairs, const uint32_t* vp, int width, bool first, const float* scale,
                     float* out, int ldo) {
  __m512 acc[RB][NV];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    const __m512 sc = _mm512_set1_ps(scale[r]);
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c)
      acc[r][c] = first ? _mm512_setzero_ps() : _mm512_mul_ps(_mm512_loadu_ps(out + static_cast<long>(r) * ldo + 16 * c), sc);
  }
  for (int jp = 0; jp < n_kpairs; ++jp) {
    const uint32_t* vj = vp + static_cast<long>(jp) * width;
    __m512i vv[NV];
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) vv[c] = _mm512_loadu_si512(vj + 16 * c);
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512i pr = _mm512_set1_epi32(static_cast<int>(pp[r * (kKeys / 2) + jp]));
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) acc[r][c] = dot_pairs(acc[r][c], pr, vv[c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + static_cast<long>(r) * ldo + 16 * c, acc[r][c]);
}

template <int NV>
NPW_TARGET_AVX512_BF16 void pv_rows(const uint32_t* pp, int rows, int n_kpairs, const uint32_t* vp, int width, bool first, const float* scale,
             float* out, int ldo) {
  constexpr int kRows = NV <= 2 ? 8 : NV <= 4 ? 24 / NV : 3;
  constexpr int P = kKeys / 2;
  int r = 0;
  for (; r + kRows <= rows; r += kRows) {
    pv_block<kRows, NV>(pp + r * P, n_kpairs, vp, width, first, scale + r, out + static_cast<long>(r) * ldo, ldo);
  }
  const uint32_t* pr = pp + r * P;
  float* o = out + static_cast<long>(r) * ldo;
  switch (rows - r) {
    case 7: pv_block<7 < kRows ? 7 : 1, NV>(pr, n_kpairs, vp, width, first, scale + r, o, ldo); break;
    case 6: pv_block<6 < kRows ? 6 : 1, NV>(pr, n_kpairs, vp, width, first, scale + r, o, ldo); break;
    case 5: pv_block<5 < kRows ? 5 : 1, NV>(pr, n_kpairs, vp, width, first, scale + r, o, ldo); break;
    case 4: pv_block<4 < kRows ? 4 : 1, NV>(pr, n_kpairs, vp, width, first, scale + r, o, ldo); break;
    case 3: pv_block<3 < kRows ? 3 : 1, NV>(pr, n_kpairs, vp, width, first, scale + r, o, ldo); break;
    case 2: pv_block<2 < kRows ? 2 : 1, NV>(pr, n_kpairs, vp, width, first, scale + r, o, ldo); break;
    case 1: pv_block<1, NV>(pr, n_kpairs, vp, width, first, scale + r, o, ldo); break;
    default: break;
  }
}

template <int NV>
NPW_TARGET_AVX512_BF16 void fused_nv(const float* q, int ldq, int rows, const uint32_t* kp, int ldkp, int n_keys, const uint32_t* vp, int width,
              float alpha, const int* lim, float* out, int ldo) {
  constexpr int kMaxRows = kAttentionMaxTileRows, kScoreRows = 6, n_dpairs = 8 * NV;
  alignas(64) uint32_t qp[kMaxRows * n_dpairs];
  alignas(64) uint32_t pp[kMaxRows * (kKeys / 2)];
  float m[kMaxRows], l[kMaxRows], scale[kMaxRows];
  for (int r = 0; r < rows; ++r) {
    const float* qr = q + static_cast<long>(r) * ldq;
#pragma GCC unroll 8
    for (int c = 0; c < NV; c += 2) {
      const __m512 lo = _mm512_loadu_ps(qr + 16 * c);
      const __m512 hi = c + 1 < NV ? _mm512_loadu_ps(qr + 16 * c + 16) : _mm512_setzero_ps();
      _mm512_mask_storeu_epi32(qp + r * n_dpairs + 8 * c, c + 1 < NV ? 0xFFFF : 0x00FF, pairs_of(lo, hi));
    }
    m[r] = -INFINITY;
    l[r] = 0.0f;
  }
  for (int j0 = 0; j0 < n_keys; j0 += kKeys) {
    __mmask16 km[4];
    for (int c = 0; c < 4; ++c) {
      const int left = n_keys - j0 - 16 * c;
      km[c] = left <= 0 ? static_cast<__mmask16>(0) : tail_mask(left);
    }
    int r = 0;
    for (; r + kScoreRows <= rows; r += kScoreRows) {
      score_exp_block<kScoreRows>(qp + r * n_dpairs, n_dpairs, kp, ldkp, alpha, j0, km, lim + r, m + r, l + r, scale + r,
                                  pp + r * (kKeys / 2));
    }
    const uint32_t* qr = qp + r * n_dpairs;
    uint32_t* pr = pp + r * (kKeys / 2);
    switch (rows - r) {
      case 5: score_exp_block<5>(qr, n_dpairs, kp, ldkp, alpha, j0, km, lim + r, m + r, l + r, scale + r, pr); break;
      case 4: score_exp_block<4>(qr, n_dpairs, kp, ldkp, alpha, j0, km, lim + r, m + r, l + r, scale + r, pr); break;
      case 3: score_exp_block<3>(qr, n_dpairs, kp, ldkp, alpha, j0, km, lim + r, m + r, l + r, scale + r, pr); break;
      case 2: score_exp_block<2>(qr, n_dpairs, kp, ldkp, alpha, j0, km, lim + r, m + r, l + r, scale + r, pr); break;
      case 1: score_exp_block<1>(qr, n_dpairs, kp, ldkp, alpha, j0, km, lim + r, m + r, l + r, scale + r, pr); break;
      default: break;
    }
    const int nk = std::min(kKeys, n_keys - j0);
    pv_rows<NV>(pp, rows, (nk + 1) / 2, vp + static_cast<long>(j0 / 2) * width, width, j0 == 0, scale, out, ldo);
  }
  for (int r = 0; r < rows; ++r) {
    const __m512 inv = _mm512_set1_ps(l[r] > 0.0f ? 1.0f / l[r] : 0.0f);
    float* o = out + static_cast<long>(r) * ldo;
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(o + 16 * c, _mm512_mul_ps(_mm512_loadu_ps(o + 16 * c), inv));
  }
}

NPW_TARGET_AVX512_BF16 void fused(const float* q, int ldq, int rows, const uint32_t* kp, int ldkp, int n_keys, const uint32_t* vp, int width,
           int d_head, float alpha, const int* lim, float* out, int ldo) {
  switch (d_head / 16) {
    case 1: fused_nv<1>(q, ldq, rows, kp, ldkp, n_keys, vp, width, alpha, lim, out, ldo); break;
    case 2: fused_nv<2>(q, ldq, rows, kp, ldkp, n_keys, vp, width, alpha, lim, out, ldo); break;
    case 3: fused_nv<3>(q, ldq, rows, kp, ldkp, n_keys, vp, width, alpha, lim, out, ldo); break;
    case 4: fused_nv<4>(q, ldq, rows, kp, ldkp, n_keys, vp, width, alpha, lim, out, ldo); break;
    case 5: fused_nv<5>(q, ldq, rows, kp, ldkp, n_keys, vp, width, alpha, lim, out, ldo); break;
    case 6: fused_nv<6>(q, ldq, rows, kp, ldkp, n_keys, vp, width, alpha, lim, out, ldo); break;
    case 7: fused_nv<7>(q, ldq, rows, kp, ldkp, n_keys, vp, width, alpha, lim, out, ldo); break;
    case 8: fused_nv<8>(q, ldq, rows, kp, ldkp, n_keys, vp, width, alpha, lim, out, ldo); break;
    default: break;
  }
}

}  // namespace

const AttentionKernelsBf16 kAttentionKernelsBf16 = {16, 128, convert_keys, convert_values, fused};

}  // namespace npw


namespace npw {

const AttentionKernelsBf16* attention_kernels_bf16() {
  return simd_has_avx512_bf16() ? &kAttentionKernelsBf16 : nullptr;
}

}  // namespace npw
