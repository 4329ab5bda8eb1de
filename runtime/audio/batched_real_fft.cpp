// The lane-batched real FFT behind batched_real_fft.h: its plan (radices, twiddles in double rounded
// once), the frames laid out a frame per lane, and the choice of the kernels' vector width
// (batched_real_fft_kernels.h) by the active SIMD level.
#include "audio/batched_real_fft.h"

#include <cmath>
#include <string>

#include "audio/batched_real_fft_kernels.h"
#include "audio/mel_simd.h"
#include "util/cpu_features.h"
#include "util/error.h"

namespace npw {
namespace fft_kernels {
// batched_real_fft_simd.cpp
void power_avx2(const Plan& plan, Lanes a, Lanes b, float* power);
void spectrum_avx2(const Plan& plan, Lanes a, Lanes b, float* re, float* im);
void power_avx512(const Plan& plan, Lanes a, Lanes b, float* power);
void spectrum_avx512(const Plan& plan, Lanes a, Lanes b, float* re, float* im);
}  // namespace fft_kernels

namespace {

using fft_kernels::Lanes;
using simd::f32x4;

constexpr int kGroups = BatchedRealFft::kLanes / 4;
constexpr double kTwoPi = 6.283185307179586476925286766559;

void store4(Lanes b, std::size_t j, int g, f32x4 re, f32x4 im) {
  simd::store(b.re + j * BatchedRealFft::kLanes + 4 * g, re);
  simd::store(b.im + j * BatchedRealFft::kLanes + 4 * g, im);
}

}  // namespace

BatchedRealFft::BatchedRealFft(int n) : n_(n), half_(n / 2) {
  if (n < 2 || n % 2 != 0)
    throw Error(ErrorKind::InvalidArgument, "FFT: the size must be even and at least 2, got " + std::to_string(n));
  int rest = half_;
  std::vector<int> radices;
  for (int r : {4, 2, 3, 5}) {
    while (rest % r == 0) {
      radices.push_back(r);
      rest /= r;
    }
  }
  if (rest != 1)
    throw Error(ErrorKind::InvalidArgument, "FFT: half the size must be a product of 2, 3 and 5, got " + std::to_string(n));
  int length = half_, stride = 1;
  for (int r : radices) {
    const int m = length / r;
    stages_.push_back(fft_kernels::Stage{r, m, stride, twiddles_.size()});
    for (int p = 0; p < m; ++p) {
      for (int k = 1; k < r; ++k) {
        // The angle's index reduced exactly before the double-precision cos and sin.
        const double a = kTwoPi * static_cast<double>((static_cast<long long>(p) * k) % length) / length;
        twiddles_.push_back(static_cast<float>(std::cos(a)));
        twiddles_.push_back(static_cast<float>(-std::sin(a)));
      }
    }
    length = m;
    stride *= r;
  }
  for (int k = 0; k <= half_; ++k) {
    const double a = kTwoPi * k / n_;
    split_.push_back(static_cast<float>(std::cos(a)));
    split_.push_back(static_cast<float>(-std::sin(a)));
  }
}

std::size_t BatchedRealFft::work_floats() const { return static_cast<std::size_t>(4) * half_ * kLanes; }

void BatchedRealFft::lay_out(const float* in, std::size_t ld, float* work) const {
  const std::size_t plane = static_cast<std::size_t>(half_) * kLanes;
  const Lanes a{work, work + plane};
  // z[j] = x[2 j] + i x[2 j + 1], frames to lanes: four frames' four samples a 4x4 transpose.
  for (int g = 0; g < kGroups; ++g) {
    const float* f0 = in + static_cast<std::size_t>(4 * g) * ld;
    int j = 0;
    for (; 2 * j + 4 <= n_; j += 2) {
      f32x4 r0 = simd::load(f0 + 2 * j), r1 = simd::load(f0 + ld + 2 * j);
      f32x4 r2 = simd::load(f0 + 2 * ld + 2 * j), r3 = simd::load(f0 + 3 * ld + 2 * j);
      simd::transpose4(r0, r1, r2, r3);
      store4(a, static_cast<std::size_t>(j), g, r0, r1);
      store4(a, static_cast<std::size_t>(j) + 1, g, r2, r3);
    }
    for (; j < half_; ++j) {
      const f32x4 re{f0[2 * j], f0[ld + 2 * j], f0[2 * ld + 2 * j], f0[3 * ld + 2 * j]};
      const f32x4 im{f0[2 * j + 1], f0[ld + 2 * j + 1], f0[2 * ld + 2 * j + 1], f0[3 * ld + 2 * j + 1]};
      store4(a, static_cast<std::size_t>(j), g, re, im);
    }
  }
}

fft_kernels::Plan BatchedRealFft::plan() const {
  return fft_kernels::Plan{half_, stages_.data(), static_cast<int>(stages_.size()), twiddles_.data(), split_.data()};
}

BatchedRealFft::Buffers BatchedRealFft::load(const float* in, std::size_t ld, float* work) const {
  lay_out(in, ld, work);
  const std::size_t plane = static_cast<std::size_t>(half_) * kLanes;
  return Buffers{{work, work + plane}, {work + 2 * plane, work + 3 * plane}};
}

void BatchedRealFft::power(const float* in, std::size_t ld, float* work, float* power) const {
  const auto [a, b] = load(in, ld, work);
  const fft_kernels::Plan p = plan();
  switch (active_simd_level()) {
    case SimdLevel::Avx512: fft_kernels::power_avx512(p, a, b, power); break;
    case SimdLevel::Avx2: fft_kernels::power_avx2(p, a, b, power); break;
    default: fft_kernels::transform<f32x4>(p, a, b, fft_kernels::PowerOut<f32x4>{power}); break;
  }
}

void BatchedRealFft::spectrum(const float* in, std::size_t ld, float* work, float* re, float* im) const {
  const auto [a, b] = load(in, ld, work);
  const fft_kernels::Plan p = plan();
  switch (active_simd_level()) {
    case SimdLevel::Avx512: fft_kernels::spectrum_avx512(p, a, b, re, im); break;
    case SimdLevel::Avx2: fft_kernels::spectrum_avx2(p, a, b, re, im); break;
    default: fft_kernels::transform<f32x4>(p, a, b, fft_kernels::SpectrumOut<f32x4>{re, im}); break;
  }
}

}  // namespace npw
