// LayerNorm, GELU, softmax and the adds against double-precision loops, with odd sizes, in place,
// and through a pool (sizes large enough to take the parallel path).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "naive.h"
#include "simd_levels.h"
#include "nn/ops.h"
#include "util/cpu_features.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using npw_test::max_rel_err;
using npw_test::random_vector;
using npw_test::at_every_level;

std::vector<float> naive_layer_norm(const std::vector<float>& x, int rows, int n, const float* w, const float* b) {
  std::vector<float> y(x.size());
  for (int r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int i = 0; i < n; ++i) mean += x[r * n + i];
    mean /= n;
    for (int i = 0; i < n; ++i) var += (x[r * n + i] - mean) * (x[r * n + i] - mean);
    var /= n;
    for (int i = 0; i < n; ++i) {
      y[r * n + i] = static_cast<float>((x[r * n + i] - mean) / std::sqrt(var + 1e-5) * (w ? w[i] : 1.0) + (b ? b[i] : 0.0));
    }
  }
  return y;
}

TEST(Ops, LayerNormMatchesNaive) { at_every_level([] {
  ThreadPool pool(3);
  struct Case { int rows, n; ThreadPool* pool; };
  for (const Case c : {Case{3, 37, nullptr}, Case{1, 1, nullptr}, Case{301, 129, &pool}, Case{7, 5, &pool}}) {
    auto x = random_vector(static_cast<std::size_t>(c.rows) * c.n, 1, -3.0f, 5.0f);
    const auto w = random_vector(c.n, 2, 0.5f, 1.5f);
    const auto b = random_vector(c.n, 3);
    const auto want = naive_layer_norm(x, c.rows, c.n, w.data(), b.data());
    std::vector<float> y(x.size());
    layer_norm(x.data(), c.rows, c.n, w.data(), b.data(), kLayerNormEps, y.data(), c.pool);
    EXPECT_LT(max_rel_err(y.data(), want.data(), y.size()), 2e-6) << c.rows << "x" << c.n;
    layer_norm(x.data(), c.rows, c.n, w.data(), b.data(), kLayerNormEps, x.data(), c.pool);  // in place
    EXPECT_EQ(x, y);
  }
  auto x = random_vector(2 * 9, 4);
  const auto want = naive_layer_norm(x, 2, 9, nullptr, nullptr);
  layer_norm(x.data(), 2, 9, nullptr, nullptr, kLayerNormEps, x.data());
  EXPECT_LT(max_rel_err(x.data(), want.data(), x.size()), 2e-6);
  // Whisper's widths, a large common offset (the statistics must not cancel badly), only w or only b.
  for (int n : {384, 1280, 33}) {
    auto big = random_vector(static_cast<std::size_t>(2) * n, 7, 95.0f, 105.0f);
    const auto w2 = random_vector(n, 8, 0.5f, 1.5f);
    auto want_w = naive_layer_norm(big, 2, n, w2.data(), nullptr);
    std::vector<float> y2(big.size());
    layer_norm(big.data(), 2, n, w2.data(), nullptr, kLayerNormEps, y2.data());
    EXPECT_LT(max_rel_err(y2.data(), want_w.data(), y2.size()), 2e-5) << n;
    auto want_b = naive_layer_norm(big, 2, n, nullptr, w2.data());
    layer_norm(big.data(), 2, n, nullptr, w2.data(), kLayerNormEps, y2.data());
    EXPECT_LT(max_rel_err(y2.data(), want_b.data(), y2.size()), 2e-5) << n;
  }
}); }

TEST(Ops, GeluIsTheErfForm) { at_every_level([] {
  ThreadPool pool(2);
  for (std::size_t n : {std::size_t{1}, std::size_t{13}, std::size_t{100003}}) {
    auto x = random_vector(n, 5, -8.0f, 8.0f);
    std::vector<float> want(n);
    for (std::size_t i = 0; i < n; ++i) want[i] = static_cast<float>(0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0))));
    gelu(x.data(), n, n > 100 ? &pool : nullptr);
    // The vector kernels' erf is within 4e-7 of erf (float rounding of its rational), so GELU is
    // within 0.5 |x| 4e-7: at most 1.1e-6, in the negative tail before erf saturates at |x| = 5.5.
    EXPECT_LT(max_rel_err(x.data(), want.data(), n), 1.2e-6) << n;
  }
  float fixed[] = {0.0f, 1.0f, -1.0f};
  gelu(fixed, 3);
  EXPECT_EQ(fixed[0], 0.0f);
  EXPECT_NEAR(fixed[1], 0.8413447460685429, 1e-7);
  EXPECT_NEAR(fixed[2], -0.15865525393145707, 1e-7);
  float tails[] = {-30.0f, 30.0f, 3.0e-8f, -2.5f};
  gelu(tails, 4);
  EXPECT_EQ(tails[0], 0.0f);
  EXPECT_EQ(tails[1], 30.0f);
  EXPECT_NEAR(tails[2], 1.5e-8, 1e-14);
  EXPECT_NEAR(tails[3], -0.0155241633144403, 1e-7);
}); }

