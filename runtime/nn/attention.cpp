// Attention as (head x query block) tasks: each task's scores fit in a thread's scratch (64 rows by
// the key count), so memory stays small whatever the sequence length, and the heads of one layer keep
// every pool thread busy even when the query count is one token.
#include "nn/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "backend/backend.h"
#include "nn/attention_kernels.h"
#include "nn/transpose_rows.h"
#include "model/half_rows.h"
#include "nn/int8_key_values.h"
#include "nn/ops.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

// Head col / d_head's values (AttentionArgs::v_head_stride), floats or halves: side by side or head
// after head.
template <typename T>
const T* head_values(const AttentionArgs& a, const T* v, std::size_t col) {
  return a.v_head_stride == 0 ? v + col : v + col / static_cast<std::size_t>(a.d_head) * a.v_head_stride;
}
const float* head_values(const AttentionArgs& a, std::size_t col) { return head_values(a, a.v, col); }
const uint16_t* head_half_values(const AttentionArgs& a, std::size_t col) { return head_values(a, a.v_half, col); }

[[noreturn]] void bad(const std::string& why) { throw Error(ErrorKind::InvalidArgument, "attention: " + why); }

// Keys visible to query row i.
inline int visible_keys(const AttentionArgs& a, int i) {
  int lim = a.n_kv;
  if (a.kv_limit) {
    lim = a.kv_limit[i];
  } else if (a.causal) {
    lim = a.q_pos0 + i + 1;
  }
  return std::max(0, std::min(lim, a.n_kv));
}

// One (head, tile of query rows) task as every path sees it.
struct Task {
  const float* q;      // the tile's first query row, at the head's columns
  int rows;
  const int* lim;      // keys each row sees
  int kv_len;          // the most any row sees (> 0)
  float* out;          // the tile's first output row, at the head's columns
  std::size_t col;     // the head's first column
  int thread;          // the pool thread running it (indexes per-thread scratch)
};

// Runs fn(task) for every (head, tile) on the pool (or inline), after working out which keys each
// row sees into lim_scratch ([threads][tile_rows]); a tile whose rows see no key gets zeros instead.
template <typename Fn>
void for_each_task(ThreadPool* pool, const AttentionArgs& a, int tile_rows, int* lim_scratch, Fn&& fn) {
  const int n_tiles = (a.n_q + tile_rows - 1) / tile_rows;
  auto run = [&](int64_t t, int thread) {
    const int h = static_cast<int>(t / n_tiles);
    const int i0 = static_cast<int>(t % n_tiles) * tile_rows;
    Task task;
    task.rows = std::min(tile_rows, a.n_q - i0);
    task.col = static_cast<std::size_t>(h) * a.d_head;
    task.thread = thread;
    int* lim = lim_scratch + static_cast<std::size_t>(thread) * tile_rows;
    int kv_len = 0;
    for (int r = 0; r < task.rows; ++r) {
      lim[r] = visible_keys(a, i0 + r);
      kv_len = std::max(kv_len, lim[r]);
    }
    task.lim = lim;
    task.kv_len = kv_len;
    task.q = a.q + static_cast<std::size_t>(i0) * a.ldq + task.col;
    task.out = a.out + static_cast<std::size_t>(i0) * a.ldo + task.col;
    if (kv_len == 0) {
      for (int r = 0; r < task.rows; ++r) {
        float* o = task.out + static_cast<std::size_t>(r) * a.ldo;
        std::fill(o, o + a.d_head, 0.0f);
      }
      return;
    }
    fn(task);
  };
  const int64_t n_tasks = static_cast<int64_t>(a.n_head) * n_tiles;
  auto stopped = [&] { return a.cancel && a.cancel->load(std::memory_order_relaxed); };
  if (!pool) {
    for (int64_t t = 0; t < n_tasks && !stopped(); ++t) run(t, 0);
    return;
  }
  // Tasks are taken one at a time from a shared counter rather than in fixed halves: on a busy
  // machine a thread that loses its core for a while then does fewer tasks instead of making the
  // whole layer wait for it. A task is tens of microseconds or more, so the counter costs nothing.
  std::atomic<int64_t> next{0};
  pool->parallel_for(std::min<int64_t>(n_tasks, pool->size()), [&](int64_t, int64_t, int thread) {
    for (int64_t t = next.fetch_add(1, std::memory_order_relaxed); t < n_tasks && !stopped();
         t = next.fetch_add(1, std::memory_order_relaxed)) {
      run(t, thread);
    }
  });
}

}  // namespace

