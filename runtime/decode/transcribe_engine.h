// The transcription loop of one stream, independent of how windows are encoded and decoded: the
// whole-file seek loop of OpenAI's transcribe() and the one-window-at-a-time form the element uses,
// with language detection, the temperature fallback, the previous-text prompt and statistics. The
// Transcriber wraps it with a model and a backend; tests drive it with a fake WindowModel.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "audio/mel.h"
#include "decode/decode_window.h"
#include "decode/find_alignment.h"
#include "decode/options.h"
#include "decode/tokenizer.h"
#include "decode/transcriber.h"
#include "decode/window_buffers.h"
#include "decode/window_model.h"
#include "decode/window_step.h"

namespace npw {

class Model;
class ThreadPool;

class TranscribeEngine {
 public:
  // Validates `options` against the model (language present, suppressed ids in the vocabulary).
  // `pool` (may be null, not owned) parallelises the mel.
  TranscribeEngine(const Model& model, const Options& options, std::unique_ptr<WindowModel> window_model,
                   ThreadPool* pool);

  TranscribeResult transcribe(const float* samples, std::size_t n, const SegmentCallback& on_segment);
  WindowResult transcribe_window(const float* samples, std::size_t n, bool final);
  // Live hypotheses: samples[0, n) decoded as one window whose unfinished last segment is kept (one
  // encode, one decode), conditioned on `prompt` instead of the stream's previous text, which it
  // leaves as it was.
  // With hypothesis.word_timestamps the words are timed for this call only (when the model can).
  WindowResult transcribe_with_prompt(const float* samples, std::size_t n, const HypothesisOptions& hypothesis);
  WindowResult transcribe_with_prompt(const float* samples, std::size_t n, const std::string& prompt) {
    HypothesisOptions h;
    h.prompt = prompt;
    return transcribe_with_prompt(samples, n, h);
  }
  bool can_time_words() const { return wm_->alignment() != nullptr; }
  void reset();

  // The mel window and encoder output come from `provider` from now on (nullptr: the heap); see
  // WindowBuffers. release_buffers() gives them back until the next window.
  void set_buffer_provider(BufferProvider* provider) { buffers_.set_provider(provider); }
  void release_buffers() { buffers_.release(); }

  // A stop flag polled between every step of a window (mel, encoder layers, decoder layers and
  // steps, the temperature ladder); nullptr: none. When it is set the running call throws
  // npw::Error(Cancelled) and the window is abandoned: no segment, no change to the prompt.
  void set_cancel(const std::atomic<bool>* flag);
  const WindowBuffers& buffers() const { return buffers_; }

  const Stats& stats() const { return stats_; }
  const Options& options() const { return options_; }
  // Settings the model cannot honour, one sentence each (see Transcriber::warnings()).
  const std::vector<std::string>& warnings() const { return warnings_; }
  // The language every window uses: a code, or "auto" until detected.
  const std::string& fixed_language() const { return fixed_language_; }

 private:
  // Detects the language from one mel window (OpenAI's detect_language) and fixes it for the stream.
  void detect_language(const float* mel);
  void encode(const float* mel);
  WindowDecode decode_at(float temperature);
  // Where a window lies in the audio handed in (mel frames of 10 ms).
  struct WindowPlace {
    int64_t seek = 0;            // the window's first frame
    int64_t content_frames = 0;  // frames of all the audio
  };
  // One window: encode `mel` (holding segment_frames frames of audio), decode with fallback, and
  // apply the per-window rules (and the word timing, when on). Segment times are absolute.
  WindowStep run_window(const float* mel, int64_t segment_frames, const WindowPlace& place);
  // OpenAI's word-timestamp block for one window's segments (see WordStage in window_step.h).
  bool time_words(std::vector<Segment>& segments, bool single_timestamp_ending, int64_t segment_frames,
                  const WindowPlace& place, int64_t& seek_frames);
  std::vector<int> sot_sequence() const;

  const Model& model_;
  Options options_;
  std::unique_ptr<WindowModel> wm_;
  Tokenizer tokenizer_;
  std::unique_ptr<LogMelFrontEnd> mel_;  // the CPU FFT, or products on the accelerator (mel_on_device)
  std::string language_;       // fixed code, or "auto" until detected
  std::string fixed_language_;  // what the options asked for ("auto" or a code)
  std::vector<std::pair<std::string, float>> language_probs_;
  std::vector<int> suppress_;
  std::vector<int> blank_;
  std::vector<int> initial_prompt_tokens_;
  TimestampRules rules_;
  PromptState prompt_;
  Rng rng_;
  DecodeWorkspace decode_ws_;  // reused by every window's decoding
  Stats stats_;
  std::vector<AlignmentHead> heads_;     // resolved once, for the aligner made on first use
  ThreadPool* pool_ = nullptr;           // not owned: the mel's and the word aligner's threads
  std::unique_ptr<WordAligner> aligner_;  // made for word_timestamps or the first hypothesis asking
  bool call_words_ = false;               // this transcribe_with_prompt call times words
  bool keep_unfinished_ = false;          // ...and keeps the window's unfinished last segment
  std::uint64_t origin_ = 0;              // stream sample of samples[0] in transcribe_window
  double last_speech_timestamp_ = 0.0;   // seconds, in the time base of the current call
  std::vector<std::string> warnings_;
  const std::atomic<bool>* cancel_ = nullptr;
  WindowBuffers buffers_;  // the mel window (mel -> encoder) and the encoder output (encoder -> decoder)
};

}  // namespace npw
