// Whisper's log-mel front end, bit-for-bit in definition with OpenAI's
// whisper.audio.log_mel_spectrogram: 16 kHz, periodic Hann window of 400, hop 160,
// torch.stft(center=True) reflect padding of 200 at both ends, |X|^2 over 201 bins, last frame
// dropped (frames = n_samples / 160), mel filters from the model file, log10(max(x, 1e-10)),
// clamp to (max - 8), then (x + 4) / 4.
//
// The computation is split so that the two callers can clamp differently:
//  - Whole-file (OpenAI transcribe(), whisper.cpp, the golden data): all audio + 30 s of zeros is
//    one signal; the clamp max is taken over the whole spectrogram; 3000-frame windows are then
//    sliced from it (compute_file_mel + slice_window).
//  - Streaming (the element, compute_window_mel): each window's audio alone, padded with zeros to
//    30 s, clamped by its own max. This differs from the whole-file result in two ways: frames
//    within 200 samples of the window's ends see reflected/zero samples instead of the
//    neighbouring audio, and a window quieter than the loudest part of the file is clamped at a
//    lower floor (its own max - 8 instead of the file's). For audio of at most 479800 samples
//    (30 s minus 200) taken at offset 0 both modes give identical windows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "audio/batched_real_fft.h"

namespace npw {

class ThreadPool;

constexpr int kMelSampleRate = 16000;
constexpr int kMelNFft = 400;
constexpr int kMelHop = 160;
constexpr int kMelNBins = kMelNFft / 2 + 1;  // 201
constexpr int64_t kMelWindowSamples = 480000;  // 30 s
constexpr int64_t kMelWindowFrames = kMelWindowSamples / kMelHop;  // 3000

// Frames of a signal of n samples (torch.stft(center=True) gives n / hop + 1; Whisper drops one).
constexpr int64_t mel_frames(int64_t n_samples) { return n_samples / kMelHop; }
// Frames of the whole-file spectrogram: the audio plus 30 s of zeros.
constexpr int64_t file_mel_frames(int64_t n_samples) { return mel_frames(n_samples + kMelWindowSamples); }
// The whole-file spectrogram's frames that can see audio: every later frame's 400 samples lie in the
// 30 s of zeros (its first sample is at least 240 past the audio), so it is the silent frame's
// constant: the frames of the audio plus 600 zeros, 3 to 4 more than the audio's own. The pieces
// these are computed in (LogMelFrontEnd::scan_file_mel) end with at least as many zeros.
constexpr int64_t kFileMelHeadZeros = 600;
constexpr int64_t file_mel_head_frames(int64_t n_samples) { return mel_frames(n_samples + kFileMelHeadZeros); }
// Columns a piece's scratch needs beyond its frames (LogMelFrontEnd::scan_file_mel): the two frames
// before it and the few after it that its signal gives.
constexpr int64_t kMelPieceMargin = 16;

// torch's reflect padding of a signal of `length` samples: index -k maps to k, index (L - 1) + k
// maps to (L - 1) - k (for |k| < L).
inline int64_t mel_reflect(int64_t p, int64_t length) {
  if (p < 0) return -p;
  if (p >= length) return 2 * (length - 1) - p;
  return p;
}

// Largest value of a raw log-mel array (-inf when n == 0).
float mel_max(const float* mel, std::size_t n);
// Whisper's dynamic-range clamp and scale, in place: x = (max(x, max_value - 8) + 4) / 4.
void mel_clamp_scale(float* mel, std::size_t n, float max_value);

// pad_or_trim(mel[:, offset:offset + 3000], 3000): copies frames [offset, offset + 3000) of a
// clamped [n_mels][n_frames] spectrogram to out[n_mels][3000]; frames past n_frames are 0, the
// value OpenAI's pad_or_trim pads the (already scaled) mel with.
void slice_window(const float* mel, int n_mels, int64_t n_frames, int64_t offset_frames, float* out);

// What the transcription loop needs of a log-mel front end: the raw log10 mel power of a signal;
// the whole-file and window forms (with Whisper's clamp) are built on it here, so that every front
// end (the CPU FFT below, the two-product form an accelerator runs: nn/mel_products.h) clamps alike.
class LogMelFrontEnd {
 public:
  explicit LogMelFrontEnd(int n_mels) : n_mels_(n_mels) {}
  virtual ~LogMelFrontEnd() = default;
  LogMelFrontEnd(const LogMelFrontEnd&) = delete;
  LogMelFrontEnd& operator=(const LogMelFrontEnd&) = delete;

  int n_mels() const { return n_mels_; }
  // Frames of a whole-file spectrogram computed at a time (scan_file_mel, file_mel_window): the CPU
  // FFT's 256 keep the scratch small; a front end whose every call is a device launch takes more.
  virtual int64_t piece_frames() const { return 256; }
  // The scratch those take: n_mels x piece_stride() floats.
  int64_t piece_stride() const { return piece_frames() + kMelPieceMargin; }