const AttentionKernels* attention_kernels(SimdLevel level) {
  switch (level) {
    case SimdLevel::Avx512: return &kAttentionKernelsAvx512;
    case SimdLevel::Avx2: return &kAttentionKernelsAvx2;
    default: return nullptr;
  }
}

const Int8AttentionOps* int8_attention_ops(SimdLevel level) {
  static const Int8AttentionOps avx512{attention_int8_key_means, attention_int8_convert_keys, attention_int8_value_stats,
                                       attention_int8_convert_values, attention_task_int8_avx512};
  static const Int8AttentionOps avx2{attention_int8_key_means_avx2, attention_int8_convert_keys_avx2,
                                     attention_int8_value_stats_avx2, attention_int8_convert_values_avx2,
                                     attention_task_int8_avx2};
  switch (level) {
    case SimdLevel::Avx512: return &avx512;
    case SimdLevel::Avx2: return &avx2;
    default: return nullptr;
  }
}

MultiHeadAttention::MultiHeadAttention(int max_kv, int n_threads, int max_width, int half_d_head)
    : max_kv_(max_kv),
      n_threads_(n_threads),
      max_width_(max_width),
      ldkt_((max_kv + 15) / 16 * 16),
      half_d_head_(half_d_head) {
  if (max_kv < 1 || n_threads < 1 || max_width < 0 || half_d_head < 0) {
    bad("scratch needs at least one key and one thread (got " + std::to_string(max_kv) + " keys, " +
        std::to_string(n_threads) + " threads, width " + std::to_string(max_width) + ")");
  }
  scores_.resize(static_cast<std::size_t>(n_threads) * kTileRows * static_cast<std::size_t>(max_kv));
  if (max_width > 0) kt_.resize(static_cast<std::size_t>(max_width) * static_cast<std::size_t>(ldkt_));
  if (max_width > 0 && (simd_has_amx_bf16() || simd_prefers_avx512_bf16_attention())) {
    // Value pair rows rounded up to whole 16-row tiles, which AMX reads.
    ldp_ = ((max_kv + 1) / 2 + 15) / 16 * 16;
    key_pairs_.resize(static_cast<std::size_t>((max_width + 1) / 2) * static_cast<std::size_t>(ldkt_));
    value_pairs_.resize(static_cast<std::size_t>(ldp_) * static_cast<std::size_t>(max_width));
    bf16_scores_.resize(static_cast<std::size_t>(n_threads) * 16 * static_cast<std::size_t>(ldkt_));
    bf16_probs_.resize(static_cast<std::size_t>(n_threads) * 16 * static_cast<std::size_t>(ldp_));
    if (simd_prefers_int8_attention_scores()) {
      const std::size_t heads = static_cast<std::size_t>((max_width + 15) / 16);
      key_scale_.resize(heads * static_cast<std::size_t>(ldkt_));
      key_mean_.resize(static_cast<std::size_t>(max_width));
    }
  } else if (max_width > 0 && simd_prefers_int8_scores_f32_values()) {
    key_pairs_.resize(static_cast<std::size_t>((max_width + 3) / 4) * static_cast<std::size_t>(ldkt_));
    bf16_scores_.resize(static_cast<std::size_t>(n_threads) * 16 * static_cast<std::size_t>(ldkt_));
    key_scale_.resize(static_cast<std::size_t>((max_width + 15) / 16) * static_cast<std::size_t>(ldkt_));
    key_mean_.resize(static_cast<std::size_t>(max_width));
  }
  if (max_width > 0 && simd_takes_int8_attention_task()) {
    // What the int8 task itself needs, for keys and values in its layouts whoever made them: scores,
    // u8 exps and chunk scales per thread.
    if (bf16_scores_.size() == 0) bf16_scores_.resize(static_cast<std::size_t>(n_threads) * 16 * ldkt_);
    const int n_chunks = (max_kv + kAttentionInt8ChunkKeys - 1) / kAttentionInt8ChunkKeys;
    ldp8_ = n_chunks * kAttentionInt8ChunkKeys;
    ldps_ = (n_chunks + 15) / 16 * 16;
    probs8_.resize(static_cast<std::size_t>(n_threads) * kInt8TaskRows * ldp8_);
    chunk_scales_.resize(static_cast<std::size_t>(n_threads) * kInt8TaskRows * ldps_);
    if (simd_prefers_int8_attention_values()) {
      // A call's own float keys and values rounded here (no AMX): key quads and scores as the
      // int8-score tasks keep them (the bf16 pairs, where also allocated, are larger than the quads),
      // value quads and their column statistics.
      const std::size_t quad_rows = static_cast<std::size_t>((max_width + 3) / 4) * static_cast<std::size_t>(ldkt_);
      if (key_pairs_.size() < quad_rows) key_pairs_.resize(quad_rows);
      if (key_scale_.size() == 0) key_scale_.resize(static_cast<std::size_t>((max_width + 15) / 16) * ldkt_);
      if (key_mean_.size() == 0) key_mean_.resize(static_cast<std::size_t>(max_width));
      // Whole chunks of quads: the task reads a chunk's 16 quads even past the keys.
      value_quads_.resize(static_cast<std::size_t>(n_chunks) * (kAttentionInt8ChunkKeys / 4) *
                          static_cast<std::size_t>(max_width));
      value_stats_.resize(3 * static_cast<std::size_t>(max_width));
      own_int8_.key_quads = key_pairs_.data();
      own_int8_.key_scale = key_scale_.data();
      own_int8_.key_mean = key_mean_.data();
      own_int8_.value_quads = value_quads_.data();
      own_int8_.value_stats = value_stats_.data();
      own_int8_.ldkq = ldkt_;
      own_int8_.max_kv = max_kv;
    }
  }
  row_lim_.resize(static_cast<std::size_t>(n_threads) * kTileRows);
  if (half_d_head > 0) {
    wide_k_.resize(static_cast<std::size_t>(n_threads) * half_d_head * static_cast<std::size_t>(ldkt_));
    wide_v_.resize(static_cast<std::size_t>(n_threads) * static_cast<std::size_t>(max_kv) * half_d_head);
  }
}

