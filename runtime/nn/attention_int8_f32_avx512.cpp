// The reduced-precision attention task for AVX-512 CPUs that have AVX512_VNNI but no bf16 products
// worth taking (Ice Lake, Tiger Lake, Rocket Lake, Cascade Lake; Intel without AMX, where the bf16 task
// measured slower than f32): the scores made in int8 by vpdpbusd exactly as the bf16 task with int8
// scores makes them (attention_int8_parts_avx512.h), then the softmax and the weighted sum of values in
// f32 FMAs. A vpdpbusd does 64 multiply-adds where an FMA does 16, so the scores, half of a task's
// products, cost a quarter of the f32 task's instructions; the probabilities and values stay f32, more
// accurate than the bf16 pairs of the other int8-score task.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "nn/attention_kernels.h"

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "nn/attention_bf16_parts_avx512.h"
#include "nn/attention_f32_parts_avx512.h"
#include "nn/attention_int8_parts_avx512.h"
#include "util/simd_target.h"
#include "util/vec_math_avx512.h"

namespace npw {

namespace {

using attention_int8::score_rows;

// Row scores s[0, nk) replaced by exp(alpha (s - row_max)) for keys below lim and by zeros from lim on;
// returns 1 / their sum. Base-2 exps with log2(e) folded into the scale, as the bf16 task's softmax.
NPW_TARGET_AVX512_VNNI inline float softmax_in_place(float* s, int lim, int nk, float row_max, float alpha) {
  const __m512 a2 = _mm512_set1_ps(alpha * exp_poly::kLog2e);
  const __m512 am = _mm512_set1_ps(row_max * (alpha * exp_poly::kLog2e));
  __m512 sum = _mm512_setzero_ps();
  for (int j = 0; j < nk; j += 16) {
    const __mmask16 m = avx512::tail_mask(lim - j);
    const __m512 e = _mm512_maskz_mov_ps(m, avx512::exp2_nonpositive_ps(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m, s + j), a2, am)));
    sum = _mm512_add_ps(sum, e);
    _mm512_mask_storeu_ps(s + j, avx512::tail_mask(nk - j), e);
  }
  return 1.0f / _mm512_reduce_add_ps(sum);
}

// Query rows [0, RB) of one head, d_head = 16 NV: the whole task for those rows. first: the task's first
// block of rows, the only one that asks for keys ahead (score_rows).
template <int RB, int NV>
NPW_TARGET_AVX512_VNNI void rows_block(const float* q, int ldq, const uint32_t* kq, int ldkq, const float* ks,
                                       int n_keys, const float* v, int ldv, float alpha, const int* lim, float* out,
                                       int ldo, float* s, int lds, bool first) {
  int row_lim[RB];
  float row_max[RB], qs[RB];
  const int nk = score_rows<RB, NV>(q, ldq, kq, ldkq, ks, n_keys, lim, out, ldo, s, lds, row_lim, row_max, qs, first);
  if (nk == 0) return;

  // The query row's scale goes into the softmax's; a row that sees no key gets zero weights.
  float inv[RB];
  for (int r = 0; r < RB; ++r) {
    float* sr = s + static_cast<long>(r) * lds;
    if (row_lim[r] == 0) {
      std::memset(sr, 0, sizeof(float) * static_cast<std::size_t>(nk));
      inv[r] = 0.0f;
      continue;
    }
    inv[r] = softmax_in_place(sr, row_lim[r], nk, row_max[r], alpha * qs[r]);
  }
  // The f32 kernel's weighted sum over all nk keys at once (zero weights past a row's keys), then
  // each row normalised.
  attention_f32::pv_block<RB, NV, float>(s, lds, nk, v, ldv, true, inv, out, ldo, nullptr);
  for (int r = 0; r < RB; ++r) {
    const __m512 sc = _mm512_set1_ps(inv[r]);
    float* o = out + static_cast<long>(r) * ldo;
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(o + 16 * c, _mm512_mul_ps(_mm512_loadu_ps(o + 16 * c), sc));
  }
}

template <int NV>
NPW_TARGET_AVX512_VNNI void task_nv(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq, const float* ks,
                                    int n_keys, const float* v, int ldv, float alpha, const int* lim, float* out,
                                    int ldo, float* s, int lds) {
  attention_avx512::for_row_blocks(rows, [&](auto rb, int r) {
    rows_block<decltype(rb)::value, NV>(q + static_cast<long>(r) * ldq, ldq, kq, ldkq, ks, n_keys, v, ldv, alpha, lim + r,
                                        out + static_cast<long>(r) * ldo, ldo, s, lds, r == 0);
  });
}

}  // namespace

NPW_TARGET_AVX512_VNNI void attention_task_int8_scores_f32_avx512(const float* q, int ldq, int rows, const uint32_t* kq,
                                                                  int ldkq, const float* kscale, int n_keys,
                                                                  const float* v, int ldv, int d_head, float alpha,
                                                                  const int* lim, float* out, int ldo, float* s,
                                                                  int lds) {
  switch (d_head / 16) {
    case 1: task_nv<1>(q, ldq, rows, kq, ldkq, kscale, n_keys, v, ldv, alpha, lim, out, ldo, s, lds); break;
    case 2: task_nv<2>(q, ldq, rows, kq, ldkq, kscale, n_keys, v, ldv, alpha, lim, out, ldo, s, lds); break;
    case 4: task_nv<4>(q, ldq, rows, kq, ldkq, kscale, n_keys, v, ldv, alpha, lim, out, ldo, s, lds); break;
    default: break;  // attention_bf16_takes() excludes the rest
  }
}

}  // namespace npw
