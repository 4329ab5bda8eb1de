// The log-mel's discrete Fourier transform: the power spectrum |X[k]|^2, k = 0..n/2, of 16 real
// frames at once, each lane of a vector a frame of its own. Whisper needs one size (400 = 2 x 200,
// 200 = 4 x 2 x 5 x 5), and the mel product wants the result bin by bin with the frames side by
// side, which is the layout a lane-batched transform produces without a transpose. It replaced
// FFTW, whose planner (run by any plan's creation) touches every codelet it has: 2.1 MiB of
// library pages resident in every process for one 400-point transform.
//
// A half-length complex transform (z[j] = x[2j] + i x[2j+1]) in self-sorting (Stockham) stages of
// radix 4, 2, 3 and 5, decimation in frequency, twiddles computed in double and rounded once,
// then the split into the real input's spectrum; 16 lanes in 4, 2 or 1 vectors by the SIMD level. The error is that of any such FFT in float32
// (a few units of rounding times the number of stages, relative to the frame's energy).
#pragma once

#include <cstddef>
#include <vector>

#include "audio/batched_real_fft_kernels.h"

namespace npw {

class BatchedRealFft {
 public:
  static constexpr int kLanes = fft_kernels::kLanes;  // frames per transform: 16

  // n even, n / 2 a product of 2, 3 and 5 (n = 2 included); throws npw::Error otherwise.
  explicit BatchedRealFft(int n);

  int size() const { return n_; }
  int bins() const { return n_ / 2 + 1; }
  // Floats of scratch a call needs (one scratch per thread calling at the same time).
  std::size_t work_floats() const;

  // Frame f's n samples at in + f * ld; power[k * kLanes + f] = |X_f[k]|^2 for k < bins().
  void power(const float* in, std::size_t ld, float* work, float* power) const;
  // The spectrum itself, re[k * kLanes + f] + i im[k * kLanes + f] (for the tests of the transform).
  void spectrum(const float* in, std::size_t ld, float* work, float* re, float* im) const;

 private:
  // The work's two buffers: the stages' input (z) and their ping-pong partner.
  struct Buffers {
    fft_kernels::Lanes a, b;
  };
  // z[j] = x[2 j] + i x[2 j + 1] of each frame into the work's first buffer, a frame per lane.
  void lay_out(const float* in, std::size_t ld, float* work) const;
  Buffers load(const float* in, std::size_t ld, float* work) const;
  fft_kernels::Plan plan() const;

  int n_, half_;
  std::vector<fft_kernels::Stage> stages_;
  std::vector<float> twiddles_;  // per stage and p, radix - 1 factors W^{p k}; re, im interleaved
  std::vector<float> split_;     // W_n^k for k <= half_, re, im interleaved
};

}  // namespace npw
