// The decoder's step attention (see step_attention.h): task bookkeeping, the portable loops that are
// the reference of the SIMD kernels, and the choice between them.
#include "nn/step_attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>

#include "model/quant.h"
#include "nn/ops.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/prefetch.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

// Below this many key x width floats in a call, waking the pool costs more than the work (the first
// positions of a sequence).
constexpr double kParallelFloats = 1 << 15;

// Positions at the start of each run of keys and values a task reads whose lines it asks for before
// its first product. A step's runs are short (a beam's own positions, a sequence's first 64 in the
// 5-sequence figure) and far apart: each (sequence, head) run began with misses that no hardware
// prefetcher had seen coming, the weights streamed between two layers having evicted them (tiny q8_0
// `cpu-int8`, 5 sequences x contexts 0-63: the step attention 57-68 -> 44-60 us a step, Zen 5, 2
// threads; 8, 16, 32 or every position alike).
constexpr int kPrefetchPositions = 32;

template <typename T>
void prefetch_positions(const T* p, int n, int ld, int d) {
  const std::size_t row_bytes = sizeof(T) * static_cast<std::size_t>(d);
  for (int j = 0; j < std::min(n, kPrefetchPositions); ++j) {
    const T* row = p + static_cast<std::size_t>(j) * ld;
    for (std::size_t b = 0; b < row_bytes; b += 64) prefetch_bytes_past<PrefetchTo::L1>(row, b);
  }
}

[[noreturn]] void bad(const std::string& why) { throw Error(ErrorKind::InvalidArgument, "step attention: " + why); }

inline float wide(float x) { return x; }
inline float wide(uint16_t h) { return fp16_to_fp32(h); }

template <typename T>
void scores_portable(const float* q, const T* k, int ldk, int n_kv, int d, float alpha, float* s) {
  for (int j = 0; j < n_kv; ++j) {
    const T* kj = k + static_cast<std::size_t>(j) * ldk;
    float dot = 0.0f;
    for (int i = 0; i < d; ++i) dot += q[i] * wide(kj[i]);
    s[j] = alpha * dot;
  }
}

// Over two runs of value rows, as step_weighted_sum_avx2.
template <typename T>
void weighted_sum_portable(const float* p, const T* v0, int n0, const T* v1, int n1, int ldv, int d, float* out) {
  std::fill(out, out + d, 0.0f);
  for (int j = 0; j < n0 + n1; ++j) {
    const T* vj = j < n0 ? v0 + static_cast<std::size_t>(j) * ldv : v1 + static_cast<std::size_t>(j - n0) * ldv;
    for (int i = 0; i < d; ++i) out[i] += p[j] * wide(vj[i]);
  }
}

}  // namespace

StepAttention::StepAttention(int max_kv, int n_threads) : max_kv_(max_kv), n_threads_(n_threads) {
  if (max_kv < 1 || n_threads < 1) {
    bad("scratch needs at least one key and one thread (got " + std::to_string(max_kv) + ", " +
        std::to_string(n_threads) + ")");
  }
  scores_.resize(static_cast<std::size_t>(n_threads) * kGroupRows * static_cast<std::size_t>(max_kv));
  groups_.reserve(64);
}