TEST(Ops, SoftmaxIsStableAndNormalised) { at_every_level([] {
  ThreadPool pool(3);
  const int rows = 257, n = 301, ld = 307;
  auto x = random_vector(static_cast<std::size_t>(rows) * ld, 6, -20.0f, 20.0f);
  for (int i = 0; i < n; ++i) x[i] += 1000.0f;  // exp would overflow without the max shift
  std::vector<float> want(x.size());
  for (int r = 0; r < rows; ++r) {
    double mx = -INFINITY, sum = 0;
    for (int i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(x[r * ld + i]));
    for (int i = 0; i < n; ++i) sum += std::exp(x[r * ld + i] - mx);
    for (int i = 0; i < n; ++i) want[r * ld + i] = static_cast<float>(std::exp(x[r * ld + i] - mx) / sum);
    for (int i = n; i < ld; ++i) want[r * ld + i] = x[r * ld + i];  // padding untouched
  }
  softmax_rows(x.data(), rows, n, ld, &pool);
  EXPECT_LT(max_rel_err(x.data(), want.data(), x.size()), 1e-6);
  for (int r = 0; r < rows; ++r) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += x[r * ld + i];
    ASSERT_NEAR(s, 1.0, 1e-5) << "row " << r;
  }
  float one[] = {-3.5f};
  softmax(one, 1);
  EXPECT_EQ(one[0], 1.0f);
  float far[] = {0.0f, -200.0f, 5.0f};  // exp(-205) underflows to exactly 0
  softmax(far, 3);
  EXPECT_EQ(far[1], 0.0f);
  EXPECT_NEAR(far[2], 1.0 / (1.0 + std::exp(-5.0)), 1e-7);
}); }

// A row's softmax denominator built from blocks in any order and merged from partial sums gives each
// value's probability as the whole row's softmax does, at every level, with block lengths that hit the
// vector tails and values that would overflow exp without the running maximum.
TEST(Ops, ExpSumOverBlocksGivesTheSoftmaxProbabilities) { at_every_level([] {
  const int n = 1031;
  auto x = random_vector(n, 9, -30.0f, 30.0f);
  x[700] = 400.0f;  // a late maximum: the sums so far are rescaled, not overflowed
  x[5] = -INFINITY;  // a suppressed id
  double mx = -INFINITY, sum = 0;
  for (float v : x) mx = std::max(mx, static_cast<double>(v));
  for (float v : x) sum += std::exp(v - mx);
  for (int block : {1, 7, 16, 33, 256, n}) {
    ExpSum whole;
    std::vector<ExpSum> parts;
    for (int o = 0; o < n; o += block) {
      const int len = std::min(block, n - o);
      exp_sum_add(whole, x.data() + o, len);
      ExpSum part;
      exp_sum_add(part, x.data() + o, len);
      parts.push_back(part);
    }
    ExpSum merged;
    for (const ExpSum& p : parts) exp_sum_merge(merged, p);
    for (const ExpSum* t : {&whole, &merged}) {
      for (int i : {0, 5, 6, 699, 700, 701, n - 1}) {
        const double want = std::exp(x[i] - mx) / sum;
        EXPECT_NEAR(exp_sum_probability(*t, x[i]), want, 1e-6 * want + 1e-30) << "block " << block << " id " << i;
      }
    }
  }
  // Empty rows, rows of -inf and merges with them.
  ExpSum empty;
  exp_sum_add(empty, x.data(), 0);
  EXPECT_EQ(exp_sum_probability(empty, 1.0f), 0.0f);
  const float dead[] = {-INFINITY, -INFINITY};
  exp_sum_add(empty, dead, 2);
  EXPECT_EQ(exp_sum_probability(empty, 1.0f), 0.0f);
  ExpSum one;
  const float v[] = {2.0f, 2.0f};
  exp_sum_add(one, v, 2);
  exp_sum_merge(one, empty);
  EXPECT_FLOAT_EQ(exp_sum_probability(one, 2.0f), 0.5f);
  exp_sum_merge(empty, one);
  EXPECT_FLOAT_EQ(exp_sum_probability(empty, 2.0f), 0.5f);
}); }

TEST(Ops, BiasAndResidualAdds) {
  ThreadPool pool(2);
  const int rows = 129, n = 257, ld = 263;
  auto y = random_vector(static_cast<std::size_t>(rows) * ld, 7);
  const auto b = random_vector(n, 8);
  auto want = y;
  for (int r = 0; r < rows; ++r) {
    for (int i = 0; i < n; ++i) want[r * ld + i] += b[i];
  }
  add_bias(y.data(), rows, n, ld, b.data(), &pool);
  EXPECT_EQ(y, want);

  const std::size_t m = 70001;
  auto acc = random_vector(m, 9);
  const auto res = random_vector(m, 10);
  auto sum = acc;
  for (std::size_t i = 0; i < m; ++i) sum[i] += res[i];
  add_inplace(acc.data(), res.data(), m, &pool);
  EXPECT_EQ(acc, sum);
}

}  // namespace
}  // namespace npw