MultiHeadAttention::Widened MultiHeadAttention::widen_head(const AttentionArgs& a, std::size_t col, int kv_len,
                                                           int thread) {
  Widened w{nullptr, a.ldk, nullptr, a.ldv};
  if (a.k) w.k = a.k_transposed ? a.k + col * static_cast<std::size_t>(a.ldk) : a.k + col;
  if (a.v) w.v = head_values(a, col);
  const std::size_t d = static_cast<std::size_t>(a.d_head);
  if (a.k_half) {
    float* dst = wide_k_.data() + static_cast<std::size_t>(thread) * d * ldkt_;
    for (std::size_t r = 0; r < d; ++r) {
      halves_to_floats(a.k_half + (col + r) * static_cast<std::size_t>(a.ldk), dst + r * ldkt_, kv_len);
    }
    w.k = dst;
    w.ldk = ldkt_;
  }
  if (a.v_half) {
    float* dst = wide_v_.data() + static_cast<std::size_t>(thread) * max_kv_ * d;
    for (int j = 0; j < kv_len; ++j) {
      halves_to_floats(head_half_values(a, col) + static_cast<std::size_t>(j) * a.ldv, dst + j * d, d);
    }
    w.v = dst;
    w.ldv = a.d_head;
  }
  return w;
}

bool MultiHeadAttention::uses_simd(const AttentionArgs& a) const {
  const AttentionKernels* k = attention_kernels(active_simd_level());
  if (!k || a.n_kv <= 0 || a.d_head % k->d_head_multiple != 0 || a.d_head > k->d_head_max) return false;
  // Keys given transposed (or already in the int8 task's layouts) need no scratch and no
  // transposition to amortise.
  return a.k_transposed || a.int8 || (a.n_q >= kSimdMinRows && a.n_head * a.d_head <= max_width_);
}