void StepAttention::run(ThreadPool* pool, const StepRow* rows, int n_rows, int n_head, int d_head, int ldk, int ldv,
                        std::size_t kv_head_stride) {
  if (n_head < 1 || d_head < 1) bad("n_head and d_head must be positive");
  const int width = n_head * d_head;
  if (kv_head_stride == 0) {
    if (ldk < width || ldv < width) bad("a row stride is below n_head * d_head");
  } else if (ldk < d_head || ldv < d_head) {
    bad("a position stride is below d_head");
  }
  const std::size_t head_stride = kv_head_stride == 0 ? static_cast<std::size_t>(d_head) : kv_head_stride;
  const int n_threads = pool ? pool->size() : 1;
  if (n_threads > n_threads_) {
    bad("pool of " + std::to_string(n_threads) + " threads, scratch made for " + std::to_string(n_threads_));
  }
  double floats = 0.0;
  for (int r = 0; r < n_rows; ++r) {
    if (rows[r].n_kv < 0 || rows[r].n_kv > max_kv_) {
      bad("row " + std::to_string(r) + " sees " + std::to_string(rows[r].n_kv) + " keys, the scratch holds " +
          std::to_string(max_kv_));
    }
    const bool f32 = rows[r].k && rows[r].v, f16 = rows[r].kh && rows[r].vh;
    if (!rows[r].out || (rows[r].n_kv > 0 && (!rows[r].q || f32 == f16))) {
      bad("row " + std::to_string(r) + ": missing q or out, or not exactly one of f32 and half keys and values");
    }
    if (rows[r].n_shared < 0 || rows[r].n_shared > rows[r].n_kv ||
        (rows[r].n_shared > 0 && !(f32 ? rows[r].ks && rows[r].vs : rows[r].ksh && rows[r].vsh))) {
      bad("row " + std::to_string(r) + ": " + std::to_string(rows[r].n_shared) + " shared keys of " +
          std::to_string(rows[r].n_kv) + ", or their keys and values missing");
    }
    floats += static_cast<double>(rows[r].n_kv) * width;
  }
  const bool simd = active_simd_level() != SimdLevel::Scalar && d_head % 8 == 0;
  const float alpha = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d_head)));
  // Groups: runs of consecutive rows that read one shared prefix (the same keys and values, as many
  // of them), kGroupRows at most; every other row is a group of its own.
  groups_.clear();
  for (int r = 0; r < n_rows; ++r) {
    const StepRow& a = rows[r];
    const bool joins = simd && !groups_.empty() && r - groups_.back() < kGroupRows && a.n_shared > 0 && [&] {
      const StepRow& b = rows[groups_.back()];
      return b.n_shared == a.n_shared && b.ks == a.ks && b.vs == a.vs && b.ksh == a.ksh && b.vsh == a.vsh &&
             (b.k != nullptr) == (a.k != nullptr);
    }();
    if (!joins) groups_.push_back(r);
  }
  const int n_groups = static_cast<int>(groups_.size());
  groups_.push_back(n_rows);
  const int64_t n_tasks = static_cast<int64_t>(n_groups) * n_head;
  // Task t is head t / n_groups of group t % n_groups: a head's groups one after the other, so that
  // prefix rows one task read are still in cache for the next.
  auto task = [&](int64_t t, int thread) {
    const int g = static_cast<int>(t % n_groups);
    const int r0 = groups_[static_cast<std::size_t>(g)], n = groups_[static_cast<std::size_t>(g) + 1] - r0;
    const std::size_t col = static_cast<std::size_t>(t / n_groups) * d_head;     // in the query and output
    const std::size_t kcol = static_cast<std::size_t>(t / n_groups) * head_stride;  // in the keys and values
    float* scratch = scores_.data() + static_cast<std::size_t>(thread) * kGroupRows * max_kv_;
    if (n == 1) {
      const StepRow& row = rows[r0];
      float* out = row.out + col;
      if (row.n_kv == 0) {
        std::fill(out, out + d_head, 0.0f);
        return;
      }
      float* s = scratch;
      // Keys and values [0, n0) from k0, v0 (the shared prefix), the rest from k1, v1.
      auto head = [&](auto k0, auto v0, auto k1, auto v1) {
        const int n0 = row.n_shared, n1 = row.n_kv - row.n_shared;
        if (n0 == 0) {
          k0 = k1;
          v0 = v1;
        }
        prefetch_positions(k0 + kcol, n0, ldk, d_head);
        prefetch_positions(k1 + kcol, n1, ldk, d_head);
        prefetch_positions(v0 + kcol, n0, ldv, d_head);
        prefetch_positions(v1 + kcol, n1, ldv, d_head);
        if (simd) {
          step_scores_avx2(row.q + col, k0 + kcol, ldk, n0, d_head, alpha, s);
          step_scores_avx2(row.q + col, k1 + kcol, ldk, n1, d_head, alpha, s + n0);
        } else {
          scores_portable(row.q + col, k0 + kcol, ldk, n0, d_head, alpha, s);
          scores_portable(row.q + col, k1 + kcol, ldk, n1, d_head, alpha, s + n0);
        }
        softmax(s, row.n_kv);
        if (simd) {
          step_weighted_sum_avx2(s, v0 + kcol, n0, v1 + kcol, n1, ldv, d_head, out);
        } else {
          weighted_sum_portable(s, v0 + kcol, n0, v1 + kcol, n1, ldv, d_head, out);
        }
      };
      if (row.k) {
        head(row.ks, row.vs, row.k, row.v);
      } else {
        head(row.ksh, row.vsh, row.kh, row.vh);
      }
      return;
    }
    // Rows sharing a prefix of n0 > 0 keys (so every row sees some, SIMD kernels): the prefix's scores
    // and weighted values for all rows in one pass each, each row's own keys and values on their own.
    const int n0 = rows[r0].n_shared;
    const float* q[kGroupRows] = {};
    float* s[kGroupRows] = {};
    float* out[kGroupRows] = {};
    for (int i = 0; i < n; ++i) {
      q[i] = rows[r0 + i].q + col;
      s[i] = scratch + static_cast<std::size_t>(i) * max_kv_;
      out[i] = rows[r0 + i].out + col;
    }
    auto heads = [&](auto ks, auto vs, auto own_k, auto own_v) {
      prefetch_positions(ks + kcol, n0, ldk, d_head);
      prefetch_positions(vs + kcol, n0, ldv, d_head);
      for (int i = 0; i < n; ++i) {
        const StepRow& row = rows[r0 + i];
        prefetch_positions(own_k(row) + kcol, row.n_kv - n0, ldk, d_head);
        prefetch_positions(own_v(row) + kcol, row.n_kv - n0, ldv, d_head);
      }
      step_scores_rows_avx2(q, n, ks + kcol, ldk, n0, d_head, alpha, s);
      for (int i = 0; i < n; ++i) {
        const StepRow& row = rows[r0 + i];
        step_scores_avx2(q[i], own_k(row) + kcol, ldk, row.n_kv - n0, d_head, alpha, s[i] + n0);
        softmax(s[i], row.n_kv);
      }
      step_weighted_sum_rows_avx2(s, n, vs + kcol, n0, ldv, d_head, out);
      for (int i = 0; i < n; ++i) {
        const StepRow& row = rows[r0 + i];
        step_weighted_sum_more_avx2(s[i] + n0, own_v(row) + kcol, row.n_kv - n0, ldv, d_head, out[i]);
      }
    };
    if (rows[r0].k) {
      heads(rows[r0].ks, rows[r0].vs, [](const StepRow& r) { return r.k; }, [](const StepRow& r) { return r.v; });
    } else {
      heads(rows[r0].ksh, rows[r0].vsh, [](const StepRow& r) { return r.kh; }, [](const StepRow& r) { return r.vh; });
    }
  };
  if (!pool || pool->size() == 1 || floats < kParallelFloats || ThreadPool::in_parallel_region()) {
    for (int64_t t = 0; t < n_tasks; ++t) task(t, 0);
    return;
  }
  // Tasks from a shared counter, as MultiHeadAttention takes them: a thread that loses its core on a
  // busy machine does fewer tasks instead of holding up the step.
  std::atomic<int64_t> next{0};
  pool->parallel_for(std::min<int64_t>(n_tasks, pool->size()), [&](int64_t, int64_t, int thread) {
    for (int64_t t = next.fetch_add(1, std::memory_order_relaxed); t < n_tasks;
         t = next.fetch_add(1, std::memory_order_relaxed)) {
      task(t, thread);
    }
  });
}

}  // namespace npw
