// Multi-head scaled dot-product attention, shared by the encoder (self-attention over 1500 frames)
// and the decoder (causal self-attention over a KV cache, cross-attention over the encoder output).
// Q, K and V are row-major activations with the heads side by side in each row (head h in columns
// [h * d_head, (h + 1) * d_head)), each with its own row stride, so callers pass projections or cache
// slices where they lie. Each (head, block of query rows) is one task on the pool. Two paths compute
// a task: the portable one (two backend products around ops.h's softmax, scores in per-thread
// scratch allocated once; the reference) and, where the CPU has one and the keys are transposed
// (by the caller, or here when enough query rows amortise it), the flash-style SIMD kernel of
// attention_kernels.h.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "nn/int8_key_values.h"
#include "util/aligned_buffer.h"

namespace npw {

class Backend;
class ThreadPool;

struct AttentionArgs {
  int n_head = 0;
  int d_head = 0;

  const float* q = nullptr;  // [n_q] rows, ldq floats apart
  int ldq = 0;
  int n_q = 0;
  const float* k = nullptr;  // [n_kv] rows, ldk floats apart; with k_transposed, see below
  int ldk = 0;
  // The keys already transposed: k holds n_head * d_head rows of ldk >= n_kv floats, row
  // h * d_head + d holding dimension d of head h for every key. Keys that serve many calls (the
  // decoder's cross-attention over one window) are stored so once, and the SIMD path then needs no
  // transposition and takes any number of query rows.
  bool k_transposed = false;
  const float* v = nullptr;  // [n_kv] rows, ldv floats apart
  int ldv = 0;
  // 0: every head's values side by side in v's rows (head h's at column h * d_head). Otherwise values
  // head after head: head h's n_kv rows of d_head at v (or v_half) + h * v_head_stride, ldv (>= d_head)
  // apart, with transposed keys only (the decoder's cross-attention over a window, which reads one
  // head's values as one run: 256 B in every 2 KiB row before). The bf16 path, whose pair layouts are
  // made from rows of every head, leaves such halves to the f32 paths.
  std::size_t v_head_stride = 0;
  int n_kv = 0;
  float* out = nullptr;      // [n_q] rows of n_head * d_head, ldo floats apart; must not overlap q, k, v
  int ldo = 0;
  // IEEE half keys or values in place of k or v (which are then ignored), laid out as those with the
  // same strides in elements: the decoder keeps a window's cross-attention keys and values so, at half
  // the memory. Half keys must be transposed. Widening a half is exact, so every f32 path gives the
  // same bits as on the widened floats. The bf16 path takes half values (with transposed keys, halves
  // or floats) only from kBf16HalfMinRows query rows on (a prompt's cross-attention), where rounding
  // them into its pair layouts costs less than it saves; then its results are those of the bf16 path
  // on the widened floats, bit for bit.
  const uint16_t* k_half = nullptr;
  const uint16_t* v_half = nullptr;
  // The keys and values already in the int8 task's layouts (prepare_int8_keys_values: a window's
  // cross-attention, made once for every call over it). Where the int8 task runs (uses_int8: reduced
  // precision on a CPU that prefers it) it reads these and converts nothing, and k, v and their halves
  // may be left out; a call that does not take that task needs them.
  const Int8KeysValues* int8 = nullptr;

  // Which keys each query row sees. By default all n_kv. With `causal`, query row i sits at key
  // position q_pos0 + i and sees keys [0, q_pos0 + i] (Whisper's decoder mask; q_pos0 is the length
  // of the cache before these queries). `kv_limit`, when given, overrides both: row i sees keys
  // [0, kv_limit[i]). A row that sees no key gets zeros.
  // Allows the reduced-precision paths (attention_kernels.h: int8 scores and values with AVX512_VNNI
  // and no AMX; bf16 on AMX tiles, or with AVX512_BF16) where the CPU has them: for backends that
  // trade accuracy for speed (Backend::reduced_precision_attention), never for the f32 reference path.
  bool reduced_precision = false;