void MultiHeadAttention::run(Backend& backend, ThreadPool* pool, const AttentionArgs& a) {
  const int width = a.n_head * a.d_head;
  if (a.n_head < 1 || a.d_head < 1) bad("n_head and d_head must be positive");
  if (a.n_q < 0 || a.n_kv < 0) bad("negative query or key count");
  if (a.n_kv > max_kv_) bad(std::to_string(a.n_kv) + " keys exceed the scratch size " + std::to_string(max_kv_));
  if (a.ldq < width || a.ldo < width || (a.v_head_stride == 0 && a.ldv < width)) {
    bad("a row stride is below n_head * d_head");
  }
  if (a.v_head_stride != 0) {
    if (!a.k_transposed) bad("values head after head need transposed keys");
    if (a.ldv < a.d_head || a.v_head_stride < static_cast<std::size_t>(a.ldv) * a.n_kv) {
      bad("values head after head: row stride " + std::to_string(a.ldv) + " or head stride " +
          std::to_string(a.v_head_stride) + " too small for " + std::to_string(a.n_kv) + " rows of " +
          std::to_string(a.d_head));
    }
  }
  if (a.k_transposed ? a.ldk < a.n_kv : a.ldk < width) {
    bad(a.k_transposed ? "the transposed keys' row stride is below n_kv" : "a row stride is below n_head * d_head");
  }
  if (a.causal && a.q_pos0 < 0) bad("negative q_pos0");
  if (a.k_half && !a.k_transposed) bad("half keys must be transposed");
  if ((a.k_half || a.v_half) && a.d_head > half_d_head_) {
    bad("half keys or values of heads of " + std::to_string(a.d_head) + ", scratch made for " +
        std::to_string(half_d_head_));
  }
  const int n_threads = pool ? pool->size() : 1;
  if (n_threads > n_threads_) {
    bad("pool of " + std::to_string(n_threads) + " threads, scratch made for " + std::to_string(n_threads_));
  }
  if (a.n_q == 0) return;
  if (a.int8 && (a.int8->n_kv != a.n_kv || a.int8->width != width || a.int8->d_head != a.d_head)) {
    bad("int8 keys and values of " + std::to_string(a.int8->n_kv) + " keys of width " + std::to_string(a.int8->width) +
        " given for " + std::to_string(a.n_kv) + " keys of width " + std::to_string(width));
  }
  // Keys and values in the int8 layouts alone serve only a call that takes the int8 task.
  const bool int8_alone = a.int8 && uses_int8(a);
  if (!a.q || !a.out) bad("missing q or out");
  if (a.n_kv > 0 && !int8_alone && ((!a.k && !a.k_half) || (!a.v && !a.v_half))) {
    bad(a.int8 ? "int8 keys and values without k and v, for a call that does not take the int8 task"
               : "missing k or v");
  }
  if (uses_int8(a)) {
    run_int8(pool, a);
  } else if (uses_bf16(a)) {
    run_bf16(pool, a);
  } else if (uses_int8_f32(a)) {
    run_int8_f32(pool, a);
  } else if (uses_simd(a)) {
    run_simd(pool, a);
  } else {
    run_portable(backend, pool, a);
  }
}

bool MultiHeadAttention::uses_bf16(const AttentionArgs& a) const {
  // Both bf16 tasks need the active level at Avx512 (NPW_SIMD below it leaves them out), as uses_simd's
  // kernels do.
  const bool floats = !a.k_transposed && !a.k_half && !a.v_half;
  // The decoder's cross-attention store: values in halves, keys transposed in halves (or floats, for
  // the layers kept for word timing).
  // (Its pair layouts are made from rows of every head: values head after head stay on the f32 paths.)
  const bool halves = a.k_transposed && (a.k_half || a.k) && a.v_half && a.v_head_stride == 0 && a.n_q >= kBf16HalfMinRows;
  return a.reduced_precision && (floats || halves) && key_pairs_.size() > 0 && bf16_available() &&
         attention_bf16_takes(a.d_head) && uses_simd(a) && !uses_int8(a);
}

