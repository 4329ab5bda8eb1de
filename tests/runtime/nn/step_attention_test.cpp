// The decoder's step attention against a naive double loop: f32 and half caches (the naive loop on the
// halves' exact values), rows of several sequences each over its own cache and key count (none, fewer than one block of 8 keys, odd, many), head sizes the SIMD
// kernels take (8, 64, 72: one, eight and nine vectors) and one they leave to the portable loops (12),
// strides wider than the heads, with and without a pool, at every SIMD level this CPU has; and its
// refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "model/quant.h"
#include "naive.h"
#include "nn/step_attention.h"
#include "simd_levels.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using npw_test::max_rel_err;
using npw_test::random_vector;

// One head of one row in double precision.
void naive_head(const float* q, const float* k, int ldk, const float* v, int ldv, int n_kv, int d, float* out) {
  if (n_kv == 0) {
    for (int i = 0; i < d; ++i) out[i] = 0.0f;
    return;
  }
  std::vector<double> s(static_cast<std::size_t>(n_kv));
  double mx = -INFINITY;
  for (int j = 0; j < n_kv; ++j) {
    double dot = 0.0;
    for (int i = 0; i < d; ++i) dot += static_cast<double>(q[i]) * k[static_cast<std::size_t>(j) * ldk + i];
    s[j] = dot / std::sqrt(static_cast<double>(d));
    mx = std::max(mx, s[j]);
  }
  double sum = 0.0;
  for (double& x : s) sum += (x = std::exp(x - mx));
  for (int i = 0; i < d; ++i) {
    double o = 0.0;
    for (int j = 0; j < n_kv; ++j) o += s[j] / sum * v[static_cast<std::size_t>(j) * ldv + i];
    out[i] = static_cast<float>(o);
  }
}

TEST(StepAttention, MatchesNaiveForEverySequenceAndHead) {
  const int max_kv = 200;
  ThreadPool pool(2);
  npw_test::at_every_level([&] {
    for (int d_head : {8, 12, 64, 72}) {
      for (int variant = 0; variant < 4; ++variant) {
        const bool use_pool = variant & 1, half = variant & 2;
        const int n_head = 3, width = n_head * d_head, ld = width + 5;
        const std::vector<int> n_kvs = {0, 1, 7, 8, 9, 37, 200};
        const int n_rows = static_cast<int>(n_kvs.size());
        // Each row its own sequence: a cache of max_kv rows of keys and values.
        auto k = random_vector(static_cast<std::size_t>(n_rows) * max_kv * ld, 3 + d_head, -2.0f, 2.0f);
        auto v = random_vector(static_cast<std::size_t>(n_rows) * max_kv * ld, 4 + d_head);
        std::vector<uint16_t> kh(k.size()), vh(v.size());
        if (half) {
          // The cache's halves, and the floats they stand for (what the reference sees).
          for (std::size_t i = 0; i < k.size(); ++i) k[i] = fp16_to_fp32(kh[i] = fp32_to_fp16(k[i]));
          for (std::size_t i = 0; i < v.size(); ++i) v[i] = fp16_to_fp32(vh[i] = fp32_to_fp16(v[i]));
        }
        const auto q = random_vector(static_cast<std::size_t>(n_rows) * width, 5 + d_head, -2.0f, 2.0f);
        std::vector<float> out(static_cast<std::size_t>(n_rows) * width, 7.0f), want(out.size());
        std::vector<StepRow> rows(static_cast<std::size_t>(n_rows));
        for (int r = 0; r < n_rows; ++r) {
          const std::size_t cache = static_cast<std::size_t>(r) * max_kv * ld;
          rows[r] = StepRow{q.data() + r * width, k.data() + cache, v.data() + cache, n_kvs[r], out.data() + r * width};
          if (half) {
            rows[r].k = rows[r].v = nullptr;
            rows[r].kh = kh.data() + cache;
            rows[r].vh = vh.data() + cache;
          }
          for (int h = 0; h < n_head; ++h) {
            naive_head(q.data() + r * width + h * d_head, k.data() + cache + h * d_head, ld, v.data() + cache + h * d_head,
                       ld, n_kvs[r], d_head, want.data() + r * width + h * d_head);
          }
        }
        StepAttention att(max_kv, 2);
        att.run(use_pool ? &pool : nullptr, rows.data(), n_rows, n_head, d_head, ld, ld);
        EXPECT_LT(max_rel_err(out.data(), want.data(), out.size()), 2e-6)
            << "d_head " << d_head << " pool " << use_pool << " half " << half;
      }
    }
  });
}

TEST(StepAttention, RefusesInconsistentCalls) {
  StepAttention att(16, 1);
  std::vector<float> buf(64 * 64, 0.0f);
  StepRow row{buf.data(), buf.data(), buf.data(), 17, buf.data()};
  EXPECT_THROW(att.run(nullptr, &row, 1, 1, 8, 8, 8), Error);  // more keys than the scratch
  row.n_kv = 4;
  EXPECT_THROW(att.run(nullptr, &row, 1, 2, 8, 8, 16), Error);  // key stride below the heads
  ThreadPool pool(2);
  EXPECT_THROW(att.run(&pool, &row, 1, 1, 8, 8, 8), Error);  // scratch made for one thread
  row.out = nullptr;
  EXPECT_THROW(att.run(nullptr, &row, 1, 1, 8, 8, 8), Error);
  row.out = buf.data();
  std::vector<uint16_t> halves(64 * 64, 0);
  row.kh = row.vh = halves.data();  // f32 and half rows both given
  EXPECT_THROW(att.run(nullptr, &row, 1, 1, 8, 8, 8), Error);
  EXPECT_THROW(StepAttention(0, 1), Error);
}

}  // namespace
}  // namespace npw
