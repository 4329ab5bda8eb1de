// The log-mel computation behind mel.h. Speed comes from: one batched FFTW plan reused by every
// thread through the new-array execute function; frames that only see zeros (the 30 s tail
// Whisper appends, digital silence) skip the FFT, since their exact result is log10(1e-10) = -10;
// the mel product walks only each filter's non-zero bins; fixed-size inner loops over a batch of
// frames that the compiler vectorises; and a vectorisable log10.
#include "audio/mel.h"

#include <fftw3.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

#include "util/aligned_buffer.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

constexpr int kBatch = 16;     // frames per FFTW execute
constexpr int kOutDist = 208;  // complex values per frame in the FFT output: 201 padded to 64 bytes
constexpr double kPi = 3.14159265358979323846;
constexpr float kLogFloor = 1e-10f;
constexpr float kZeroFrameLog = -10.0f;  // log10(1e-10f) rounded to float, as torch gives it

// FFTW's planner (plan creation and destruction) is not thread-safe; executing plans is.
std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

uint32_t float_bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

float bits_float(uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// log10 for finite x >= 1e-10 (normal floats): split off the exponent, reduce the mantissa to
// [sqrt(1/2), sqrt(2)) and sum the atanh series of ln; the truncation error is < 1e-9, far below
// float32 rounding. Written branch-free so that a loop over it vectorises.
inline float log10_positive(float x) {
  const uint32_t b = float_bits(x);
  int e = static_cast<int>(b >> 23) - 127;
  float m = bits_float((b & 0x007FFFFFu) | 0x3F800000u);  // [1, 2)
  const bool big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  e += big ? 1 : 0;
  const float s = (m - 1.0f) / (m + 1.0f);
  const float s2 = s * s;
  const float series = 1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9))));
  const float ln_m = 2.0f * s * series;
  // log10(x) = e * log10(2) + ln(m) * log10(e)
  return static_cast<float>(e) * 0.30102999566f + ln_m * 0.43429448190f;
}

int64_t count_nonfinite(const float* x, int64_t n) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += (float_bits(x[i]) & 0x7F800000u) == 0x7F800000u;
  return count;
}

// torch's reflect padding: index -k maps to k, index (L - 1) + k maps to (L - 1) - k.
inline int64_t reflect(int64_t p, int64_t length) {
  if (p < 0) return -p;
  if (p >= length) return 2 * (length - 1) - p;
  return p;
}

}  // namespace

struct MelSpectrogram::Plan {
  fftwf_plan plan = nullptr;
  ~Plan() {
    if (plan) {
      std::lock_guard<std::mutex> lock(fftw_planner_mutex());
      fftwf_destroy_plan(plan);
    }
  }
};

struct MelSpectrogram::Scratch {
  AlignedBuffer<float> frames{static_cast<std::size_t>(kBatch) * kMelNFft};       // windowed input
  AlignedBuffer<float> spectrum{static_cast<std::size_t>(kBatch) * kOutDist * 2};  // complex output
  AlignedBuffer<float> power{static_cast<std::size_t>(kMelNBins) * kBatch};        // [bin][frame]
  AlignedBuffer<float> acc{kBatch};
  int64_t frame_index[kBatch] = {};
};

float mel_max(const float* mel, std::size_t n) {
  // Eight independent lanes so the reduction vectorises without -ffast-math.
  float lane[8];
  for (float& l : lane) l = -INFINITY;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) lane[j] = mel[i + j] > lane[j] ? mel[i + j] : lane[j];
  for (; i < n; ++i) lane[0] = mel[i] > lane[0] ? mel[i] : lane[0];
  float m = lane[0];
  for (int j = 1; j < 8; ++j) m = lane[j] > m ? lane[j] : m;
  return m;
}

void mel_clamp_scale(float* mel, std::size_t n, float max_value) {
  const float floor = max_value - 8.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = mel[i] > floor ? mel[i] : floor;
    mel[i] = (v + 4.0f) / 4.0f;
  }
}

void slice_window(const float* mel, int n_mels, int64_t n_frames, int64_t offset_frames, float* out) {
  const int64_t begin = std::min(std::max<int64_t>(offset_frames, 0), n_frames);
  const int64_t avail = std::min<int64_t>(n_frames - begin, kMelWindowFrames);
  for (int m = 0; m < n_mels; ++m) {
    float* row = out + m * kMelWindowFrames;
    if (avail > 0) std::memcpy(row, mel + m * n_frames + begin, sizeof(float) * avail);
    std::fill(row + std::max<int64_t>(avail, 0), row + kMelWindowFrames, 0.0f);
  }
}