bool MultiHeadAttention::uses_int8(const AttentionArgs& a) const {
  const bool floats = !a.k_transposed && !a.k_half && !a.v_half;
  // A set already in the task's layouts wherever the CPU runs the task; float rows (rounded here) only
  // where it is also preferred for them (no AMX).
  const bool given = a.int8 && probs8_.size() > 0 && simd_takes_int8_attention_task();
  const bool own = floats && value_quads_.size() > 0 && simd_prefers_int8_attention_values();
  return a.reduced_precision && (given || own) && attention_bf16_takes(a.d_head) && uses_simd(a);
}

bool MultiHeadAttention::uses_int8_f32(const AttentionArgs& a) const {
  const bool floats = !a.k_transposed && !a.k_half && !a.v_half;
  // (The preference excludes every CPU bf16_available() names, so uses_bf16 never says yes as well.)
  return a.reduced_precision && floats && key_scale_.size() > 0 && simd_prefers_int8_scores_f32_values() &&
         attention_bf16_takes(a.d_head) && uses_simd(a) && !uses_int8(a);
}

// Both answer false below the Avx512 level (NPW_SIMD), as the bf16 tasks need it.
bool MultiHeadAttention::bf16_available() { return simd_has_amx_bf16() || simd_prefers_avx512_bf16_attention(); }

void MultiHeadAttention::run_portable(Backend& backend, ThreadPool* pool, const AttentionArgs& a) {
  const float alpha = static_cast<float>(1.0 / std::sqrt(static_cast<double>(a.d_head)));
  const std::size_t scratch_per_thread = static_cast<std::size_t>(kTileRows) * static_cast<std::size_t>(max_kv_);
  for_each_task(pool, a, kTileRows, row_lim_.data(), [&](const Task& t) {
    float* s = scores_.data() + static_cast<std::size_t>(t.thread) * scratch_per_thread;
    const Widened w = widen_head(a, t.col, t.kv_len, t.thread);
    backend.matmul(false, a.k_transposed ? false : true, t.rows, t.kv_len, a.d_head, alpha, t.q, a.ldq, w.k, w.ldk, 0.0f,
                   s, t.kv_len);
    for (int r = 0; r < t.rows; ++r) {
      float* row = s + static_cast<std::size_t>(r) * t.kv_len;
      softmax(row, t.lim[r]);
      // Masked keys contribute exactly nothing, as exp(-inf) does in the reference; a fully masked
      // row inside a tile that has keys gets zero scores, hence a zero output.
      std::fill(row + std::max(t.lim[r], 0), row + t.kv_len, 0.0f);
    }
    backend.matmul(false, false, t.rows, a.d_head, t.kv_len, 1.0f, s, t.kv_len, w.v, w.ldv, 0.0f, t.out, a.ldo);
  });
}

// Keys transposed into kt_ in register tiles (transpose_rows.h), blocks of 16 keys over the pool.
void MultiHeadAttention::transpose_keys(ThreadPool* pool, const AttentionArgs& a) {
  const int width = a.n_head * a.d_head;
  const std::size_t ldkt = static_cast<std::size_t>(ldkt_), ldk = static_cast<std::size_t>(a.ldk);
  float* kt = kt_.data();
  constexpr int64_t kBlock = 16;
  auto transpose = [&](int64_t b0, int64_t b1) {
    const int64_t j0 = b0 * kBlock, j1 = std::min<int64_t>(a.n_kv, b1 * kBlock);
    transpose_rows(a.k + static_cast<std::size_t>(j0) * ldk, ldk, static_cast<int>(j1 - j0), width, kt + j0, ldkt);
  };
  const int64_t n_blocks = (a.n_kv + kBlock - 1) / kBlock;
  if (pool && pool->size() > 1) {
    pool->parallel_for(n_blocks, [&](int64_t b0, int64_t b1, int) { transpose(b0, b1); });
  } else {
    transpose(0, n_blocks);
  }
}

