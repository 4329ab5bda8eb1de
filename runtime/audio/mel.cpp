// The log-mel computation behind mel.h. Speed comes from: one FFT of 16 frames at once, each
// frame a lane (batched_real_fft.h), whose |X|^2 comes out [bin][frame], the layout in which the
// mel product and log10 run four frames per vector instruction; frames that only see zeros (the
// 30 s tail Whisper appends, digital silence) skip the FFT, since their exact result is
// log10(1e-10) = -10; and the mel product walks only each filter's non-zero bins.
#include "audio/mel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "audio/mel_simd.h"
#include "util/aligned_buffer.h"
#include "util/error.h"
#include "util/flush_denormals.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

constexpr int kBatch = BatchedRealFft::kLanes;  // frames per FFT: 16, a multiple of the vector width
constexpr int kVecs = kBatch / 4;
constexpr double kPi = 3.14159265358979323846;
constexpr float kLogFloor = 1e-10f;
constexpr float kZeroFrameLog = -10.0f;  // log10(1e-10f) rounded to float, as torch gives it

using simd::f32x4;
using simd::i32x4;

bool is_finite(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return (b & 0x7F800000u) != 0x7F800000u;
}

int64_t count_nonfinite(const float* x, int64_t n) {
  const i32x4 exponent = simd::splat_i(0x7F800000);
  int64_t count = 0;
  int64_t i = 0;
  while (n - i >= 4) {
    // Lanes count down by one per hit; flushed before an int32 lane could overflow.
    const int64_t block_end = i + std::min<int64_t>((n - i) & ~int64_t{3}, int64_t{1} << 30);
    i32x4 lanes = simd::splat_i(0);
    for (; i < block_end; i += 4) lanes += (simd::as_int(simd::load(x + i)) & exponent) == exponent;
    count -= static_cast<int64_t>(lanes[0]) + lanes[1] + lanes[2] + lanes[3];
  }
  for (; i < n; ++i) count += !is_finite(x[i]);
  return count;
}

}  // namespace

struct MelSpectrogram::Scratch {
  explicit Scratch(const BatchedRealFft& fft) : work(fft.work_floats()) {}
  AlignedBuffer<float> frames{static_cast<std::size_t>(kBatch) * kMelNFft};  // windowed, [frame][400]
  AlignedBuffer<float> work;                                                 // the FFT's
  AlignedBuffer<float> power{static_cast<std::size_t>(kMelNBins) * kBatch};  // |X|^2, [bin][frame]
  int64_t frame_index[kBatch] = {};
};

float mel_max(const float* mel, std::size_t n) {
  f32x4 lanes = simd::splat(-INFINITY);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) lanes = simd::max(simd::load(mel + i), lanes);
  float m = std::max(std::max(lanes[0], lanes[1]), std::max(lanes[2], lanes[3]));
  for (; i < n; ++i) m = mel[i] > m ? mel[i] : m;
  return m;
}

void mel_clamp_scale(float* mel, std::size_t n, float max_value) {
  // (v + 4) / 4 == (v + 4) * 0.25 exactly: scaling by a power of two.
  const float floor = max_value - 8.0f;
  const f32x4 floor4 = simd::splat(floor);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)
    simd::store(mel + i, (simd::max(simd::load(mel + i), floor4) + simd::splat(4.0f)) * simd::splat(0.25f));
  for (; i < n; ++i) mel[i] = ((mel[i] > floor ? mel[i] : floor) + 4.0f) * 0.25f;
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
    : LogMelFrontEnd(n_mels), pool_(pool), fft_(kMelNFft) {
  if (!filters || n_mels <= 0)
    throw Error(ErrorKind::InvalidArgument, "mel: need a filter bank with at least one filter");
  filter_lo_.resize(n_mels);
  filter_hi_.resize(n_mels);
  filter_at_.resize(n_mels);
  for (int m = 0; m < n_mels; ++m) {
    const float* f = filters + static_cast<std::size_t>(m) * kMelNBins;
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
    // Only the span between the first and last non-zero bin is kept (a few bins of 201 each).
    filter_at_[m] = filters_.size();
    filters_.insert(filters_.end(), f + filter_lo_[m], f + filter_hi_[m]);
  }
  window_.resize(kMelNFft);
  for (int i = 0; i < kMelNFft; ++i)
    window_[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * kPi * i / kMelNFft));

  const int n_threads = pool_ ? std::max(pool_->size(), 1) : 1;
  for (int i = 0; i < n_threads; ++i) scratch_.push_back(std::make_unique<Scratch>(fft_));
}

