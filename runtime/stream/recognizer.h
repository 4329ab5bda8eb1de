// What live transcription needs from a speech recogniser: one hypothesis of a buffer of at most 30 s,
// conditioned on a prompt of already committed text, with word times when asked. The Transcriber is
// the real one; policy tests script their own, and tests and the live benchmark run the Transcriber
// over a scripted stand-in for the networks (scripted_speech.h).
#pragma once

#include <cstddef>
#include <string>

#include "decode/transcriber.h"

namespace npw {

class Recognizer {
 public:
  virtual ~Recognizer() = default;
  // Segments of samples[0, n) (16 kHz mono), times relative to samples[0]; `h` carries the prompt,
  // whether words are wanted and where samples[0] lies in the stream. Does not remember the buffer:
  // the live transcript passes the whole context every time.
  virtual WindowResult recognize(const float* samples, std::size_t n, const HypothesisOptions& h) = 0;
};

class TranscriberRecognizer : public Recognizer {
 public:
  explicit TranscriberRecognizer(Transcriber& t) : t_(t) {}
  WindowResult recognize(const float* samples, std::size_t n, const HypothesisOptions& h) override {
    return t_.transcribe_with_prompt(samples, n, h);
  }

 private:
  Transcriber& t_;
};

}  // namespace npw
