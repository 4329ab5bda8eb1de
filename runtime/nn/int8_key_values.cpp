// Storage and conversion of keys and values kept in the int8 attention task's layouts; see
// int8_key_values.h.
#include "nn/int8_key_values.h"

#include <algorithm>
#include <string>

#include "nn/attention.h"
#include "nn/attention_kernels.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

[[noreturn]] void bad(const std::string& why) {
  throw Error(ErrorKind::InvalidArgument, "int8 attention keys and values: " + why);
}

// Runs fn(i0, i1) over [0, n) on the pool, or inline.
template <typename Fn>
void spread(ThreadPool* pool, int64_t n, Fn&& fn) {
  if (pool && pool->size() > 1) {
    pool->parallel_for(n, [&](int64_t i0, int64_t i1, int) { fn(i0, i1); });
  } else {
    fn(0, n);
  }
}

}  // namespace

Int8KeyValueStore::Int8KeyValueStore(int n_sets, int max_kv, int width, int d_head, const char* label)
    : n_sets_(n_sets),
      key_quads_(MemoryLabel{label}),
      key_scale_(MemoryLabel{label}),
      stats_(MemoryLabel{label}),
      value_quads_(MemoryLabel{label}) {
  if (n_sets < 1 || max_kv < 1 || d_head < 1 || width < d_head || width % d_head != 0 || d_head % 16 != 0) {
    bad("no layout for " + std::to_string(n_sets) + " sets of " + std::to_string(max_kv) + " keys of width " +
        std::to_string(width) + " in heads of " + std::to_string(d_head));
  }
  const int ldkq = (max_kv + 15) / 16 * 16;
  const int n_head = width / d_head;
  // The task reads whole chunks of value quads (16 quad rows of 4 keys each).
  const int chunks = (max_kv + kAttentionInt8ChunkKeys - 1) / kAttentionInt8ChunkKeys;
  const std::size_t quads = static_cast<std::size_t>(width / 4) * ldkq;
  const std::size_t scales = static_cast<std::size_t>(n_head) * ldkq;
  const std::size_t stats = 4 * static_cast<std::size_t>(width);  // key means, then the values' three rows
  const std::size_t vquads = static_cast<std::size_t>(chunks) * (kAttentionInt8ChunkKeys / 4) * width;
  key_quads_.resize(quads * n_sets);
  key_scale_.resize(scales * n_sets);
  stats_.resize(stats * n_sets);
  value_quads_.resize(vquads * n_sets);
  sets_.resize(static_cast<std::size_t>(n_sets));
  for (int i = 0; i < n_sets; ++i) {
    Int8KeysValues& s = sets_[static_cast<std::size_t>(i)];
    s.key_quads = key_quads_.data() + quads * i;
    s.key_scale = key_scale_.data() + scales * i;
    s.key_mean = stats_.data() + stats * i;
    s.value_stats = s.key_mean + width;
    s.value_quads = value_quads_.data() + vquads * i;
    // Head after head: a decoder step reads a head's values as one run of 96 KiB (1500 keys, d_head
    // 64) instead of 256 B in every 2 KiB row. Base, a 5-beam step (contexts 0-63, 2 threads, Xeon,
    // alternated in one process): 1.71-1.79 -> 1.65-1.74 ms; a one-token step 1.31-1.34 -> 1.28-1.30.
    s.value_ld = d_head;
    s.value_head_stride = static_cast<std::size_t>(chunks) * (kAttentionInt8ChunkKeys / 4) * d_head;
    s.ldkq = ldkq;
    s.max_kv = max_kv;
    s.width = width;
    s.d_head = d_head;
  }
}

bool int8_key_values_wanted(int d_head) {
  return simd_takes_int8_attention_task() && attention_bf16_takes(d_head);
}

void prepare_int8_keys_values(ThreadPool* pool, const AttentionArgs& a, Int8KeysValues& kv) {
  const int width = a.n_head * a.d_head;
  if (!a.k || !a.v || a.k_transposed || a.k_half || a.v_half) bad("keys and values must be given as float rows");
  if (width != kv.width || a.d_head != kv.d_head || a.n_kv < 1 || a.n_kv > kv.max_kv) {
    bad(std::to_string(a.n_kv) + " keys of " + std::to_string(a.n_head) + " heads of " + std::to_string(a.d_head) +
        " for a set made for " + std::to_string(kv.max_kv) + " keys of width " + std::to_string(kv.width) +
        " in heads of " + std::to_string(kv.d_head));
  }
  if (a.ldk < width || a.ldv < width) bad("a row stride is too small");
  const Int8AttentionOps* ops = int8_attention_ops(active_simd_level());
  if (!ops) bad("no int8 attention layouts below the AVX2 level");
  kv.n_kv = 0;
  const int n_blocks = (width + 15) / 16;
  float* vmean = kv.value_stats;
  float* vscale = vmean + width;
  float* vinv = vscale + width;
  // Items [0, n_blocks) are 16 key rows' means, [n_blocks, 2 n_blocks) 16 value columns' statistics.
  spread(pool, 2 * n_blocks, [&](int64_t b0, int64_t b1) {
    const int64_t k1 = std::min<int64_t>(b1, n_blocks);
    if (b0 < k1) {
      const int c0 = static_cast<int>(b0) * 16, c1 = std::min(width, static_cast<int>(k1) * 16);
      ops->key_means(a.k, a.ldk, a.n_kv, c0, c1, kv.key_mean);
    }
    const int64_t v0 = std::max<int64_t>(b0, n_blocks) - n_blocks, v1 = b1 - n_blocks;
    if (v0 < v1) {
      const int c0 = static_cast<int>(v0) * 16, c1 = std::min(width, static_cast<int>(v1) * 16);
      ops->value_stats(a.v, a.ldv, a.n_kv, c0, c1, vmean, vscale, vinv);
    }
  });
  // Items [0, key_blocks) round 16 keys each, then four value quads (16 keys) each: as much work
  // as a key block, so that the pool's equal shares of items are equal shares of time (as single
  // quads, the thread that took the keys worked 2.5x as long as the other: 190 against 75 us a layer
  // of tiny on a Xeon core).
  const int key_blocks = (a.n_kv + 15) / 16;
  const int value_quads = (a.n_kv + 3) / 4;
  const int value_items = (value_quads + 3) / 4;
  spread(pool, static_cast<int64_t>(key_blocks) + value_items, [&](int64_t t0, int64_t t1) {
    const int64_t k1 = std::min<int64_t>(t1, key_blocks);
    if (t0 < k1) {
      const int j0 = static_cast<int>(t0) * 16, j1 = std::min(a.n_kv, static_cast<int>(k1) * 16);
      ops->convert_keys(a.k + static_cast<std::size_t>(j0) * a.ldk, a.ldk, j1 - j0, width, a.d_head,
                                  kv.key_mean, kv.key_quads + j0, kv.ldkq, kv.key_scale + j0);
    }
    const int64_t q0 = 4 * (std::max<int64_t>(t0, key_blocks) - key_blocks);
    const int64_t q1 = std::min<int64_t>(4 * (t1 - key_blocks), value_quads);
    if (q0 < q1) {
      ops->convert_values(a.v, a.ldv, a.n_kv, static_cast<int>(q0), static_cast<int>(q1), width, vmean, vinv,
                                    Int8ValueLayout{kv.value_quads, kv.value_ld, kv.d_head, kv.value_head_stride});
    }
  });
  kv.n_kv = a.n_kv;
}

}  // namespace npw