void MultiHeadAttention::run_simd(ThreadPool* pool, const AttentionArgs& a) {
  static_assert(kTileRows <= kAttentionMaxTileRows, "tiles taller than the SIMD kernel takes");
  const AttentionKernels& kern = *attention_kernels(active_simd_level());
  const int tile_rows = std::min(kern.tile_rows, kTileRows);
  std::size_t ldkt = static_cast<std::size_t>(ldkt_);
  const float* kt = kt_.data();
  if (a.k_transposed) {
    kt = a.k;
    ldkt = static_cast<std::size_t>(a.ldk);
  } else {
    transpose_keys(pool, a);
  }

  const float alpha = static_cast<float>(1.0 / std::sqrt(static_cast<double>(a.d_head)));
  for_each_task(pool, a, tile_rows, row_lim_.data(), [&](const Task& t) {
    if (a.v_half && a.k_half && kern.fused_halves) {
      kern.fused_halves(t.q, a.ldq, t.rows, a.k_half + t.col * static_cast<std::size_t>(a.ldk), a.ldk, t.kv_len,
                        head_half_values(a, t.col), a.ldv, a.d_head, alpha, t.lim, t.out, a.ldo);
      return;
    }
    if (a.v_half && !a.k_half && kern.fused_half_values) {
      kern.fused_half_values(t.q, a.ldq, t.rows, kt + t.col * ldkt, static_cast<int>(ldkt), t.kv_len,
                             head_half_values(a, t.col), a.ldv, a.d_head, alpha, t.lim, t.out, a.ldo);
      return;
    }
    if (a.k_half || a.v_half) {
      const Widened w = widen_head(a, t.col, t.kv_len, t.thread);
      kern.fused(t.q, a.ldq, t.rows, a.k_half ? w.k : kt + t.col * ldkt, a.k_half ? w.ldk : static_cast<int>(ldkt),
                 t.kv_len, w.v, w.ldv, a.d_head, alpha, t.lim, t.out, a.ldo);
      return;
    }
    kern.fused(t.q, a.ldq, t.rows, kt + t.col * ldkt, static_cast<int>(ldkt), t.kv_len, head_values(a, t.col), a.ldv,
               a.d_head, alpha, t.lim, t.out, a.ldo);
  });
}

// Keys given as rows smoothed and rounded to int8 quads, and the values (if asked) into bf16 pairs
// alongside: first every column's key mean, then every key and value pair item, each pass spread over
// the pool. (The int8-value task's keys and values: prepare_int8_keys_values.)
void MultiHeadAttention::quantize_keys(ThreadPool* pool, const AttentionArgs& a, uint32_t* vp) {
  const int width = a.n_head * a.d_head;
  const int n_blocks = (width + 15) / 16;
  auto stats = [&](int64_t b0, int64_t b1) {
    attention_int8_key_means(a.k, a.ldk, a.n_kv, static_cast<int>(b0) * 16, std::min(width, static_cast<int>(b1) * 16),
                             key_mean_.data());
  };
  if (pool && pool->size() > 1) {
    pool->parallel_for(n_blocks, [&](int64_t b0, int64_t b1, int) { stats(b0, b1); });
  } else {
    stats(0, n_blocks);
  }
  // Items [0, n_kv) convert one key each, then one value pair (vp) each.
  const int n_vitems = vp ? (a.n_kv + 1) / 2 : 0;
  auto convert = [&](int64_t t0, int64_t t1) {
    const int64_t k1 = std::min<int64_t>(t1, a.n_kv);
    if (t0 < k1) {
      attention_int8_convert_keys(a.k + static_cast<std::size_t>(t0) * a.ldk, a.ldk, static_cast<int>(k1 - t0), width,
                                  a.d_head, key_mean_.data(), key_pairs_.data() + t0, ldkt_, key_scale_.data() + t0);
    }
    const int64_t p0 = std::max<int64_t>(t0, a.n_kv) - a.n_kv, p1 = t1 - a.n_kv;
    if (p0 < p1) {
      const int i0 = static_cast<int>(p0);
      const int r0 = 2 * i0, n = std::min(2 * static_cast<int>(p1), a.n_kv) - r0;
      attention_bf16_convert_values(a.v + static_cast<std::size_t>(r0) * a.ldv, a.ldv, n, width,
                                    vp + static_cast<std::size_t>(i0) * width);
    }
  };
  const int64_t n_items = static_cast<int64_t>(a.n_kv) + n_vitems;
  if (pool && pool->size() > 1) {
    pool->parallel_for(n_items, [&](int64_t t0, int64_t t1, int) { convert(t0, t1); });
  } else {
    convert(0, n_items);
  }
}

