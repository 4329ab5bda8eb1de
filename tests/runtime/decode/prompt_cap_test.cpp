// What the engine feeds the decoder. The previous-text prompt is capped at n_text_ctx / 2 - 1 = 223
// tokens for Whisper's 448-token context (OpenAI: prompt_tokens[-(n_ctx // 2 - 1):]), counted from the
// last reset, and reset only after a window decoded at a temperature strictly above 0.5; a carried
// initial prompt leads every window's prompt; clip_timestamps choose the windows. Checked on
// PromptState directly and on what a recording model is given.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "decode/transcribe_engine.h"
#include "decode/window_step.h"
#include "model/model.h"

namespace npw {
namespace {

TEST(PromptCap, KeepsTheLast223Tokens) {
  PromptState p;
  p.all_tokens.resize(300);
  std::iota(p.all_tokens.begin(), p.all_tokens.end(), 0);
  const std::vector<int> prompt = p.prompt(448);
  ASSERT_EQ(prompt.size(), 223u);
  EXPECT_EQ(prompt.front(), 300 - 223);
  EXPECT_EQ(prompt.back(), 299);
  p.reset_since = 250;  // a reset: only what came after it
  EXPECT_EQ(p.prompt(448).size(), 50u);
  EXPECT_EQ(p.prompt(448).front(), 250);
}

std::vector<int> range(int from, int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), from);
  return v;
}

std::vector<int> concat(std::vector<int> a, const std::vector<int>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// OpenAI's carry_initial_prompt: initial + all_tokens[max(len(initial), reset):][-(223 - len(initial)):],
// then the decoder's last 223. Expected values worked out with Python's slices, quirks included.
TEST(PromptCap, CarriedInitialPromptAsOpenAI) {
  PromptState p;
  p.all_tokens = concat({1000, 1001, 1002}, range(0, 300));
  p.carried = 3;
  EXPECT_EQ(p.prompt(448), concat({1000, 1001, 1002}, range(80, 220)));
  p.reset_since = 253;  // a reset: the initial prompt, then only what came after it
  EXPECT_EQ(p.prompt(448), concat({1000, 1001, 1002}, range(250, 50)));
  // An initial prompt longer than the room (230 > 223): rest[-(-7):] drops the rest's first 7, then
  // the decoder keeps the last 223 of the whole.
  p.all_tokens = concat(range(5000, 230), range(0, 10));
  p.carried = 230;
  p.reset_since = 0;
  EXPECT_EQ(p.prompt(448), concat(range(5010, 220), {7, 8, 9}));
  // Exactly the room: rest[-0:] is all of the rest.
  p.all_tokens = concat(range(5000, 223), range(0, 5));
  p.carried = 223;
  EXPECT_EQ(p.prompt(448), concat(range(5005, 218), range(0, 5)));
}

TEST(PromptCap, ResetOnlyAboveHalfADegree) {
  const Options o;
  constexpr int T = 100;
  auto decoded = [](float temperature) {
    WindowDecode d;
    d.outcome.tokens = {T, 1, T + 10};
    d.outcome.token_probs.assign(3, 0.5f);
    d.outcome.temperature = temperature;
    d.outcome.avg_logprob = -0.1f;
    return d;
  };
  auto text = [](const std::vector<int>& ids) { return std::string(ids.size(), 'x'); };
  PromptState p;
  finish_window(decoded(0.5f), 3000, T, text, o, p);  // 0.5 is not above 0.5: kept
  EXPECT_EQ(p.prompt(448).size(), 3u);
  finish_window(decoded(0.6f), 3000, T, text, o, p);
  EXPECT_TRUE(p.prompt(448).empty());
}

// Ends every decoding at once and records what it was fed (and which samples each window holds).
class RecordingModel : public WindowModel, public LogitSource {
 public:
  std::vector<std::pair<std::uint64_t, std::size_t>> places;
  void place(std::uint64_t first, std::size_t n) override { places.emplace_back(first, n); }
  RecordingModel(int n_vocab, int eot, std::vector<std::vector<int>>* prefixes) : V_(n_vocab), eot_(eot), prefixes_(prefixes) {}
  void encode(const float*, float*) override {}
  LogitSource& logits() override { return *this; }
  std::string backend_kind() const override { return "recording"; }
  int n_vocab() const override { return V_; }
  void begin(const std::vector<int>& prefix, int n_seq, int, float* sot, float* last) override {
    prefixes_->push_back(prefix);
    std::fill(sot, sot + V_, 0.0f);
    for (int i = 0; i < n_seq; ++i) step_logits(last + static_cast<std::size_t>(i) * V_);
  }
  void step(const std::vector<int>& tokens, float* logits) override {
    for (std::size_t i = 0; i < tokens.size(); ++i) step_logits(logits + i * static_cast<std::size_t>(V_));
  }
  void reorder(const std::vector<int>&) override {}

 private:
  void step_logits(float* out) const {
    std::fill(out, out + V_, -10.0f);
    out[eot_] = 10.0f;
  }
  int V_, eot_;
  std::vector<std::vector<int>>* prefixes_;
};

TEST(PromptCap, EngineFeedsAtMost223PromptTokens) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  const Vocab& v = model->vocab();
  std::string long_prompt;
  for (int i = 0; i < 400; ++i) long_prompt += " hello";
  Options o;
  o.beam_size = 0;
  o.temperatures = {0.0f};
  o.initial_prompt = long_prompt;
  std::vector<std::vector<int>> prefixes;
  TranscribeEngine e(*model, o, std::make_unique<RecordingModel>(v.n_vocab(), v.eot(), &prefixes), nullptr);
  const std::vector<float> audio(16000, 0.0f);
  e.transcribe(audio.data(), audio.size(), {});
  ASSERT_FALSE(prefixes.empty());
  const std::vector<int>& p = prefixes[0];
  // [<|startofprev|>, 223 prompt tokens, <|startoftranscript|>] (English-only: no language or task)
  ASSERT_EQ(p.size(), 1u + 223u + 1u);
  EXPECT_EQ(p.front(), v.start_of_prev());
  EXPECT_EQ(p.back(), v.sot());
  EXPECT_TRUE(std::none_of(p.begin() + 1, p.end() - 1, [&](int id) { return v.is_special(id); }));
}

