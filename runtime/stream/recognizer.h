// What live transcription needs from a speech recogniser: one hypothesis of a buffer of at most 30 s,
// conditioned on a prompt of already committed text. The Transcriber is the real one
// (transcriber_recognizer.h); tests and the live benchmark script their own.
#pragma once

#include <cstddef>
#include <string>

#include "decode/transcriber.h"

namespace npw {

class Recognizer {
 public:
  virtual ~Recognizer() = default;
  // Segments of samples[0, n) (16 kHz mono), times relative to samples[0]. Does not remember the
  // buffer: the live transcript passes the whole context every time.
  virtual WindowResult recognize(const float* samples, std::size_t n, const std::string& prompt) = 0;
};

class TranscriberRecognizer : public Recognizer {
 public:
  explicit TranscriberRecognizer(Transcriber& t) : t_(t) {}
  WindowResult recognize(const float* samples, std::size_t n, const std::string& prompt) override {
    return t_.transcribe_with_prompt(samples, n, prompt);
  }

 private:
  Transcriber& t_;
};

}  // namespace npw