MelSpectrogram::MelSpectrogram(const float* filters, int n_mels, ThreadPool* pool)
    : n_mels_(n_mels), pool_(pool) {
  if (!filters || n_mels <= 0)
    throw Error(ErrorKind::InvalidArgument, "mel: need a filter bank with at least one filter");
  filters_.assign(filters, filters + static_cast<std::size_t>(n_mels) * kMelNBins);
  filter_lo_.resize(n_mels);
  filter_hi_.resize(n_mels);
  for (int m = 0; m < n_mels; ++m) {
    const float* f = filters_.data() + static_cast<std::size_t>(m) * kMelNBins;
    int lo = kMelNBins, hi = 0;
    for (int k = 0; k < kMelNBins; ++k) {
      if (!std::isfinite(f[k]))
        throw Error(ErrorKind::Format, "mel filter bank: non-finite value at filter " + std::to_string(m) +
                                           ", bin " + std::to_string(k));
      if (f[k] != 0.0f) {
        lo = std::min(lo, k);
        hi = k + 1;
      }
    }
    filter_lo_[m] = lo < hi ? lo : 0;
    filter_hi_[m] = lo < hi ? hi : 0;
  }
  window_.resize(kMelNFft);
  for (int i = 0; i < kMelNFft; ++i)
    window_[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * kPi * i / kMelNFft));

  const int n_threads = pool_ ? std::max(pool_->size(), 1) : 1;
  for (int i = 0; i < n_threads; ++i) scratch_.push_back(std::make_unique<Scratch>());

  // Planned on 64-byte aligned buffers; every Scratch has the same alignment, which is what
  // fftwf_execute_dft_r2c requires of the arrays it is later given.
  plan_ = std::make_unique<Plan>();
  Scratch& s = *scratch_[0];
  const int n = kMelNFft;
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  plan_->plan = fftwf_plan_many_dft_r2c(1, &n, kBatch, s.frames.data(), nullptr, 1, kMelNFft,
                                        reinterpret_cast<fftwf_complex*>(s.spectrum.data()), nullptr, 1,
                                        kOutDist, FFTW_ESTIMATE);
  if (!plan_->plan) throw Error(ErrorKind::Internal, "mel: FFTW could not plan a 400-point r2c transform");
}

MelSpectrogram::~MelSpectrogram() = default;

void MelSpectrogram::run_frames(const float* signal, int64_t n_signal, int64_t length, int64_t frame_begin,
                                int64_t frame_end, float* out, int64_t out_stride, Scratch& s) const {
  const float* w = window_.data();
  int nb = 0;

  auto write_constant = [&](int64_t t, float value) {
    for (int m = 0; m < n_mels_; ++m) out[m * out_stride + t] = value;
  };

  auto flush = [&]() {
    fftwf_execute_dft_r2c(plan_->plan, s.frames.data(), reinterpret_cast<fftwf_complex*>(s.spectrum.data()));
    // |X|^2, transposed to [bin][frame] so that the mel loop runs across frames. Stale frames
    // beyond nb hold finite values from earlier batches and are never written out.
    const float* spec = s.spectrum.data();
    float* power = s.power.data();
    for (int b = 0; b < kBatch; ++b) {
      const float* x = spec + static_cast<std::size_t>(b) * kOutDist * 2;
      for (int k = 0; k < kMelNBins; ++k) {
        const float p = x[2 * k] * x[2 * k] + x[2 * k + 1] * x[2 * k + 1];
        power[k * kBatch + b] = p <= FLT_MAX ? p : FLT_MAX;  // inf and NaN saturate
      }
    }
    float* acc = s.acc.data();
    const bool contiguous = s.frame_index[nb - 1] - s.frame_index[0] == nb - 1;
    for (int m = 0; m < n_mels_; ++m) {
      const float* f = filters_.data() + static_cast<std::size_t>(m) * kMelNBins;
      for (int b = 0; b < kBatch; ++b) acc[b] = 0.0f;
      for (int k = filter_lo_[m]; k < filter_hi_[m]; ++k) {
        const float fk = f[k];
        const float* pk = power + k * kBatch;
        for (int b = 0; b < kBatch; ++b) acc[b] += fk * pk[b];
      }
      for (int b = 0; b < kBatch; ++b) {
        float v = acc[b] <= FLT_MAX ? acc[b] : FLT_MAX;
        v = v > kLogFloor ? v : kLogFloor;
        acc[b] = log10_positive(v);
      }
      float* row = out + m * out_stride;
      if (contiguous) {
        std::memcpy(row + s.frame_index[0], acc, sizeof(float) * nb);
      } else {
        for (int b = 0; b < nb; ++b) row[s.frame_index[b]] = acc[b];
      }
    }
    nb = 0;
  };

  // The source samples of a frame are [p0, p0 + 400) reflected at the ends of [0, length);
  // samples at or beyond n_signal are zeros.
  for (int64_t t = frame_begin; t < frame_end; ++t) {
    const int64_t p0 = t * kMelHop - kMelNFft / 2;
    const int64_t p1 = p0 + kMelNFft - 1;
    const int64_t min_source = p0 < 0 ? 0 : (p1 < length ? p0 : std::min(p0, 2 * (length - 1) - p1));
    if (min_source >= n_signal) {
      write_constant(t, kZeroFrameLog);
      continue;
    }
    float* frame = s.frames.data() + static_cast<std::size_t>(nb) * kMelNFft;
    if (p0 >= 0 && p1 < n_signal) {
      const float* x = signal + p0;
      for (int j = 0; j < kMelNFft; ++j) frame[j] = x[j] * w[j];
    } else {
      for (int j = 0; j < kMelNFft; ++j) {
        const int64_t i = reflect(p0 + j, length);
        frame[j] = (i < n_signal ? signal[i] : 0.0f) * w[j];
      }
    }
    uint32_t any = 0;
    for (int j = 0; j < kMelNFft; ++j) any |= float_bits(frame[j]) & 0x7FFFFFFFu;
    if (any == 0) {  // digital silence: exactly what the FFT path would give
      write_constant(t, kZeroFrameLog);
      continue;
    }
    s.frame_index[nb++] = t;
    if (nb == kBatch) flush();
  }
  if (nb > 0) flush();
}