  bool causal = false;
  int q_pos0 = 0;
  // A stop flag (util/cancel.h): when set, no further task starts and the output is unspecified;
  // the caller checks the flag afterwards. A whole layer's attention is long on a busy machine.
  const std::atomic<bool>* cancel = nullptr;
  const int* kv_limit = nullptr;
};

class MultiHeadAttention {
 public:
  // Scratch for up to max_kv keys on `n_threads` threads (the size of the pool that run() gets; 1
  // without a pool), and for the transposed keys of rows up to max_width (= n_head * d_head) floats
  // wide; max_width 0 leaves the SIMD path out. Allocated here, once.
  // half_d_head > 0 adds per-thread scratch to widen one head's half keys and values
  // (AttentionArgs::k_half, v_half) for heads up to that size.
  MultiHeadAttention(int max_kv, int n_threads, int max_width = 0, int half_d_head = 0);

  // out = softmax(q k^T / sqrt(d_head) + mask) v, per head. Scores are formed as one product with
  // alpha = d_head^-0.5, the same value as OpenAI's scaling of q and k by d_head^-0.25 each. Runs the
  // tasks on `pool` (nullptr: on the calling thread, leaving the backend free to thread each
  // product). Throws npw::Error(InvalidArgument) for inconsistent arguments or more keys or pool
  // threads than the scratch was made for.
  void run(Backend& backend, ThreadPool* pool, const AttentionArgs& args);

  int max_kv() const { return max_kv_; }

  // Query rows per task.
  static constexpr int kTileRows = 64;
  // Fewer query rows than this take the portable path: transposing the keys would cost more than
  // it saves (the decoder's one-token steps).
  static constexpr int kSimdMinRows = 16;
  // Half keys and values take the bf16 path (reduced_precision) from this many query rows on: the
  // pair layouts are made for each call, 2 x n_kv x width conversions, which a few query rows do not
  // repay.
  static constexpr int kBf16HalfMinRows = 64;

  // Whether run() would take the SIMD path for these arguments at the current SIMD level.
  bool uses_simd(const AttentionArgs& args) const;
  // Whether that SIMD path would be the bf16 one (AMX tiles or AVX512_BF16).
  bool uses_bf16(const AttentionArgs& args) const;
  // Whether this CPU at the active SIMD level has a bf16 task (AMX tiles, or AVX512_BF16 where it
  // measures faster than the f32 kernel): reduced-precision attention of a usable head size runs there.
  static bool bf16_available();
  // Whether run() would take the int8-score task with f32 values (simd_prefers_int8_scores_f32_values:
  // AVX512_VNNI where no bf16 task is taken) for these arguments: reduced precision, keys given as rows.
  bool uses_int8_f32(const AttentionArgs& args) const;
  // Whether run() would take the task with both products in int8 for these arguments: reduced
  // precision, and keys and values either already in the task's layouts (AttentionArgs::int8;
  // simd_takes_int8_attention_task: AVX512_VNNI, AMX or not, or AVX-VNNI at the AVX2 level) or given
  // as rows (simd_prefers_int8_attention_values: the same CPUs without AMX). Where it does, uses_bf16 and
  // uses_int8_f32 say no.
  bool uses_int8(const AttentionArgs& args) const;

