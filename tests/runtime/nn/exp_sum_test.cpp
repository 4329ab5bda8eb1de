// util/exp_sum against libm's exp at every SIMD level: each term, the sums, the largest value, and the
// edges a logit row can hold (-inf for suppressed tokens, NaN, arguments where exp underflows).
#include "util/exp_sum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "simd_levels.h"

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> logit_row(int n, uint32_t seed) {
  std::vector<float> x(static_cast<std::size_t>(n));
  uint32_t s = seed;
  for (float& v : x) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<float>(s >> 8) / 16777216.0f * 40.0f - 30.0f;
  }
  // Suppressed tokens, as the logit filters leave them.
  for (int i = 3; i < n; i += 11) x[static_cast<std::size_t>(i)] = -kInf;
  return x;
}

// Within 2 ulp of libm's exp (itself within 1 ulp of the true value), or both below the normal range,
// or both overflowing.
void expect_close_exp(double got, double d) {
  const double want = std::exp(d);
  if (std::isinf(want)) {
    EXPECT_EQ(got, want) << d;
  } else if (want < 1e-300) {
    // Below e^-708 (3.307e-308, just above the smallest normal double) the SIMD levels give 0.
    if (got == 0.0) {
      EXPECT_LT(want, 3.31e-308) << d;
    } else {
      EXPECT_NEAR(got, want, 1e-310) << d;
    }
  } else {
    EXPECT_LE(std::fabs(got - want), 4.5e-16 * want) << d;
  }
}

TEST(ExpSum, TermsAndSumsMatchLibm) { npw_test::at_every_level([] {
  for (int n : {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 51865}) {
    const std::vector<float> x = logit_row(n, static_cast<uint32_t>(n));
    const double mx = npw::largest_value(x.data(), n);
    double want_mx = -std::numeric_limits<double>::infinity();
    for (float v : x) want_mx = std::max(want_mx, static_cast<double>(v));
    EXPECT_EQ(mx, want_mx) << n;
    for (double divisor : {1.0, 0.7, 1.3}) {
      std::vector<double> w(static_cast<std::size_t>(n), -1.0);
      const double sum = npw::exp_values(x.data(), n, mx, divisor, w.data());
      long double want = 0.0L;
      for (int i = 0; i < n; ++i) {
        const double d = (static_cast<double>(x[static_cast<std::size_t>(i)]) - mx) / divisor;
        expect_close_exp(w[static_cast<std::size_t>(i)], d);
        want += std::exp(static_cast<long double>(d));
      }
      // A sum of n positive doubles is within (n - 1) eps of the exact sum, whatever the order.
      EXPECT_LE(std::fabs(sum - static_cast<double>(want)), n * 1.2e-16 * static_cast<double>(want)) << n << " " << divisor;
      EXPECT_EQ(npw::exp_sum(x.data(), n, mx, divisor), sum) << n;  // the same terms, summed the same way
    }
  }
}); }

TEST(ExpSum, EdgesOfTheRange) { npw_test::at_every_level([] {
  // Arguments exp(x - 0) from the overflow edge down through the subnormals to zero.
  const std::vector<float> x = {0.0f, -1e-8f, 1e-8f, 0.5f, -0.34657f, 0.34657f, -20.0f, -87.5f, -700.0f, -708.3f,
                                -709.0f, -720.0f, -740.0f, -745.0f, -745.5f, -800.0f, -1e30f, 700.0f, 709.7f};
  const int n = static_cast<int>(x.size());
  std::vector<double> w(x.size());
  npw::exp_values(x.data(), n, 0.0, 1.0, w.data());
  for (int i = 0; i < n; ++i) expect_close_exp(w[static_cast<std::size_t>(i)], static_cast<double>(x[static_cast<std::size_t>(i)]));
  const float over[] = {710.0f, 1e30f, kInf};
  std::vector<double> wo(3);
  npw::exp_values(over, 3, 0.0, 1.0, wo.data());
  for (double v : wo) EXPECT_EQ(v, std::numeric_limits<double>::infinity());
}); }

