// AVX-512 attention kernels (see attention_kernels.h). Register-blocked so that each FMA's operands
// come from registers or one broadcast: scores take 6 query rows x 64 keys per block with the keys
// transposed (16 consecutive keys per vector), the weighted sum takes up to 8 rows x the whole head.
// Tails use masked loads and stores instead of scalar loops.
#include "nn/attention_kernels.h"

#include <cmath>

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,fma")

#include "nn/vec_math_avx512.h"

namespace npw {

namespace {

inline __mmask16 tail_mask(int n) { return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u); }

// Rows [0, RB) x keys [j0, j0 + 64) of the scores; masks m[c] select the keys that exist.
template <int RB>
inline void scores_block(const float* q, int ldq, const float* kt, int ldkt, int d_head, float alpha, float* s,
                         int lds, int j0, const __mmask16* m) {
  __m512 acc[RB][4];
  #pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
    #pragma GCC unroll 16
    for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_ps();
  const float* k = kt + j0;
  for (int d = 0; d < d_head; ++d) {
    const float* kd = k + static_cast<long>(d) * ldkt;
    const __m512 k0 = _mm512_maskz_loadu_ps(m[0], kd);
    const __m512 k1 = _mm512_maskz_loadu_ps(m[1], kd + 16);
    const __m512 k2 = _mm512_maskz_loadu_ps(m[2], kd + 32);
    const __m512 k3 = _mm512_maskz_loadu_ps(m[3], kd + 48);
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
  #pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    float* sr = s + static_cast<long>(r) * lds + j0;
    #pragma GCC unroll 16
    for (int c = 0; c < 4; ++c) _mm512_mask_storeu_ps(sr + 16 * c, m[c], _mm512_mul_ps(acc[r][c], a));
  }
}

void scores(const float* q, int ldq, int rows, const float* kt, int ldkt, int n_keys, int d_head, float alpha, float* s,
            int lds) {
  constexpr int kRows = 6;
  // Keys outer, rows inner: one 64-key slice of kt (d_head x 256 bytes) stays in L1 for every row.
  for (int j0 = 0; j0 < n_keys; j0 += 64) {
    __mmask16 m[4];
    #pragma GCC unroll 16
    for (int c = 0; c < 4; ++c) {
      const int left = n_keys - j0 - 16 * c;
      m[c] = left <= 0 ? static_cast<__mmask16>(0) : tail_mask(left);
    }
    int r = 0;
    for (; r + kRows <= rows; r += kRows) {
      scores_block<kRows>(q + static_cast<long>(r) * ldq, ldq, kt, ldkt, d_head, alpha, s + static_cast<long>(r) * lds,
                          lds, j0, m);
    }
    const float* qr = q + static_cast<long>(r) * ldq;
    float* sr = s + static_cast<long>(r) * lds;
    switch (rows - r) {
      case 5: scores_block<5>(qr, ldq, kt, ldkt, d_head, alpha, sr, lds, j0, m); break;
      case 4: scores_block<4>(qr, ldq, kt, ldkt, d_head, alpha, sr, lds, j0, m); break;
      case 3: scores_block<3>(qr, ldq, kt, ldkt, d_head, alpha, sr, lds, j0, m); break;
      case 2: scores_block<2>(qr, ldq, kt, ldkt, d_head, alpha, sr, lds, j0, m); break;
      case 1: scores_block<1>(qr, ldq, kt, ldkt, d_head, alpha, sr, lds, j0, m); break;
      default: break;
    }
  }
}

void softmax_rows(float* s, int lds, int rows, const int* lim, int n_keys, float* inv_sum) {
  for (int r = 0; r < rows; ++r) {
    float* x = s + static_cast<long>(r) * lds;
    const int n = lim[r] < n_keys ? (lim[r] > 0 ? lim[r] : 0) : n_keys;
    if (n == 0) {
      for (int j = 0; j < n_keys; j += 16) _mm512_mask_storeu_ps(x + j, tail_mask(n_keys - j), _mm512_setzero_ps());
      inv_sum[r] = 0.0f;
      continue;
    }
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int j = 0; j < n; j += 16) {
      const __mmask16 m = tail_mask(n - j);
      mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, x + j));
    }
    const __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 sum = _mm512_setzero_ps();
    for (int j = 0; j < n; j += 16) {
      const __mmask16 m = tail_mask(n - j);
      const __m512 e = _mm512_maskz_mov_ps(m, avx512::exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + j), vmax)));
      _mm512_mask_storeu_ps(x + j, m, e);
      sum = _mm512_add_ps(sum, e);
    }
    // Masked keys weigh exactly nothing, as exp(-inf) in the reference.
    for (int j = n; j < n_keys; ++j) x[j] = 0.0f;
    inv_sum[r] = 1.0f / _mm512_reduce_add_ps(sum);
  }
}