MelSpectrogram::~MelSpectrogram() = default;

void MelSpectrogram::run_frames(const float* signal, int64_t n_signal, int64_t length, int64_t frame_begin,
                                int64_t frame_end, float* out, int64_t out_stride, Scratch& s) const {
  const float* w = window_.data();
  int nb = 0;

  // Frames known to be all zeros are written in runs, row by row, instead of column by column.
  int64_t zero_run = -1;
  auto end_zero_run = [&](int64_t t) {
    if (zero_run < 0) return;
    for (int m = 0; m < n_mels_; ++m) std::fill(out + m * out_stride + zero_run, out + m * out_stride + t, kZeroFrameLog);
    zero_run = -1;
  };

  auto flush = [&]() {
    // Frames beyond nb hold finite values from earlier batches and are never written out.
    fft_.power(s.frames.data(), kMelNFft, s.work.data(), s.power.data());
    float* power = s.power.data();
    // +inf (samples near FLT_MAX) becomes FLT_MAX once here, not in every filter that reads the bin.
    for (int i = 0; i < kMelNBins * kBatch; i += 4) simd::store(power + i, simd::saturate(simd::load(power + i)));
    const bool contiguous = s.frame_index[nb - 1] - s.frame_index[0] == nb - 1;
    for (int m = 0; m < n_mels_; ++m) {
      const float* f = filters_.data() + filter_at_[m] - filter_lo_[m];  // indexed by bin
      f32x4 acc[kVecs];
      for (f32x4& a : acc) a = simd::splat(0.0f);
      for (int k = filter_lo_[m]; k < filter_hi_[m]; ++k) {
        const f32x4 fk = simd::splat(f[k]);
        const float* pk = power + k * kBatch;
        for (int v = 0; v < kVecs; ++v) acc[v] += fk * simd::load(pk + 4 * v);
      }
      float values[kBatch];
      for (int v = 0; v < kVecs; ++v) {
        const f32x4 x = simd::max(simd::saturate(acc[v]), simd::splat(kLogFloor));
        simd::store(values + 4 * v, simd::log10_positive(x));
      }
      float* row = out + m * out_stride;
      if (contiguous) {
        std::memcpy(row + s.frame_index[0], values, sizeof(float) * nb);
      } else {
        for (int b = 0; b < nb; ++b) row[s.frame_index[b]] = values[b];
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
      if (zero_run < 0) zero_run = t;
      continue;
    }
    float* frame = s.frames.data() + static_cast<std::size_t>(nb) * kMelNFft;
    i32x4 any = simd::splat_i(0);
    if (p0 >= 0 && p1 < n_signal) {
      const float* x = signal + p0;
      for (int j = 0; j < kMelNFft; j += 4) {
        const f32x4 v = simd::load(x + j) * simd::load(w + j);
        simd::store(frame + j, v);
        any |= simd::as_int(v);
      }
    } else {
      for (int j = 0; j < kMelNFft; ++j) {
        const int64_t i = mel_reflect(p0 + j, length);
        frame[j] = (i < n_signal ? signal[i] : 0.0f) * w[j];
      }
      for (int j = 0; j < kMelNFft; j += 4) any |= simd::as_int(simd::load(frame + j));
    }
    any &= simd::splat_i(0x7FFFFFFF);  // -0.0 is silence too
    if ((any[0] | any[1] | any[2] | any[3]) == 0) {  // digital silence: what the FFT path would give
      if (zero_run < 0) zero_run = t;
      continue;
    }
    end_zero_run(t);
    s.frame_index[nb++] = t;
    if (nb == kBatch) flush();
  }
  end_zero_run(frame_end);
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
    for (int64_t i = 0; i < n; ++i) clean_[i] = is_finite(samples[i]) ? samples[i] : 0.0f;
    signal = clean_.data();
  }
  // torch's reflect pad needs length > 200; shorter signals are treated as zero-extended to 201.
  const int64_t reflect_length = std::max<int64_t>(length, kMelNFft / 2 + 1);

  if (!pool_ || pool_->size() <= 1 || n_frames < 2 * kBatch) {
    // Subnormal samples flushed (util/flush_denormals.h), as the pool's chunks below already are.
    const ScopedFlushDenormals flush_denormals;
    run_frames(signal, n, reflect_length, 0, n_frames, out, out_stride, *scratch_[0]);
  } else {
    pool_->parallel_for(n_frames, [&](int64_t begin, int64_t end, int thread) {
      run_frames(signal, n, reflect_length, begin, end, out, out_stride, *scratch_[thread]);
    });
  }
  return nonfinite;
}