TEST(ExpSum, EveryReductionStepAcrossTheRange) { npw_test::at_every_level([] {
  // Arguments 1/2048 apart and offset from the grid (about 31 of them in each ln2/16 step of the
  // reduction, so every table entry and both signs of the remainder), then the top and bottom decades.
  std::vector<float> x;
  for (int i = -2048 * 20; i <= 2048 * 3; ++i) x.push_back(static_cast<float>(i) / 2048.0f + 1.0f / 8192.0f);
  for (float v = -745.0f; v < -700.0f; v += 0.0137f) x.push_back(v);
  for (float v = 700.0f; v < 709.7f; v += 0.0137f) x.push_back(v);
  const int n = static_cast<int>(x.size());
  for (double divisor : {1.0, 0.8}) {
    std::vector<double> w(x.size());
    npw::exp_values(x.data(), n, 0.0, divisor, w.data());
    for (int i = 0; i < n; ++i) {
      expect_close_exp(w[static_cast<std::size_t>(i)], static_cast<double>(x[static_cast<std::size_t>(i)]) / divisor);
    }
  }
}); }

// The SIMD levels never make a subnormal term (each one costs an Intel core a microcode assist); a
// row of suppressed tokens (-inf) around a few live ones sums to the live ones' terms.
TEST(ExpSum, NoSubnormalTermsAndSuppressedRowsSumTheLiveOnes) { npw_test::at_every_level([] {
  std::vector<float> x;
  for (float v = -760.0f; v < -700.0f; v += 0.00731f) x.push_back(v);
  x.push_back(-kInf);
  x.push_back(-1e30f);
  const int n = static_cast<int>(x.size());
  std::vector<double> w(x.size());
  npw::exp_values(x.data(), n, 0.0, 1.0, w.data());
  if (npw::active_simd_level() != npw::SimdLevel::Scalar) {
    for (int i = 0; i < n; ++i) {
      EXPECT_NE(std::fpclassify(w[static_cast<std::size_t>(i)]), FP_SUBNORMAL) << x[static_cast<std::size_t>(i)];
    }
  }
  std::vector<float> row(51865, -kInf);
  for (int i = 0; i < 1501; ++i) row[static_cast<std::size_t>(50364 + i)] = -0.01f * static_cast<float>(i);
  double want = 0.0;
  for (int i = 0; i < 1501; ++i) want += std::exp(static_cast<double>(row[static_cast<std::size_t>(50364 + i)]));
  EXPECT_NEAR(npw::exp_sum(row.data(), 51865, 0.0, 1.0), want, 1e-12 * want);
}); }

TEST(ExpSum, InfinitiesAndNaN) { npw_test::at_every_level([] {
  const float none[] = {-kInf, -kInf, -kInf};
  EXPECT_EQ(npw::largest_value(none, 3), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(npw::largest_value(none, 0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(npw::exp_sum(none, 3, 0.0, 1.0), 0.0);
  EXPECT_EQ(npw::exp_sum(none, 0, 0.0, 1.0), 0.0);
  // A NaN is passed over by the largest value (as std::max passed it) and poisons the sum (as libm's
  // exp did), at every position of a vector.
  for (int at = 0; at < 19; ++at) {
    std::vector<float> x(19, -1.0f);
    x[static_cast<std::size_t>(at)] = std::numeric_limits<float>::quiet_NaN();
    x[(static_cast<std::size_t>(at) + 5) % x.size()] = 2.0f;
    EXPECT_EQ(npw::largest_value(x.data(), 19), 2.0) << at;
    EXPECT_TRUE(std::isnan(npw::exp_sum(x.data(), 19, 2.0, 1.0))) << at;
  }
}); }

TEST(ExpSum, LevelsAgree) {
  const std::vector<float> x = logit_row(51865, 99u);
  const npw::SimdLevel saved = npw::active_simd_level();
  npw::set_active_simd_level(npw::SimdLevel::Scalar);
  const double want = npw::exp_sum(x.data(), 51865, 9.5, 1.0);
  npw::set_active_simd_level(saved);
  npw_test::at_every_level([&] {
    EXPECT_LE(std::fabs(npw::exp_sum(x.data(), 51865, 9.5, 1.0) - want), 2 * 51865 * 1.2e-16 * want);
  });
}

}  // namespace
