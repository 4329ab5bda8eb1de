// A test recogniser that "hears" a known script: each sample's value is its index in the stream, so
// the recogniser knows where the buffer it is given starts; it returns the script's words that end
// inside the buffer, except the last 0.5-1.0 s, which it gets wrong differently at every call (as a
// real model does with a word cut by the buffer end). Sentences ('.' at the end) are segments.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "stream/recognizer.h"

namespace npw::testing {

struct ScriptWord {
  std::string text;
  double start, end;
};

inline std::vector<ScriptWord> make_script(int n_words, double first = 0.5, double len = 0.35, double gap = 0.15,
                                           int sentence = 7) {
  std::vector<ScriptWord> s;
  double t = first;
  for (int i = 0; i < n_words; ++i) {
    std::string w = " w" + std::to_string(i);
    if ((i + 1) % sentence == 0) w += ".";
    s.push_back({w, t, t + len});
    t += len + gap;
  }
  return s;
}

// samples[i] = i (stream sample index) for the range [from, from + n).
inline std::vector<float> indexed_audio(std::size_t from, std::size_t n) {
  std::vector<float> a(n);
  for (std::size_t i = 0; i < n; ++i) a[i] = static_cast<float>(from + i);
  return a;
}

class ScriptedRecognizer : public Recognizer {
 public:
  explicit ScriptedRecognizer(std::vector<ScriptWord> script) : script_(std::move(script)) {}

  WindowResult recognize(const float* samples, std::size_t n, const HypothesisOptions& h) override {
    prompts.push_back(h.prompt);
    origins.push_back(h.stream_sample);
    ++calls;
    WindowResult r;
    if (n == 0) return r;
    const double t0 = samples[0] / 16000.0;
    const double t1 = t0 + static_cast<double>(n) / 16000.0;
    const double wrong_from = t1 - (0.5 + 0.5 * std::fmod(calls * 0.37, 1.0));
    Segment seg;
    auto close = [&]() {
      if (seg.text.empty()) return;
      seg.temperature = temperature;
      r.segments.push_back(seg);
      seg = Segment();
    };
    for (const ScriptWord& w : script_) {
      if (w.start < t0 || w.end > t1) continue;
      Word word;
      word.word = w.end > wrong_from ? " x" + std::to_string(calls) : w.text;
      word.start = w.start - t0;
      word.end = w.end - t0;
      word.probability = 0.9f;
      if (seg.words.empty()) seg.start = word.start;
      seg.text += word.word;
      seg.end = word.end;
      seg.words.push_back(word);
      if (word.word.back() == '.') close();
    }
    close();
    return r;
  }

  int calls = 0;
  float temperature = 0.0f;
  std::vector<std::string> prompts;
  std::vector<std::uint64_t> origins;  // HypothesisOptions::stream_sample of every call

 private:
  std::vector<ScriptWord> script_;
};

}  // namespace npw::testing
