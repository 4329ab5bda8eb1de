// The three inner steps of one attention task (scores, softmax, weighted sum of values) as fast
// paths per instruction set. attention.cpp owns the tiling, the masks and the threads and falls back
// to its portable backend-product path (the reference these kernels are tested against) when no fast
// path fits the CPU or the head size.
#pragma once

#include "util/cpu_features.h"

namespace npw {

struct AttentionKernels {
  // Head sizes the kernels take: a multiple of d_head_multiple, at most d_head_max.
  int d_head_multiple;
  int d_head_max;

  // s[r][j] = alpha * sum_d q[r][d] * kt[d][j] for r < rows, j < n_keys. kt is one head's keys
  // transposed ([d_head][n_keys], rows ldkt floats apart); s rows are lds floats apart.
  void (*scores)(const float* q, int ldq, int rows, const float* kt, int ldkt, int n_keys, int d_head,
                 float alpha, float* s, int lds);

  // Row r becomes exp(s - max) over its first lim[r] entries and 0 over the rest up to n_keys;
  // inv_sum[r] = 1 / (sum of the exps), or 0 for a row with no visible key.
  void (*softmax_rows)(float* s, int lds, int rows, const int* lim, int n_keys, float* inv_sum);

  // out[r][d] = inv_sum[r] * sum_j p[r][j] * v[j][d] for r < rows, d < d_head.
  void (*weighted_sum)(const float* p, int ldp, int rows, int n_keys, const float* v, int ldv, int d_head,
                       const float* inv_sum, float* out, int ldo);
};

// The kernels for `level`, or nullptr where that level has none.
const AttentionKernels* attention_kernels(SimdLevel level);

// Per-level tables, defined in their own files (compiled for their instruction set). AVX2-only CPUs
// keep the portable path for attention: the projections around it dominate there.
extern const AttentionKernels kAttentionKernelsAvx512;

}  // namespace npw