  // Raw log10 mel power (before the clamp) of the signal samples[0, n) followed by n_zeros zero
  // samples, as one signal of length L = n + n_zeros: out[n_mels][out_stride], frames
  // [0, mel_frames(L)) written to columns [0, mel_frames(L)) of each row (out_stride >=
  // mel_frames(L)). Non-finite samples count as 0; returns how many there were so that callers can
  // warn. torch's reflect padding needs L > 200; for a shorter L the signal is first extended with
  // zeros to 201 samples (a raw-API case only: file and window mels are always >= 30 s long).
  // Powers that overflow float32 (samples beyond ~1e17) saturate at FLT_MAX, so the output is
  // always finite, where torch would give inf or NaN.
  // Not reentrant: one call at a time per object (scratch buffers are reused).
  virtual int64_t compute_raw(const float* samples, int64_t n, int64_t n_zeros, float* out, int64_t out_stride) = 0;

  // The whole-file spectrogram of OpenAI's transcribe(): audio + 30 s of zeros, clamped by the
  // global max. out: [n_mels][file_mel_frames(n)]. Returns the non-finite sample count.
  int64_t compute_file_mel(const float* samples, int64_t n, float* out);
  // Convenience for tools: the same into a vector, resized as needed.
  int64_t compute_file_mel(const float* samples, int64_t n, std::vector<float>& out);
  // A whole-file spectrogram's parts without the whole of it (a file transcription holds one window
  // at a time: an hour of audio is 115 MiB of spectrogram at 80 mels). The clamp needs the global
  // max: scan_file_mel computes every frame that can see audio once, a piece of piece_frames() at a
  // time, and keeps the max and the zero tail's raw value; file_mel_window then computes the frames
  // of one window again, from the samples those frames see, clamped by that max. Every value is
  // compute_file_mel's bit for bit (a frame is a function of its 400 samples; the pieces start two
  // frames early so that no frame kept sees a piece's reflected start). scratch: n_mels x
  // piece_stride() floats.
  struct FileMelScan {
    float max_value = 0.0f;  // the clamp's max over the whole spectrogram, raw
    float tail_raw = 0.0f;   // the raw value of every frame from file_mel_head_frames(n) on
  };
  FileMelScan scan_file_mel(const float* samples, int64_t n, float* scratch);
  // out[n_mels][3000]: frames [f0, f0 + count) of the clamped whole-file spectrogram (count <= 3000;
  // frames from file_mel_head_frames(n) on hold the tail's clamped value), then `pad` to 3000.
  void file_mel_window(const float* samples, int64_t n, const FileMelScan& scan, int64_t f0, int64_t count, float pad,
                       float* scratch, float* out);
  // The streaming window: samples[0, n), n <= 480000, zero-padded to 30 s, clamped by this
  // window's own max. out: [n_mels][3000]. Returns the non-finite sample count. Throws
  // npw::Error(InvalidArgument) when n > 480000.
  int64_t compute_window_mel(const float* samples, int64_t n, float* out);

 protected:
  int n_mels_;

 private:
  // Raw frames [f0, f1) of the whole-file spectrogram (f1 <= file_mel_head_frames(n)), a piece at a
  // time: fn(piece, first_frame, count) with piece[m * piece_stride() + k] frame first_frame + k.
  template <typename Fn>
  void for_each_piece(const float* samples, int64_t n, int64_t f0, int64_t f1, float* scratch, Fn&& fn);
  // scan_file_mel, copying the raw frames it computes into out[n_mels][out_stride] where out is not null.
  FileMelScan scan_pieces(const float* samples, int64_t n, float* scratch, float* out, int64_t out_stride);
};

// The CPU front end: FFTW's 400-point transforms, the filter bank over each filter's non-zero bins.
class MelSpectrogram : public LogMelFrontEnd {
 public:
  // filters: [n_mels][201] float32, as stored in the GGML model file; each filter's non-zero span is
  // copied. pool (optional, not owned, must outlive this object) parallelises frames; nullptr runs on
  // the calling thread.
  MelSpectrogram(const float* filters, int n_mels, ThreadPool* pool = nullptr);
  ~MelSpectrogram() override;

  int64_t compute_raw(const float* samples, int64_t n, int64_t n_zeros, float* out, int64_t out_stride) override;

 private:
  struct Scratch;

  void run_frames(const float* signal, int64_t n_signal, int64_t length, int64_t frame_begin,
                  int64_t frame_end, float* out, int64_t out_stride, Scratch& scratch) const;

  ThreadPool* pool_;
  std::vector<float> filters_;    // each filter's bins [lo, hi), one filter after another
  std::vector<std::size_t> filter_at_;  // where filter m's bin lo is in filters_
  std::vector<int> filter_lo_;    // first non-zero bin per filter
  std::vector<int> filter_hi_;    // one past the last non-zero bin
  std::vector<float> window_;     // periodic Hann, 400
  BatchedRealFft fft_;            // 400 points, 16 frames a call
  std::vector<std::unique_ptr<Scratch>> scratch_;  // one per pool thread
  std::vector<float> clean_;      // sanitised copy of the input, only when it has NaN/Inf
};

}  // namespace npw
