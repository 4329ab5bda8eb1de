// The reduced-precision attention task with its scores made in int8 (AVX-512 VNNI) and its weighted
// sum of values in bf16 (AVX512_BF16), for CPUs with both but no AMX tile unit (Zen 4, Zen 5). A
// vpdpbusd does 64 multiply-adds where a vdpbf16ps does 32, so the scores, half of a task's products,
// cost half as many instructions as in the bf16 task (attention_bf16_avx512.cpp), whose softmax and
// value half this task shares (attention_bf16_parts_avx512.h).
//
// Quantisation follows SageAttention (Zhang et al., 2024): the keys are first "smoothed", the mean
// over the call's keys subtracted from each (which shifts every score of a query row by the same
// q . mean and so leaves the softmax unchanged, while the keys' common offset no longer eats into their
// 8 bits); then each key and each query row of a head is rounded to int8 with its own scale. The
// probabilities and values stay bf16. (Where the CPU has VNNI, attention_int8_avx512.cpp makes the
// weighted sum in int8 too, and this task runs only with NPW_ATTENTION_VALUES=float.)
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "nn/attention_kernels.h"

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "nn/attention_bf16_parts_avx512.h"
#include "nn/attention_int8_parts_avx512.h"
#include "util/simd_target.h"
#include "util/vec_math_avx512.h"

namespace npw {

namespace {

using attention_avx512::finish_rows;
using attention_int8::score_rows;

// Query rows [0, RB) of one head, d_head = 16 NV: the whole task for those rows. first: the task's first
// block of rows, the only one that asks for keys ahead (score_rows).
template <int RB, int NV>
NPW_TARGET_AVX512_BF16_VNNI void rows_block(const float* q, int ldq, const uint32_t* kq, int ldkq, const float* ks,
                                            int n_keys, const uint32_t* vp, int width, float alpha,
                                            const int* lim, float* out, int ldo, float* s, int lds, uint32_t* pp,
                                            int ldp, bool first) {
  int row_lim[RB];
  float row_max[RB], qs[RB];
  const int nk = score_rows<RB, NV>(q, ldq, kq, ldkq, ks, n_keys, lim, out, ldo, s, lds, row_lim, row_max, qs, first);
  if (nk == 0) return;

  // The query row's scale goes into the softmax's.
  float row_alpha[RB];
  for (int r = 0; r < RB; ++r) row_alpha[r] = alpha * qs[r];
  finish_rows<RB, NV>(s, lds, row_lim, nk, row_max, row_alpha, pp, ldp, vp, width, out, ldo);
}

template <int NV>
NPW_TARGET_AVX512_BF16_VNNI void task_nv(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq,
                                         const float* ks, int n_keys, const uint32_t* vp, int width,
                                         float alpha, const int* lim, float* out, int ldo, float* s, int lds,
                                         uint32_t* pp, int ldp) {
  attention_avx512::for_row_blocks(rows, [&](auto rb, int r) {
    rows_block<decltype(rb)::value, NV>(q + static_cast<long>(r) * ldq, ldq, kq, ldkq, ks, n_keys, vp, width, alpha,
                                        lim + r, out + static_cast<long>(r) * ldo, ldo, s, lds, pp, ldp, r == 0);
  });
}

}  // namespace

NPW_TARGET_AVX512_BF16_VNNI void attention_task_int8_scores_avx512(const float* q, int ldq, int rows,
                                                                   const uint32_t* kq, int ldkq, const float* kscale,
                                                                   int n_keys, const uint32_t* vp,
                                                                   int width, int d_head, float alpha, const int* lim,
                                                                   float* out, int ldo, float* s, int lds,
                                                                   uint32_t* pp, int ldp) {
  switch (d_head / 16) {
    case 1: task_nv<1>(q, ldq, rows, kq, ldkq, kscale, n_keys, vp, width, alpha, lim, out, ldo, s, lds, pp, ldp); break;
    case 2: task_nv<2>(q, ldq, rows, kq, ldkq, kscale, n_keys, vp, width, alpha, lim, out, ldo, s, lds, pp, ldp); break;
    case 4: task_nv<4>(q, ldq, rows, kq, ldkq, kscale, n_keys, vp, width, alpha, lim, out, ldo, s, lds, pp, ldp); break;
    default: break;  // attention_bf16_takes() excludes the rest
  }
}

}  // namespace npw