namespace {

// The tail frames' value after the clamp, as mel_clamp_scale gives it.
float clamped(float raw, float max_value) {
  mel_clamp_scale(&raw, 1, max_value);
  return raw;
}

}  // namespace

int64_t LogMelFrontEnd::compute_file_mel(const float* samples, int64_t n, float* out) {
  if (n < 0) throw Error(ErrorKind::InvalidArgument, "mel: negative sample count");
  const int64_t n_frames = file_mel_frames(n), head = file_mel_head_frames(n);
  // The frames that can see audio, raw, as a file transcription's scan computes them (the scan's
  // pieces copied into place), then clamped, and the 30 s of zeros' frames filled.
  std::vector<float> scratch(static_cast<std::size_t>(n_mels_) * piece_stride());
  const FileMelScan scan = scan_pieces(samples, n, scratch.data(), out, n_frames);
  const float tail = clamped(scan.tail_raw, scan.max_value);
  for (int r = 0; r < n_mels_; ++r) {
    float* row = out + static_cast<std::size_t>(r) * n_frames;
    mel_clamp_scale(row, static_cast<std::size_t>(head), scan.max_value);
    std::fill(row + head, row + n_frames, tail);
  }
  return count_nonfinite(samples, n);
}

template <typename Fn>
void LogMelFrontEnd::for_each_piece(const float* samples, int64_t n, int64_t f0, int64_t f1, float* scratch, Fn&& fn) {
  const int64_t piece = piece_frames(), stride = piece_stride();
  for (int64_t a = f0; a < f1; a += piece) {
    const int64_t b = std::min(f1, a + piece);
    // The piece's signal starts two frames early (their windows reach 320 samples before frame a's
    // centre, further than its 200: no frame kept sees the piece's reflected start), or at the
    // file's start, whose reflection is the file's own. It ends 200 samples past frame b - 1's
    // window, or with the audio, followed then by zeros past every window kept (the file's 30 s
    // of zeros, whose end no frame of the head reaches).
    const int64_t s0 = a >= 2 ? (a - 2) * kMelHop : 0;
    const int64_t s1 = std::min(n, b * kMelHop + 200);
    const int64_t n_sub = std::max<int64_t>(0, s1 - s0);
    const int64_t zeros = s1 < n ? 0 : std::max<int64_t>(kFileMelHeadZeros, b * kMelHop + 400 - s0 - n_sub);
    const int64_t k0 = a - s0 / kMelHop;
    const int64_t frames = mel_frames(n_sub + zeros);
    if (frames < k0 + (b - a) || frames > stride)
      throw Error(ErrorKind::Internal, "mel: a piece of " + std::to_string(frames) + " frames for frames " +
                                           std::to_string(a) + ".." + std::to_string(b));
    compute_raw(n_sub > 0 ? samples + s0 : nullptr, n_sub, zeros, scratch, stride);
    fn(static_cast<const float*>(scratch) + k0, a, b - a);
  }
}