 private:
  void run_portable(Backend& backend, ThreadPool* pool, const AttentionArgs& args);
  void run_simd(ThreadPool* pool, const AttentionArgs& args);
  void transpose_keys(ThreadPool* pool, const AttentionArgs& args);
  void run_bf16(ThreadPool* pool, const AttentionArgs& args);
  void run_int8_f32(ThreadPool* pool, const AttentionArgs& args);
  void run_int8(ThreadPool* pool, const AttentionArgs& args);
  // Keys given as rows smoothed and rounded to int8 quads in key_pairs_ with their scales in key_scale_
  // (attention_int8_convert_keys), over the pool; the values, if vp, into bf16 pairs alongside.
  void quantize_keys(ThreadPool* pool, const AttentionArgs& args, uint32_t* vp);
  // A task's head of half keys (transposed, rows ldkt_ apart) and values (rows d_head apart) widened
  // into the thread's scratch; returns the pointers the f32 paths then read in place of args' own.
  struct Widened {
    const float* k;
    int ldk;
    const float* v;
    int ldv;
  };
  Widened widen_head(const AttentionArgs& args, std::size_t col, int kv_len, int thread);

  int max_kv_;
  int n_threads_;
  int max_width_;
  int ldkt_;                      // max_kv rounded up to 16 floats
  AlignedBuffer<float> scores_{MemoryLabel{"attention scratch"}};   // [n_threads][kTileRows][max_kv]
  AlignedBuffer<float> kt_{MemoryLabel{"attention scratch"}};       // [max_width][ldkt]: every head's keys transposed
  AlignedBuffer<int> row_lim_{MemoryLabel{"attention scratch"}};    // [n_threads][kTileRows]
  // Half keys and values widened, one head per thread: [n_threads][half_d_head][ldkt], [n_threads][max_kv][half_d_head].
  int half_d_head_ = 0;
  AlignedBuffer<float> wide_k_{MemoryLabel{"attention scratch"}}, wide_v_{MemoryLabel{"attention scratch"}};
  // The bf16 path's pair layouts and per-thread scratch (only where the CPU has AMX-BF16 or
  // AVX512_BF16): keys [max_width / 2][ldkt], values [(max_kv + 1) / 2][max_width].
  AlignedBuffer<uint32_t> key_pairs_{MemoryLabel{"attention scratch"}}, value_pairs_{MemoryLabel{"attention scratch"}};
  // scores [threads][16][ldkt], probability pairs [threads][16][ldp_].
  int ldp_ = 0;
  // The int8-score variants (simd_prefers_int8_attention_scores, simd_prefers_int8_scores_f32_values)
  // keep their key quads in key_pairs_ (half its size), and per head and key a scale:
  // [max_width / 16][ldkt]; the key mean [max_width]. The f32-value one has only these, and its scores
  // in bf16_scores_.
  AlignedBuffer<float> key_scale_{MemoryLabel{"attention scratch"}};
  AlignedBuffer<float> key_mean_{MemoryLabel{"attention scratch"}};
  AlignedBuffer<float> bf16_scores_{MemoryLabel{"attention scratch"}};
  AlignedBuffer<uint32_t> bf16_probs_{MemoryLabel{"attention scratch"}};
  // The int8-value task: per thread u8 exps [kInt8TaskRows][ldp8_] and chunk scales [kInt8TaskRows][ldps_]
  // wherever the CPU takes it (simd_takes_int8_attention_task); where it also rounds float rows
  // (simd_prefers_int8_attention_values), besides the key quads, scales, means and scores above: value
  // quads [16 x the chunks of max_kv][max_width] and the values' column means, scales and int8 factors
  // [3][max_width].
  static constexpr int kInt8TaskRows = 6;
  int ldp8_ = 0;
  int ldps_ = 0;
  AlignedBuffer<uint32_t> value_quads_{MemoryLabel{"attention scratch"}};
  AlignedBuffer<float> value_stats_{MemoryLabel{"attention scratch"}};
  AlignedBuffer<uint8_t> probs8_{MemoryLabel{"attention scratch"}};
  AlignedBuffer<float> chunk_scales_{MemoryLabel{"attention scratch"}};
  // The scratch above as a set of int8 keys and values (key_pairs_, key_scale_, key_mean_, value_quads_,
  // value_stats_), which a call without AttentionArgs::int8 has prepare_int8_keys_values fill.
  Int8KeysValues own_int8_;
};

}  // namespace npw
