// The lane-batched real FFT of the log-mel against the DFT's definition in double, on every size
// class it accepts (radix 2, 3, 4 and 5 stages alone and mixed, odd halves, Whisper's 400), with
// frames that differ lane by lane and a row stride wider than the frame, at every SIMD level the CPU
// has (4, 8 and 16 lanes a vector); and the sizes it refuses.
#include "audio/batched_real_fft.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "../nn/simd_levels.h"
#include "util/error.h"

namespace npw {
namespace {

constexpr int kLanes = BatchedRealFft::kLanes;
constexpr double kTwoPi = 6.283185307179586;

struct Frames {
  std::size_t ld;
  std::vector<float> x;  // kLanes frames, frame f at f * ld
};

Frames random_frames(int n, unsigned seed) {
  Frames f{static_cast<std::size_t>(n) + 3, {}};
  f.x.assign(f.ld * kLanes, 0.0f);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int lane = 0; lane < kLanes; ++lane) {
    const float gain = std::ldexp(1.0f, lane % 7 - 3);  // lanes of different scale
    for (int i = 0; i < n; ++i) f.x[lane * f.ld + i] = gain * normal(rng);
  }
  return f;
}

// |X - X_ref|_2 / |X_ref|_2 over each frame's bins, the worst frame's.
double worst_relative_error(int n, const Frames& f, const std::vector<float>& re, const std::vector<float>& im) {
  double worst = 0.0;
  for (int lane = 0; lane < kLanes; ++lane) {
    double err = 0.0, norm = 0.0;
    for (int k = 0; k <= n / 2; ++k) {
      double xr = 0.0, xi = 0.0;
      for (int j = 0; j < n; ++j) {
        const double a = kTwoPi * static_cast<double>((static_cast<long long>(j) * k) % n) / n;
        xr += f.x[lane * f.ld + j] * std::cos(a);
        xi -= f.x[lane * f.ld + j] * std::sin(a);
      }
      const double dr = re[k * kLanes + lane] - xr, di = im[k * kLanes + lane] - xi;
      err += dr * dr + di * di;
      norm += xr * xr + xi * xi;
    }
    worst = std::max(worst, std::sqrt(err / norm));
  }
  return worst;
}

TEST(BatchedRealFft, MatchesTheDefinitionAtEverySizeClass) {
  npw_test::at_every_level([] {
    for (int n : {2, 4, 6, 8, 10, 12, 16, 18, 30, 50, 64, 90, 120, 162, 250, 400, 480, 1000}) {
      BatchedRealFft fft(n);
      ASSERT_EQ(fft.bins(), n / 2 + 1);
      const Frames f = random_frames(n, 1234u + static_cast<unsigned>(n));
      const std::size_t values = static_cast<std::size_t>(fft.bins()) * kLanes;
      std::vector<float> work(fft.work_floats()), re(values), im(values), power(values);
      fft.spectrum(f.x.data(), f.ld, work.data(), re.data(), im.data());
      // float32 rounding over log2(n) stages (measured 0.6-1.4e-7 for these sizes): a wrong twiddle
      // or index is an error of order 1.
      const double err = worst_relative_error(n, f, re, im);
      EXPECT_LT(err, 5e-8 * (2.0 + std::log2(static_cast<double>(n)))) << "n = " << n;
      fft.power(f.x.data(), f.ld, work.data(), power.data());
      for (std::size_t i = 0; i < values; ++i) {
        const float want = re[i] * re[i] + im[i] * im[i];
        ASSERT_NEAR(power[i], want, 1e-6f * want + 1e-30f) << "n = " << n << ", value " << i;
      }
    }
  });
}

TEST(BatchedRealFft, ConstantAndCosineFramesLandInTheirBins) {
  npw_test::at_every_level([] {
    const int n = 400;
    BatchedRealFft fft(n);
    Frames f{n, std::vector<float>(static_cast<std::size_t>(n) * kLanes)};
    for (int lane = 0; lane < kLanes; ++lane)
      for (int j = 0; j < n; ++j)
        f.x[lane * n + j] = lane == 0 ? 1.0f : static_cast<float>(std::cos(kTwoPi * lane * 7 * j / n));
    std::vector<float> work(fft.work_floats()), power(static_cast<std::size_t>(fft.bins()) * kLanes);
    fft.power(f.x.data(), f.ld, work.data(), power.data());
    for (int lane = 0; lane < kLanes; ++lane) {
      const int bin = lane * 7;  // lane 0: the constant, all in bin 0
      const double want = lane == 0 ? double(n) * n : double(n) * n / 4;
      for (int k = 0; k <= n / 2; ++k) {
        if (k == bin) {
          EXPECT_NEAR(power[k * kLanes + lane], want, want * 1e-5) << lane;
        } else {
          EXPECT_LT(power[k * kLanes + lane], want * 1e-10) << "lane " << lane << ", bin " << k;
        }
      }
    }
  });
}

TEST(BatchedRealFft, RefusesSizesItCannotTransform) {
  for (int n : {0, 1, -4, 7, 14, 22, 26, 402}) EXPECT_THROW(BatchedRealFft{n}, Error) << n;
}

}  // namespace
}  // namespace npw
