// One live stream's transcript (after ufal/whisper_streaming's OnlineASRProcessor): the audio since
// the last trim point, re-recognised each step and committed word by word through LocalAgreement-2;
// the buffer trimmed at committed segment ends past a bound; committed text that left the buffer is
// the next prompt. Time is counted in samples from the start of the stream; words come out in
// seconds on that clock. No threads, no GStreamer: the element drives it from its worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "stream/local_agreement.h"
#include "stream/recognizer.h"

namespace npw {

struct LiveSettings {
  double trim_seconds = 15.0;             // clamped to [1, 30]
  std::size_t prompt_chars = 200;
  float prompt_reset_temperature = 0.5f;  // a hypothesis decoded hotter than this drops the prompt
  float loop_compression_ratio = 2.4f;    // ...and so does one this repetitive (a loop); <= 0: never
  // Words timed from the decoder's cross-attention, so that agreement matches them by their real
  // times; without (or on a backend that cannot), a segment's words share its span by length.
  bool word_timestamps = true;
  // Hypotheses decoded greedily at temperature 0 (HypothesisOptions::greedy); false: with the
  // stream's beam size and fallback ladder (a hot fallback then drops the prompt, see above).
  bool greedy = true;
  AgreementSettings agreement;
};

class LiveTranscript {
 public:
  static constexpr int kRate = 16000;
  static constexpr std::size_t kMaxBuffer = 30 * kRate;  // one Whisper window

  LiveTranscript(Recognizer& recognizer, LiveSettings settings);

  // Audio at the end of the stream.
  void append(const float* samples, std::size_t n);
  // Time passing without audio for the recogniser (the voice gate is closed). Commits nothing:
  // call finish() first when an utterance ends.
  void skip(std::size_t n);

  // Recognises the buffer and returns the words committed by it, in order. A buffer over 30 s
  // first commits what the last hypothesis said and drops what precedes it (a backlog that could not
  // wait: the caller says so).
  std::vector<Word> step();
  // End of an utterance (or of the stream): the tentative words become final and the buffer empties.
  std::vector<Word> finish();
  // Commits tentative words starting before `seconds` (deadline of the announced latency).
  std::vector<Word> commit_until(double seconds) { return agreement_.commit_until(seconds); }

  const std::vector<Word>& tentative() const { return agreement_.tentative(); }
  std::string prompt() const;

  std::uint64_t buffer_start() const { return start_; }  // sample of the stream at buffer[0]
  std::uint64_t end() const { return start_ + buffer_.size(); }
  std::size_t buffered() const { return buffer_.size(); }
  std::size_t overflows() const { return overflows_; }

  // Forgets everything (flush, discontinuity): the stream starts again at sample 0.
  void reset();

 private:
  void trim_to(std::uint64_t sample);
  void trim_after_commit(const std::vector<double>& segment_ends);
  void remember(const std::vector<Word>& words);

  Recognizer& recognizer_;
  LiveSettings s_;
  LocalAgreement agreement_;
  std::vector<float> buffer_;
  std::uint64_t start_ = 0;
  // Committed text for the prompt: words that ended before the buffer start are eligible; the
  // words before prompt_floor_ were dropped (fallback or loop).
  std::vector<Word> history_;
  double prompt_floor_ = -std::numeric_limits<double>::infinity();
  std::size_t overflows_ = 0;
};

}  // namespace npw