LogMelFrontEnd::FileMelScan LogMelFrontEnd::scan_file_mel(const float* samples, int64_t n, float* scratch) {
  return scan_pieces(samples, n, scratch, nullptr, 0);
}

LogMelFrontEnd::FileMelScan LogMelFrontEnd::scan_pieces(const float* samples, int64_t n, float* scratch, float* out,
                                                        int64_t out_stride) {
  if (n < 0) throw Error(ErrorKind::InvalidArgument, "mel: negative sample count");
  const int64_t head = file_mel_head_frames(n);
  FileMelScan scan;
  scan.max_value = -INFINITY;
  for_each_piece(samples, n, 0, head, scratch, [&](const float* piece, int64_t first, int64_t count) {
    for (int m = 0; m < n_mels_; ++m) {
      const float* row = piece + m * piece_stride();
      scan.max_value = std::max(scan.max_value, mel_max(row, static_cast<std::size_t>(count)));
      if (out) std::memcpy(out + m * out_stride + first, row, sizeof(float) * count);
    }
    // The head's last frame already sees only zeros (its first sample is 81 or more past the audio,
    // its reflected end zeros too): its raw value is what this front end gives every tail frame.
    if (first + count == head) scan.tail_raw = piece[count - 1];
  });
  return scan;
}

void LogMelFrontEnd::file_mel_window(const float* samples, int64_t n, const FileMelScan& scan, int64_t f0,
                                     int64_t count, float pad, float* scratch, float* out) {
  if (n < 0 || f0 < 0 || count < 0 || count > kMelWindowFrames)
    throw Error(ErrorKind::InvalidArgument, "mel: bad window of a file spectrogram");
  const int64_t head = file_mel_head_frames(n);
  const int64_t computed = std::min(count, std::max<int64_t>(0, head - f0));
  for_each_piece(samples, n, f0, f0 + computed, scratch, [&](const float* piece, int64_t first, int64_t k) {
    for (int m = 0; m < n_mels_; ++m) {
      std::memcpy(out + m * kMelWindowFrames + (first - f0), piece + m * piece_stride(), sizeof(float) * k);
    }
  });
  const float tail = clamped(scan.tail_raw, scan.max_value);
  for (int m = 0; m < n_mels_; ++m) {
    float* row = out + m * kMelWindowFrames;
    mel_clamp_scale(row, static_cast<std::size_t>(computed), scan.max_value);
    std::fill(row + computed, row + count, tail);
    std::fill(row + count, row + kMelWindowFrames, pad);
  }
}

int64_t LogMelFrontEnd::compute_file_mel(const float* samples, int64_t n, std::vector<float>& out) {
  if (n < 0) throw Error(ErrorKind::InvalidArgument, "mel: negative sample count");
  out.resize(static_cast<std::size_t>(n_mels_) * file_mel_frames(n));
  return compute_file_mel(samples, n, out.data());
}

int64_t LogMelFrontEnd::compute_window_mel(const float* samples, int64_t n, float* out) {
  if (n < 0 || n > kMelWindowSamples)
    throw Error(ErrorKind::InvalidArgument,
                "mel: a window holds at most 480000 samples (30 s), got " + std::to_string(n));
  const int64_t nonfinite = compute_raw(samples, n, kMelWindowSamples - n, out, kMelWindowFrames);
  const std::size_t total = static_cast<std::size_t>(n_mels_) * kMelWindowFrames;
  mel_clamp_scale(out, total, mel_max(out, total));
  return nonfinite;
}

}  // namespace npw