// Rows [0, RB) of the output over NV vectors of 16 (d_head = 16 NV), for keys [0, n_keys) of one
// key block: the block's partial sums are added to what `out` holds unless `first`, and the row's
// 1 / sum is applied when `inv_sum` is given (the last block).
template <int RB, int NV>
inline void weighted_block(const float* p, int ldp, int n_keys, const float* v, int ldv, bool first,
                           const float* inv_sum, float* out, int ldo) {
  __m512 acc[RB][NV];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c)
      acc[r][c] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(out + static_cast<long>(r) * ldo + 16 * c);
  for (int j = 0; j < n_keys; ++j) {
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
  for (int r = 0; r < RB; ++r) {
    const __m512 sc = _mm512_set1_ps(inv_sum ? inv_sum[r] : 1.0f);
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + static_cast<long>(r) * ldo + 16 * c, _mm512_mul_ps(acc[r][c], sc));
  }
}

// Keys in blocks of kKeys, rows inner: a block of values (kKeys x d_head) stays in L1 while every
// row block of the tile uses it, instead of each row block streaming the head's values from L2.
// As many rows per register block as keep RB x NV accumulators within the 32 vector registers.
template <int NV>
void weighted_rows(const float* p, int ldp, int rows, int n_keys, const float* v, int ldv, const float* inv_sum,
                   float* out, int ldo) {
  constexpr int kRows = NV == 1 ? 8 : NV == 2 ? 8 : NV <= 4 ? 24 / NV : 3;
  constexpr int kKeys = 64;
  for (int j0 = 0; j0 < n_keys; j0 += kKeys) {
    const int nk = n_keys - j0 < kKeys ? n_keys - j0 : kKeys;
    const bool first = j0 == 0;
    const bool last = j0 + kKeys >= n_keys;
    const float* vb = v + static_cast<long>(j0) * ldv;
    int r = 0;
    for (; r + kRows <= rows; r += kRows) {
      weighted_block<kRows, NV>(p + static_cast<long>(r) * ldp + j0, ldp, nk, vb, ldv, first, last ? inv_sum + r : nullptr,
                                out + static_cast<long>(r) * ldo, ldo);
    }
    // The leftover rows as one block.
    const float* pr = p + static_cast<long>(r) * ldp + j0;
    const float* inv = last ? inv_sum + r : nullptr;
    float* o = out + static_cast<long>(r) * ldo;
    switch (rows - r) {
      case 7: weighted_block<7 < kRows ? 7 : 1, NV>(pr, ldp, nk, vb, ldv, first, inv, o, ldo); break;
      case 6: weighted_block<6 < kRows ? 6 : 1, NV>(pr, ldp, nk, vb, ldv, first, inv, o, ldo); break;
      case 5: weighted_block<5 < kRows ? 5 : 1, NV>(pr, ldp, nk, vb, ldv, first, inv, o, ldo); break;
      case 4: weighted_block<4 < kRows ? 4 : 1, NV>(pr, ldp, nk, vb, ldv, first, inv, o, ldo); break;
      case 3: weighted_block<3 < kRows ? 3 : 1, NV>(pr, ldp, nk, vb, ldv, first, inv, o, ldo); break;
      case 2: weighted_block<2 < kRows ? 2 : 1, NV>(pr, ldp, nk, vb, ldv, first, inv, o, ldo); break;
      case 1: weighted_block<1, NV>(pr, ldp, nk, vb, ldv, first, inv, o, ldo); break;
      default: break;
    }
  }
}

void weighted_sum(const float* p, int ldp, int rows, int n_keys, const float* v, int ldv, int d_head,
                  const float* inv_sum, float* out, int ldo) {
  switch (d_head / 16) {
    case 1: weighted_rows<1>(p, ldp, rows, n_keys, v, ldv, inv_sum, out, ldo); break;
    case 2: weighted_rows<2>(p, ldp, rows, n_keys, v, ldv, inv_sum, out, ldo); break;
    case 3: weighted_rows<3>(p, ldp, rows, n_keys, v, ldv, inv_sum, out, ldo); break;
    case 4: weighted_rows<4>(p, ldp, rows, n_keys, v, ldv, inv_sum, out, ldo); break;
    case 5: weighted_rows<5>(p, ldp, rows, n_keys, v, ldv, inv_sum, out, ldo); break;
    case 6: weighted_rows<6>(p, ldp, rows, n_keys, v, ldv, inv_sum, out, ldo); break;
    case 7: weighted_rows<7>(p, ldp, rows, n_keys, v, ldv, inv_sum, out, ldo); break;
    case 8: weighted_rows<8>(p, ldp, rows, n_keys, v, ldv, inv_sum, out, ldo); break;
    default: break;  // excluded by d_head_max / d_head_multiple
  }
}

}  // namespace

const AttentionKernels kAttentionKernelsAvx512 = {16, 128, scores, softmax_rows, weighted_sum};

}  // namespace npw

#pragma GCC pop_options

namespace npw {

const AttentionKernels* attention_kernels(SimdLevel level) {
  return level == SimdLevel::Avx512 ? &kAttentionKernelsAvx512 : nullptr;
}

}  // namespace npw
