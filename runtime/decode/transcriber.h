// One stream's transcription engine: owns the per-stream state (backend, pooled mel/encoder
// buffers, KV caches, previous-text prompt, statistics) over a shared immutable Model. Two entry
// points: transcribe() for a whole file exactly as OpenAI's transcribe() (mel clamp over the whole
// file, seek by the last timestamp), and transcribe_window() for streaming callers (the element)
// that hand it one window of at most 30 s at a time (mel clamp per window). Not thread-safe: one
// owner thread at a time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "decode/options.h"
#include "decode/word.h"

namespace npw {

class Model;
class Backend;
class BufferProvider;

struct Segment {
  double start = 0.0;  // seconds from the start of the audio given (transcribe) or of the window
  double end = 0.0;
  std::string text;    // valid UTF-8
  std::vector<int> tokens;             // text and timestamp tokens of the segment
  std::vector<float> token_probs;      // probability of each token when it was chosen
  float avg_logprob = 0.0f;
  float compression_ratio = 0.0f;
  float no_speech_prob = 0.0f;
  float temperature = 0.0f;
  std::vector<Word> words;             // with word timestamps on; same time base as start/end
};

struct Stats {
  double audio_seconds = 0.0;
  double mel_seconds = 0.0;      // wall time per stage
  double encoder_seconds = 0.0;
  double decoder_seconds = 0.0;
  double word_timing_seconds = 0.0;  // the word-alignment pass and DTW (word_timestamps)
  int windows = 0;
  int tokens = 0;
  std::string backend;           // kind of the backend in use
  bool has_device = false;       // an accelerator backend: `device` holds its books
  AcceleratorBooks device;       // what this stream did on the device (counts since creation)
};

struct TranscribeResult {
  std::vector<Segment> segments;
  std::string language;          // code used or detected
  std::vector<std::pair<std::string, float>> language_probs;  // when detected, best first
};

struct WindowResult {
  std::vector<Segment> segments;  // times relative to the window start
  std::size_t consumed_samples = 0;  // audio the caller may drop (seek); the rest starts the next window
  std::string language;
  bool skipped_no_speech = false;
  int dropped_past_end = 0;  // segments the model timed at or after the end of the window's audio
};

using SegmentCallback = std::function<void(const Segment&)>;

class WindowModel;
// Puts another WindowModel in front of a stream's networks and returns what the transcription loop
// will use: a scripted stand-in that still runs them (stream/scripted_speech.h), for tests and the
// live benchmark. Empty: the networks themselves.
using WindowModelWrap = std::function<std::unique_ptr<WindowModel>(std::unique_ptr<WindowModel> networks)>;
// The wrap of every Transcriber made without one from now on (empty: none). For tests of callers
// that build their Transcriber themselves (the element); not for production use.
void set_default_window_model_wrap(WindowModelWrap wrap);

// What one live hypothesis asks for beyond the stream's options (transcribe_with_prompt): live
// captions want word times on every step, file mode pays for them only with word_timestamps on.
struct HypothesisOptions {
  std::string prompt;            // committed text: the previous text of this call only
  bool word_timestamps = false;  // time words from cross-attention for this call (when the backend can)
  // Greedy at temperature 0 for this call, whatever the stream's beam size and fallback ladder: live
  // agreement needs consecutive hypotheses that can agree (sampled ones rarely do) and a step whose
  // cost does not multiply when a rung fails; the next step takes another look anyway.
  bool greedy = false;
  std::uint64_t stream_sample = 0;  // where samples[0] lies in the caller's stream (WindowModel::place)
};

class Transcriber {
 public:
  // Creates the backend named in options.backend. Throws npw::Error on invalid options or backend.
  Transcriber(std::shared_ptr<const Model> model, const Options& options);
  // With the networks behind `wrap` (see WindowModelWrap).
  Transcriber(std::shared_ptr<const Model> model, const Options& options, const WindowModelWrap& wrap);
  ~Transcriber();
  Transcriber(const Transcriber&) = delete;
  Transcriber& operator=(const Transcriber&) = delete;

  // Whole audio (16 kHz mono f32), as OpenAI's transcribe(). on_segment is called as segments appear.
  TranscribeResult transcribe(const float* samples, std::size_t n, const SegmentCallback& on_segment = {});

  // One window (n <= 480000 samples). With final=false a window's trailing partial segment is left
  // unconsumed so the caller can prepend it to the next window; final=true consumes everything.
  WindowResult transcribe_window(const float* samples, std::size_t n, bool final);

  // Live captions: one hypothesis of samples[0, n) (n <= 480000) in one encode and one decode, the
  // window's unfinished last segment included, with the prompt (committed text) as the previous
  // text; the stream's own previous-text prompt is kept.
  WindowResult transcribe_with_prompt(const float* samples, std::size_t n, const HypothesisOptions& hypothesis);
  WindowResult transcribe_with_prompt(const float* samples, std::size_t n, const std::string& prompt) {
    HypothesisOptions h;
    h.prompt = prompt;
    return transcribe_with_prompt(samples, n, h);
  }
  // Whether this stream's backend can time words (HypothesisOptions::word_timestamps is otherwise
  // ignored and segments come without words).
  bool can_time_words() const;

  // Forgets the previous-text prompt, detected language and decoding state (a flush or discontinuity).
  void reset();

  // Pooled buffers: the mel window and the encoder output come from `provider` (not owned; nullptr:
  // the heap, the default) from now on. Each is acquired when a window first needs it and then held
  // and reused window after window; release_buffers() gives them back (the next window acquires
  // again). The provider must outlive what it gave us: call release_buffers() or
  // set_buffer_provider(nullptr) before destroying it. buffer_sizes() says what will be asked for, in
  // bytes, in order: {mel window, encoder output}.
  void set_buffer_provider(BufferProvider* provider);
  void release_buffers();
  std::vector<std::size_t> buffer_sizes() const;

  // A stop flag another thread may set to abandon the window in flight (util/cancel.h): polled
  // between the mel, every encoder layer and product, every decoder layer and step and every rung
  // of the temperature ladder, and handed to the backend. transcribe()/transcribe_window() then
  // throw npw::Error(ErrorKind::Cancelled) and nothing of the window is kept; clear the flag (and
  // reset() for a new timeline) to carry on. nullptr (the default): never cancelled. The flag must
  // outlive the Transcriber or be unset first.
  void set_cancel(const std::atomic<bool>* flag);

  const Stats& stats() const;
  const Options& options() const;
  const Model& model() const;
  std::string backend_note() const;  // why "auto" chose what it chose ("" if nothing to say)
  // Whether the note reports an accelerator that is present but unusable (say it as a warning)
  // rather than absent (say it as information).
  bool backend_note_is_warning() const;
  // Options the model cannot honour (a language other than English or translate on an English-only
  // model), one sentence each, for the caller to show; the model's own are Model::warnings().
  const std::vector<std::string>& warnings() const;
  // The language the options resolve to for this model: a code, or "auto" (detected per stream).
  const std::string& language() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace npw
