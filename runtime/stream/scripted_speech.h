// A stand-in for trained weights in live-caption tests and the live benchmark: no machine here has a
// model that hears real words, yet the commit policy and its timing must be measured with the real
// decoding policy, word timing and model cost in the loop. ScriptedSpeech is a WindowModel that
// "hears" a known word list with known times: its logits make the real decoding policy (timestamp
// rules, greedy or beam search, segment splitting) produce the script's tokens for the window it was
// placed on, and its cross-attention scores make the real DTW word timing find the script's word
// starts. Like a real model it gets the words starting in the last 0.5-1.0 s of a window wrong, in a
// different way on every window (a word cut by the buffer end), and it does not hear a word the
// window cuts. When given the real networks it still runs them on every window (encoder, every
// decoder step, the alignment pass) and throws their output away, so a step costs what it would.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decode/tokenizer.h"
#include "decode/window_model.h"

namespace npw {

class Model;

struct ScriptedWord {
  std::string text;  // with its leading space, as Whisper's words
  double start = 0.0, end = 0.0;  // seconds on the stream's clock
};

// A word every `every` seconds (`length` long) from `first` until `seconds`, sentences of
// `sentence` words (the last with a full stop): " w0 w1 ... w7." and so on.
std::vector<ScriptedWord> make_word_script(double seconds, double first = 0.5, double every = 0.5,
                                           double length = 0.35, int sentence = 8);

class ScriptedSpeech : public WindowModel {
 public:
  // `real` (may be null: the policy alone, no model cost) keeps running on every window. The script
  // must be in time order. Tokens come from `model`'s vocabulary.
  ScriptedSpeech(const Model& model, std::vector<ScriptedWord> script, std::unique_ptr<WindowModel> real = nullptr);
  ~ScriptedSpeech() override;

  void place(std::uint64_t first, std::size_t n) override;
  void encode(const float* mel, float* out) override;
  LogitSource& logits() override;
  AlignmentSource* alignment() override;
  std::unique_ptr<LogMelFrontEnd> device_mel(const float* filters, int n_mels) override;
  std::string backend_kind() const override;
  void set_cancel(const std::atomic<bool>* flag) override;

  // From now on nothing is heard wrong (the end of the stream: no word is cut any more). May be
  // called from another thread than the one transcribing.
  void set_final(bool final) { final_ = final; }
  // Encoded windows so far (each gets its own wrong tail).
  int windows() const { return windows_; }
  // Probability the script gives a word it hears right / one it gets wrong.
  static constexpr float kRightProbability = 0.98f;
  static constexpr float kWrongProbability = 0.6f;

  // One token the script expects, with the word it belongs to (-1: a timestamp).
  struct Expected {
    int token = 0;
    int word = -1;
    float probability = 1.0f;
  };
  // What this window must decode to (timestamps and text tokens, no EOT), for tests.
  const std::vector<Expected>& expected() const { return expected_; }

 private:
  class Logits;
  class Alignment;
  struct HeardWord {
    std::vector<int> tokens;
    double start = 0.0, end = 0.0;  // seconds from the window start
    float probability = 1.0f;
  };
  void script_window();

  const Model& model_;
  Tokenizer tokenizer_;
  std::vector<ScriptedWord> script_;
  std::unique_ptr<WindowModel> real_;
  std::unique_ptr<Logits> logits_;
  std::unique_ptr<Alignment> alignment_;
  std::uint64_t first_ = 0;
  std::size_t n_ = 0;
  std::atomic<bool> final_{false};
  int windows_ = 0;
  std::vector<HeardWord> heard_;
  std::vector<Expected> expected_;
};

}  // namespace npw