// Both products in int8: the key and value quads given (AttentionArgs::int8) or made here by
// quantize_keys, then the tasks.
void MultiHeadAttention::run_int8(ThreadPool* pool, const AttentionArgs& a) {
  const int width = a.n_head * a.d_head;
  const Int8KeysValues* kv = a.int8;
  if (!kv) {
    // This call's own keys and values, rounded into the scratch as a set made for them, the values side
    // by side (head after head, as the decoder's store keeps them, measured no faster in the encoder:
    // tiny 43.3-48.3 ms either way, base 101.4 -> 99.6, avx512-noamx, alternated).
    own_int8_.width = width;
    own_int8_.d_head = a.d_head;
    own_int8_.value_ld = width;
    own_int8_.value_head_stride = static_cast<std::size_t>(a.d_head);
    prepare_int8_keys_values(pool, a, own_int8_);
    kv = &own_int8_;
  }
  const uint32_t* kq = kv->key_quads;
  const float* kscale = kv->key_scale;
  const int ldkq = kv->ldkq;
  const uint32_t* vq = kv->value_quads;
  const float* vmean = kv->value_stats;
  const float* vscale = vmean + width;
  const float alpha = static_cast<float>(1.0 / std::sqrt(static_cast<double>(a.d_head)));
  const std::size_t ldq4 = static_cast<std::size_t>(ldkq);
  const auto task = int8_attention_ops(active_simd_level())->task;
  for_each_task(pool, a, kAttentionBf16Avx512TileRows, row_lim_.data(), [&](const Task& t) {
    const std::size_t h = t.col / static_cast<std::size_t>(a.d_head);
    const std::size_t th = static_cast<std::size_t>(t.thread) * kInt8TaskRows;
    task(t.q, a.ldq, t.rows, kq + (t.col / 4) * ldq4, ldkq, kscale + h * ldq4, t.kv_len,
                               vq + h * kv->value_head_stride, kv->value_ld, vmean + t.col, vscale + t.col, a.d_head,
                               alpha, t.lim, t.out, a.ldo, bf16_scores_.data() + static_cast<std::size_t>(t.thread) * 16 * ldkt_, ldkt_,
                               probs8_.data() + th * ldp8_, ldp8_, chunk_scales_.data() + th * ldps_, ldps_);
  });
}

// The int8 scores of quantize_keys' key quads, the values read as they are.
void MultiHeadAttention::run_int8_f32(ThreadPool* pool, const AttentionArgs& a) {
  quantize_keys(pool, a, nullptr);
  const float alpha = static_cast<float>(1.0 / std::sqrt(static_cast<double>(a.d_head)));
  const std::size_t ldkt = static_cast<std::size_t>(ldkt_);
  for_each_task(pool, a, kAttentionBf16Avx512TileRows, row_lim_.data(), [&](const Task& t) {
    const std::size_t h = t.col / static_cast<std::size_t>(a.d_head);
    attention_task_int8_scores_f32_avx512(t.q, a.ldq, t.rows, key_pairs_.data() + (t.col / 4) * ldkt, ldkt_,
                                          key_scale_.data() + h * ldkt, t.kv_len, a.v + t.col, a.ldv, a.d_head, alpha,
                                          t.lim, t.out, a.ldo,
                                          bf16_scores_.data() + static_cast<std::size_t>(t.thread) * 16 * ldkt, ldkt_);
  });
}

