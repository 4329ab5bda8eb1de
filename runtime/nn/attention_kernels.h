// One attention task (scores, softmax, weighted sum of values for a tile of query rows of one head)
// as a fast path per instruction set. attention.cpp owns the tiling, the masks and the threads and falls back
// to its portable backend-product path (the reference these kernels are tested against) when no fast
// path fits the CPU or the head size.
#pragma once

#include "util/cpu_features.h"

namespace npw {

// Query rows per task that the kernels take at most (attention.cpp's tile height).
constexpr int kAttentionMaxTileRows = 64;

struct AttentionKernels {
  // Head sizes the kernels take: a multiple of d_head_multiple, at most d_head_max.
  int d_head_multiple;
  int d_head_max;

  // One task of up to kAttentionMaxTileRows query rows of one head: out[r] = softmax(alpha * q[r] . kt over keys
  // [0, lim[r])) v, zeros for a row with lim[r] == 0; lim[r] <= n_keys. kt is the head's keys
  // transposed ([d_head][n_keys], rows ldkt floats apart); q, v and out rows as in AttentionArgs.
  void (*fused)(const float* q, int ldq, int rows, const float* kt, int ldkt, int n_keys, const float* v, int ldv,
                int d_head, float alpha, const int* lim, float* out, int ldo);
};

// The kernels for `level`, or nullptr where that level has none.
const AttentionKernels* attention_kernels(SimdLevel level);

// Per-level tables, defined in their own files (compiled for their instruction set). AVX2-only CPUs
// keep the portable path for attention: the projections around it dominate there.
extern const AttentionKernels kAttentionKernelsAvx512;

}  // namespace npw