int64_t MelSpectrogram::compute_raw(const float* samples, int64_t n, int64_t n_zeros, float* out,
                                    int64_t out_stride) {
  if (n < 0 || n_zeros < 0 || (n > 0 && !samples))
    throw Error(ErrorKind::InvalidArgument, "mel: bad sample span");
  const int64_t length = n + n_zeros;
  const int64_t n_frames = mel_frames(length);
  if (out_stride < n_frames)
    throw Error(ErrorKind::InvalidArgument, "mel: output stride " + std::to_string(out_stride) + " < " +
                                                std::to_string(n_frames) + " frames");
  const int64_t nonfinite = count_nonfinite(samples, n);
  if (n_frames == 0) return nonfinite;

  const float* signal = samples;
  if (nonfinite > 0) {
    if (clean_.size() < static_cast<std::size_t>(n)) clean_.resize(n);
    for (int64_t i = 0; i < n; ++i)
      clean_[i] = (float_bits(samples[i]) & 0x7F800000u) == 0x7F800000u ? 0.0f : samples[i];
    signal = clean_.data();
  }
  // torch's reflect pad needs length > 200; shorter signals are treated as zero-extended to 201.
  const int64_t reflect_length = std::max<int64_t>(length, kMelNFft / 2 + 1);

  if (!pool_ || pool_->size() <= 1 || n_frames < 2 * kBatch) {
    run_frames(signal, n, reflect_length, 0, n_frames, out, out_stride, *scratch_[0]);
  } else {
    pool_->parallel_for(n_frames, [&](int64_t begin, int64_t end, int thread) {
      run_frames(signal, n, reflect_length, begin, end, out, out_stride, *scratch_[thread]);
    });
  }
  return nonfinite;
}

int64_t MelSpectrogram::compute_file_mel(const float* samples, int64_t n, float* out) {
  const int64_t n_frames = file_mel_frames(n);
  const int64_t nonfinite = compute_raw(samples, n, kMelWindowSamples, out, n_frames);
  const std::size_t total = static_cast<std::size_t>(n_mels_) * n_frames;
  mel_clamp_scale(out, total, mel_max(out, total));
  return nonfinite;
}

int64_t MelSpectrogram::compute_file_mel(const float* samples, int64_t n, std::vector<float>& out) {
  if (n < 0) throw Error(ErrorKind::InvalidArgument, "mel: negative sample count");
  out.resize(static_cast<std::size_t>(n_mels_) * file_mel_frames(n));
  return compute_file_mel(samples, n, out.data());
}

int64_t MelSpectrogram::compute_window_mel(const float* samples, int64_t n, float* out) {
  if (n < 0 || n > kMelWindowSamples)
    throw Error(ErrorKind::InvalidArgument,
                "mel: a window holds at most 480000 samples (30 s), got " + std::to_string(n));
  const int64_t nonfinite = compute_raw(samples, n, kMelWindowSamples - n, out, kMelWindowFrames);
  const std::size_t total = static_cast<std::size_t>(n_mels_) * kMelWindowFrames;
  mel_clamp_scale(out, total, mel_max(out, total));
  return nonfinite;
}

}  // namespace npw