// Keys and values rounded into the bf16 pair layouts once per call, then the tasks on AMX tiles where
// the CPU has them, else with AVX512_BF16's vdpbf16ps.
void MultiHeadAttention::run_bf16(ThreadPool* pool, const AttentionArgs& a) {
  const int width = a.n_head * a.d_head;
  uint32_t* kp = key_pairs_.data();
  uint32_t* vp = value_pairs_.data();
  const int n_vpairs = (a.n_kv + 1) / 2;
  // Int8 scores for keys given as rows (the encoder's self-attention), where the CPU prefers them.
  const bool int8_scores = !a.k_transposed && !a.k_half && key_scale_.size() > 0 && simd_prefers_int8_attention_scores();
  if (int8_scores) {
    quantize_keys(pool, a, vp);
  } else {
    auto convert = [&](int64_t t0, int64_t t1) {
      // Items [0, n_kv) convert one key each, then [n_kv, n_kv + n_vpairs) one value pair each.
      const int64_t k1 = std::min<int64_t>(t1, a.n_kv);
      if (t0 < k1 && a.k_half) {
        attention_bf16_convert_half_keys_t(a.k_half + t0, a.ldk, static_cast<int>(k1 - t0), width, kp + t0, ldkt_);
      } else if (t0 < k1 && a.k_transposed) {
        attention_bf16_convert_keys_t(a.k + t0, a.ldk, static_cast<int>(k1 - t0), width, kp + t0, ldkt_);
      } else if (t0 < k1) {
        attention_bf16_convert_keys(a.k + static_cast<std::size_t>(t0) * a.ldk, a.ldk, static_cast<int>(k1 - t0), width,
                                    kp + t0, ldkt_);
      }
      // This chunk's value pairs [jp0, jp1) in one call: rows 2 jp0 up to 2 jp1 or the last key.
      const int64_t p0 = std::max<int64_t>(t0, a.n_kv) - a.n_kv, p1 = t1 - a.n_kv;
      if (p0 < p1) {
        const int jp0 = static_cast<int>(p0);
        const int n = std::min(2 * static_cast<int>(p1), a.n_kv) - 2 * jp0;
        uint32_t* out = vp + static_cast<std::size_t>(jp0) * width;
        if (a.v_half) {
          attention_bf16_convert_half_values(a.v_half + static_cast<std::size_t>(2 * jp0) * a.ldv, a.ldv, n, width, out);
        } else {
          attention_bf16_convert_values(a.v + static_cast<std::size_t>(2 * jp0) * a.ldv, a.ldv, n, width, out);
        }
      }
    };
    const int64_t n_items = static_cast<int64_t>(a.n_kv) + n_vpairs;
    if (pool && pool->size() > 1) {
      pool->parallel_for(n_items, [&](int64_t t0, int64_t t1, int) { convert(t0, t1); });
    } else {
      convert(0, n_items);
    }
  }

  const float alpha = static_cast<float>(1.0 / std::sqrt(static_cast<double>(a.d_head)));
  const bool amx = simd_has_amx_bf16();
  auto* task = amx ? &attention_task_amx : &attention_task_bf16_avx512;
  static_assert(kAttentionBf16Avx512TileRows <= kTileRows, "the scratch holds kTileRows rows of limits");
  const int tile_rows = amx ? kTileRows : kAttentionBf16Avx512TileRows;
  if (int8_scores) {
    for_each_task(pool, a, kAttentionBf16Avx512TileRows, row_lim_.data(), [&](const Task& t) {
      const std::size_t h = t.col / static_cast<std::size_t>(a.d_head);
      const std::size_t ldkt = static_cast<std::size_t>(ldkt_);
      attention_task_int8_scores_avx512(t.q, a.ldq, t.rows, kp + (t.col / 4) * ldkt, ldkt_,
                                        key_scale_.data() + h * ldkt, t.kv_len,
                                        vp + t.col, width, a.d_head, alpha, t.lim, t.out, a.ldo,
                                        bf16_scores_.data() + static_cast<std::size_t>(t.thread) * 16 * ldkt, ldkt_,
                                        bf16_probs_.data() + static_cast<std::size_t>(t.thread) * 16 * ldp_, ldp_);
    });
    return;
  }
  for_each_task(pool, a, tile_rows, row_lim_.data(), [&](const Task& t) {
    const uint32_t* kh = kp + (t.col / 2) * static_cast<std::size_t>(ldkt_);
    task(t.q, a.ldq, t.rows, kh, ldkt_, t.kv_len, vp + t.col, width, a.d_head, alpha, t.lim, t.out, a.ldo,
         bf16_scores_.data() + static_cast<std::size_t>(t.thread) * 16 * ldkt_, ldkt_,
         bf16_probs_.data() + static_cast<std::size_t>(t.thread) * 16 * ldp_, ldp_);
  });
}

}  // namespace npw
