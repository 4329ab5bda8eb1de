// Attention of the decoder's few-query steps over its KV cache: one query row per sequence (a beam,
// a best-of sample), each over its own cache, all of them and all heads in one pass over the pool.
// The general MultiHeadAttention takes one sequence per call and, below 16 query rows, runs two
// BLAS products per head (one wake-up of the pool per sequence and layer, a call overhead per
// head); a 5-beam step then paid for its self-attention five times over. Here a (rows, head) task
// computes its scores with dot products straight from the cache (each key a contiguous d_head run,
// as they are written), takes ops.h's softmax and sums the value rows, on the SIMD level active (AVX2
// kernels, also on AVX-512 CPUs: the work is a few dot products per key and memory-bound) or
// portable loops. The rows of a task are one row, or (SIMD) consecutive rows reading the same
// shared prefix - the beams after their prompt - whose keys and values it reads once for all of
// them (each beam read the same prefix again before: one layer of tiny's 5-beam step after a
// 224-token prompt, 50 positions of each beam's own, half cache, one thread, Zen 5: 47 -> 31 us).
// Either way each row gets the same bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/aligned_buffer.h"

namespace npw {

class ThreadPool;

// One query row: its query (n_head * d_head floats, heads side by side), its sequence's keys and
// values (positions ldk / ldv elements apart, the first n_kv seen; heads as StepAttention::run says)
// and its output row. Keys and values are
// floats (k, v) or, from a half KV cache, IEEE halves (kh, vh; k and v null), widened exactly.
// The first n_shared of the n_kv keys and values may lie elsewhere (a prefix shared by the beams,
// KvCache): then they are read from ks, vs (or ksh, vsh), rows as far apart, and k, v (kh, vh) point
// at key n_shared. Rows sharing a prefix are best passed next to each other: each head's tasks run
// in row order, so the prefix rows one task read are still in cache for the next.
struct StepRow {
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  int n_kv = 0;
  float* out = nullptr;
  const uint16_t* kh = nullptr;
  const uint16_t* vh = nullptr;
  int n_shared = 0;
  const float* ks = nullptr;
  const float* vs = nullptr;
  const uint16_t* ksh = nullptr;
  const uint16_t* vsh = nullptr;
};

class StepAttention {
 public:
  // Scratch for up to max_kv keys on n_threads threads, allocated once.
  StepAttention(int max_kv, int n_threads);

  // out = softmax(q k^T / sqrt(d_head)) v per head, for every row. Keys and values of one position
  // are ldk / ldv elements after the previous one's; head h's lie h * kv_head_stride elements after
  // head 0's (0: d_head, heads side by side in rows of at least n_head * d_head, as the queries and
  // outputs always are; a head-major KvCache: d_head apart, heads KvCache::head_stride() apart).
  // Throws npw::Error(InvalidArgument) for inconsistent arguments (more keys or threads than the
  // scratch, strides below the heads). A row with n_kv == 0 gets zeros.
  void run(ThreadPool* pool, const StepRow* rows, int n_rows, int n_head, int d_head, int ldk, int ldv,
           std::size_t kv_head_stride = 0);

 private:
  int max_kv_;
  int n_threads_;
  // Rows sharing a prefix go together, up to this many a task (a task's scores are that many rows).
  static constexpr int kGroupRows = 8;
  AlignedBuffer<float> scores_{MemoryLabel{"attention scratch"}};  // [n_threads][kGroupRows][max_kv]
  std::vector<int> groups_;  // first row of each group of the call, and n_rows after the last
};

// The kernels of one (row, head), in step_attention_avx2.cpp; d a multiple of 8 (the caller checks).
// scores[j] = alpha * q . k_j for j < n_kv;
void step_scores_avx2(const float* q, const float* k, int ldk, int n_kv, int d, float alpha, float* scores);
void step_scores_avx2(const float* q, const uint16_t* k, int ldk, int n_kv, int d, float alpha, float* scores);
// out[0, d) = sum_j p[j] v_j over two runs of value rows, summed in one pass in order: j < n0 from
// v0, then n1 more from v1 (n0 = 0: one run). The split changes no bit of the result.
void step_weighted_sum_avx2(const float* p, const float* v0, int n0, const float* v1, int n1, int ldv, int d,
                            float* out);
void step_weighted_sum_avx2(const float* p, const uint16_t* v0, int n0, const uint16_t* v1, int n1, int ldv, int d,
                            float* out);
// out[0, d) += sum_{j < n} p[j] v_j, the sums continuing from out's values in the same order: a
// row's own values after step_weighted_sum_rows_avx2 summed its shared prefix (the bits of one pass
// over both runs).
void step_weighted_sum_more_avx2(const float* p, const float* v, int n, int ldv, int d, float* out);
void step_weighted_sum_more_avx2(const float* p, const uint16_t* v, int n, int ldv, int d, float* out);

// The kernels of one head for rows that read the same keys and values (the prefix every beam or
// sample shares): each key and value row is read and widened once for all of them, and each row's
// bits are the one-row kernels'.
// scores[r][j] = alpha * q[r] . k_j for r < n_rows, j < n_kv.
void step_scores_rows_avx2(const float* const* q, int n_rows, const float* k, int ldk, int n_kv, int d, float alpha,
                           float* const* scores);
void step_scores_rows_avx2(const float* const* q, int n_rows, const uint16_t* k, int ldk, int n_kv, int d,
                           float alpha, float* const* scores);
// out[r][0, d) = sum_{j < n} p[r][j] v_j for r < n_rows (the first run of step_weighted_sum_avx2).
void step_weighted_sum_rows_avx2(const float* const* p, int n_rows, const float* v, int n, int ldv, int d,
                                 float* const* out);
void step_weighted_sum_rows_avx2(const float* const* p, int n_rows, const uint16_t* v, int n, int ldv, int d,
                                 float* const* out);

}  // namespace npw