// Without conditioning on the previous text every window's prompt is reset: the initial prompt
// reaches only the first window, unless it is carried.
TEST(PromptCap, EngineCarriesTheInitialPromptToEveryWindow) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  const Vocab& v = model->vocab();
  const std::vector<float> audio(45 * 16000, 0.0f);  // two windows
  for (bool carry : {false, true}) {
    Options o;
    o.beam_size = 0;
    o.temperatures = {0.0f};
    o.no_speech_threshold = 2.0f;  // never skipped as silence: the decoder is asked about each window
    o.condition_on_previous_text = false;
    o.initial_prompt = "Kubernetes";
    o.carry_initial_prompt = carry;
    std::vector<std::vector<int>> prefixes;
    TranscribeEngine e(*model, o, std::make_unique<RecordingModel>(v.n_vocab(), v.eot(), &prefixes), nullptr);
    e.transcribe(audio.data(), audio.size(), {});
    ASSERT_EQ(prefixes.size(), 2u) << carry;
    EXPECT_EQ(prefixes[0].front(), v.start_of_prev());
    EXPECT_EQ(prefixes[1].front() == v.start_of_prev(), carry);
    if (carry) {
      EXPECT_EQ(prefixes[1], prefixes[0]);
    }
  }
}

// clip_timestamps "5,10,20" on 30 s: the windows [5 s, 10 s) and [20 s, 30 s), cut at each stretch's end.
TEST(PromptCap, EngineTranscribesOnlyTheClips) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  const Vocab& v = model->vocab();
  Options o;
  o.beam_size = 0;
  o.temperatures = {0.0f};
  o.no_speech_threshold = 2.0f;
  o.clip_timestamps = "5,10,20";
  std::vector<std::vector<int>> prefixes;
  auto rec = std::make_unique<RecordingModel>(v.n_vocab(), v.eot(), &prefixes);
  RecordingModel* r = rec.get();
  TranscribeEngine e(*model, o, std::move(rec), nullptr);
  const std::vector<float> audio(30 * 16000, 0.0f);
  e.transcribe(audio.data(), audio.size(), {});
  using Places = std::vector<std::pair<std::uint64_t, std::size_t>>;
  EXPECT_EQ(r->places, (Places{{5 * 16000, 5 * 16000}, {20 * 16000, 10 * 16000}}));
  EXPECT_EQ(prefixes.size(), 2u);
}

}  // namespace
}  // namespace npw
