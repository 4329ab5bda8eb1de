// The decoder's KV cache against a plain model of what each sequence holds (a list of rows per
// sequence, copied on every reorder): thousands of random resets, appends, reorders (fan-outs that
// make a shared prefix, drops, repeats, growth), truncations (also below the prefix) and unshares,
// on an f32 and a half cache, row-major (one head) and head-major (two); after each, every row of
// every active sequence must read back what was written for it. Besides: a fan-out shares the rows instead of copying them, and unshare and a
// truncate below the prefix give the sequence its own rows.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "model/quant.h"
#include "nn/kv_cache.h"
#include "util/error.h"

namespace npw {
namespace {

constexpr int kLayers = 2, kMaxSeqs = 5, kCtx = 24, kState = 8;

// Element i of `head` of a row tagged `tag` in `layer`: integers below 2048 for tags up to 1001 and
// up to 2 heads, exact in halves.
float element(int tag, int layer, int head, int i) {
  return static_cast<float>((tag + layer) * (head + 1) * (i % 2 ? -1 : 1));
}

// Position `pos` of `seq` in every layer: the key's heads filled from element(), the value's negated.
void write_row(KvCache& kv, int seq, int pos, int tag) {
  for (int l = 0; l < kLayers; ++l) {
    for (int h = 0; h < kv.n_head(); ++h) {
      const std::size_t at = h * kv.head_stride();
      for (int i = 0; i < kv.d_head(); ++i) {
        const float t = element(tag, l, h, i);
        if (kv.half()) {
          kv.key_half(l, seq, pos)[at + i] = fp32_to_fp16(t);
          kv.value_half(l, seq, pos)[at + i] = fp32_to_fp16(-t);
        } else {
          kv.key(l, seq, pos)[at + i] = t;
          kv.value(l, seq, pos)[at + i] = -t;
        }
      }
    }
  }
}

// Every row of every active sequence against the model; stops at the first difference.
void expect_rows(KvCache& kv, const std::vector<std::vector<int>>& model, int step) {
  ASSERT_EQ(kv.n_seqs(), static_cast<int>(model.size())) << "step " << step;
  for (int s = 0; s < kv.n_seqs(); ++s) {
    ASSERT_EQ(kv.length(s), static_cast<int>(model[s].size())) << "step " << step << " seq " << s;
    ASSERT_LE(kv.shared_length(s), kv.length(s));
    for (int pos = 0; pos < kv.length(s); ++pos) {
      for (int l = 0; l < kLayers; ++l) {
        for (int h = 0; h < kv.n_head(); ++h) {
          const std::size_t at = h * kv.head_stride();
          for (int i = 0; i < kv.d_head(); ++i) {
            const float t = element(model[s][pos], l, h, i);
            const float k = kv.half() ? fp16_to_fp32(kv.key_half(l, s, pos)[at + i]) : kv.key(l, s, pos)[at + i];
            const float v = kv.half() ? fp16_to_fp32(kv.value_half(l, s, pos)[at + i]) : kv.value(l, s, pos)[at + i];
            ASSERT_EQ(k, t) << "step " << step << " seq " << s << " pos " << pos << " layer " << l << " head " << h;
            ASSERT_EQ(v, -t) << "step " << step << " seq " << s << " pos " << pos << " layer " << l << " head " << h;
          }
        }
      }
    }
  }
}

TEST(KvCache, EveryRowReadsBackThroughRandomBeamSearch) {
  for (int heads : {1, 2})
  for (bool half : {false, true}) {
    KvCache kv(kLayers, kMaxSeqs, kCtx, kState, half, heads);
    ASSERT_EQ(kv.d_head() * kv.n_head(), kState);
    std::vector<std::vector<int>> model(1);
    std::mt19937 rng((half ? 7 : 5) + heads);
    int tag = 1, shared_seen = 0;
    for (int step = 0; step < 3000; ++step) {
      const int n = kv.n_seqs();
      const int op = static_cast<int>(rng() % 20);
      if (op == 0) {
        const int n_new = 1 + static_cast<int>(rng() % kMaxSeqs);
        kv.reset(n_new);
        model.assign(static_cast<std::size_t>(n_new), {});
      } else if (op < 9) {  // one or a few new rows on every sequence, as a decode call writes them
        const int add = 1 + static_cast<int>(rng() % 3);
        for (int s = 0; s < n; ++s) {
          if (kv.length(s) + add > kCtx) continue;
          for (int i = 0; i < add; ++i) {
            write_row(kv, s, kv.length(s) + i, tag);
            model[s].push_back(tag);
            tag = tag % 1000 + 2;  // exact in halves
          }
          kv.extend(s, add);
        }
      } else if (op < 16) {  // beam search's reorder: a fan-out from one, or any mix
        const int n_new = 1 + static_cast<int>(rng() % kMaxSeqs);
        std::vector<int> src(static_cast<std::size_t>(n_new));
        const bool fan_out = rng() % 3 == 0;
        const int one = static_cast<int>(rng() % n);
        for (int& x : src) x = fan_out ? one : static_cast<int>(rng() % n);
        kv.reorder(src);
        std::vector<std::vector<int>> next;
        for (int x : src) next.push_back(model[x]);
        model = next;
      } else if (op < 19) {
        const int s = static_cast<int>(rng() % n);
        const int to = kv.length(s) == 0 ? 0 : static_cast<int>(rng() % (kv.length(s) + 1));
        kv.truncate(s, to);
        model[s].resize(static_cast<std::size_t>(to));
        EXPECT_LE(kv.shared_length(s), to);
      } else {
        const int s = static_cast<int>(rng() % n);
        kv.unshare(s);
        EXPECT_EQ(kv.shared_length(s), 0);
      }
      for (int s = 0; s < kv.n_seqs(); ++s) shared_seen += kv.shared_length(s) > 0;
      expect_rows(kv, model, step);
      if (HasFatalFailure()) return;
    }
    EXPECT_GT(shared_seen, 100) << "the random walk should share prefixes often";
  }
}

TEST(KvCache, HeadMajorLayout) {
  KvCache kv(kLayers, kMaxSeqs, kCtx, kState, false, 4);
  EXPECT_EQ(kv.d_head(), 2);
  EXPECT_EQ(kv.head_stride(), static_cast<std::size_t>(kCtx) * 2);
  // A head's positions follow each other d_head apart; the next layer's heads follow the last head.
  EXPECT_EQ(kv.key(0, 0, 1), kv.key(0, 0, 0) + 2);
  EXPECT_EQ(kv.key(1, 0, 0), kv.key(0, 0, 0) + 4 * kv.head_stride());
  EXPECT_THROW(KvCache(kLayers, kMaxSeqs, kCtx, kState, false, 3), Error);
  EXPECT_THROW(KvCache(kLayers, kMaxSeqs, kCtx, kState, false, 0), Error);
}

// store() puts a row-major row's heads in their runs (halves rounded as floats_to_halves does) and
// gather() gives positions back as row-major rows, also those read from a shared prefix.
TEST(KvCache, StoreAndGatherRowMajorRows) {
  for (bool half : {false, true}) {
    KvCache kv(kLayers, kMaxSeqs, kCtx, kState, half, 2);
    const int n = 5;
    std::vector<float> k(static_cast<std::size_t>(n) * kState), v(k.size());
    for (std::size_t i = 0; i < k.size(); ++i) {
      k[i] = 0.37f * static_cast<float>(i) - 3.1f;  // not all exact in halves
      v[i] = -1.9f * static_cast<float>(i) + 0.7f;
    }
    for (int p = 0; p < n; ++p) kv.store(1, 0, p, k.data() + p * kState, v.data() + p * kState);
    kv.extend(0, n);
    kv.reorder({0, 0});  // both read the rows from the shared prefix now
    ASSERT_EQ(kv.shared_length(1), n);
    for (int p = 0; p < n; ++p) {
      for (int h = 0; h < 2; ++h) {
        for (int i = 0; i < kv.d_head(); ++i) {
          const std::size_t at = h * kv.head_stride() + i, row = static_cast<std::size_t>(p) * kState + h * kv.d_head() + i;
          const float want_k = half ? fp16_to_fp32(fp32_to_fp16(k[row])) : k[row];
          const float got_k = half ? fp16_to_fp32(kv.key_half(1, 1, p)[at]) : kv.key(1, 1, p)[at];
          ASSERT_EQ(got_k, want_k) << "half " << half << " pos " << p << " head " << h << " element " << i;
        }
      }
    }
    std::vector<float> gk(k.size(), 9.0f), gv(v.size(), 9.0f);
    kv.gather(1, 1, n, gk.data(), gv.data());
    for (std::size_t i = 0; i < k.size(); ++i) {
      ASSERT_EQ(gk[i], half ? fp16_to_fp32(fp32_to_fp16(k[i])) : k[i]) << "half " << half << " element " << i;
      ASSERT_EQ(gv[i], half ? fp16_to_fp32(fp32_to_fp16(v[i])) : v[i]) << "half " << half << " element " << i;
    }
  }
}

TEST(KvCache, FanOutSharesThePromptRowsAndUnshareCopiesThem) {
  KvCache kv(kLayers, kMaxSeqs, kCtx, kState, false, 2);
  for (int pos = 0; pos < 6; ++pos) write_row(kv, 0, pos, 10 + pos);
  kv.extend(0, 6);
  kv.reorder({0, 0, 0, 0, 0});
  for (int s = 0; s < 5; ++s) {
    EXPECT_EQ(kv.shared_length(s), 6);
    for (int l = 0; l < kLayers; ++l) EXPECT_EQ(kv.key(l, s, 3), kv.key(l, 0, 3)) << "one copy of the prompt";
  }
  // Own rows follow the prefix; each beam's are its own.
  for (int s = 0; s < 5; ++s) write_row(kv, s, 6, 100 + s);
  for (int s = 0; s < 5; ++s) kv.extend(s, 1);
  EXPECT_NE(kv.key(0, 1, 6), kv.key(0, 2, 6));
  EXPECT_EQ(kv.key(0, 3, 6)[0], 103.0f);
  // A reorder keeps the prefix for its readers.
  kv.reorder({4, 4, 1});
  EXPECT_EQ(kv.shared_length(1), 6);
  EXPECT_EQ(kv.key(0, 1, 6)[0], 104.0f);
  EXPECT_EQ(kv.key(0, 2, 6)[0], 101.0f);
  // unshare: the sequence's own copy, same values, elsewhere.
  const float* shared_row = kv.key(1, 2, 2);
  kv.unshare(2);
  EXPECT_EQ(kv.shared_length(2), 0);
  EXPECT_NE(kv.key(1, 2, 2), shared_row);
  EXPECT_EQ(kv.key(1, 2, 2)[0], 13.0f);
  EXPECT_EQ(kv.shared_length(0), 6);
  // Truncating below the prefix copies it too; the others keep reading the prefix.
  kv.truncate(0, 4);
  EXPECT_EQ(kv.shared_length(0), 0);
  EXPECT_EQ(kv.shared_length(1), 6);
  write_row(kv, 0, 4, 500);
  kv.extend(0, 1);
  EXPECT_EQ(kv.key(0, 1, 4)[0], 14.0f) << "a truncated beam's new rows must not land in the shared prefix";
  EXPECT_EQ(kv.key(0, 0, 4)[0], 500.0f);
  // A single-sequence cache has no prefix slot and never shares.
  KvCache one(kLayers, 1, kCtx, kState);
  write_row(one, 0, 0, 1);
  one.extend(0, 1);
  one.reorder({0});
  EXPECT_EQ(one.shared_length(0), 0);
}

}  // namespace
}  // namespace npw
