// The transcription loop on the real test model's vocabulary and mel filters, with a scripted
// window model in place of the networks: the script says which token wins at each step, so the
// segments, seek positions and prompts that OpenAI's transcribe() would produce are known by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "audio/wav.h"
#include "decode/transcribe_engine.h"
#include "model/model.h"

namespace npw {
namespace {

std::shared_ptr<const Model> test_model() { return Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin"); }

struct Log {
  std::vector<std::vector<int>> prefixes;  // initial tokens of every decoding
  std::vector<int> n_seqs;                 // sequences of every decoding
  int encodes = 0;
};

// Every sequence's step k gets the script's k-th token at logit 10, everything else -10.
class ScriptedModel : public WindowModel, public LogitSource {
 public:
  ScriptedModel(int n_vocab, std::vector<int> script, Log* log) : V_(n_vocab), script_(std::move(script)), log_(log) {}
  void encode(const float*, float*) override { ++log_->encodes; }
  LogitSource& logits() override { return *this; }
  std::string backend_kind() const override { return "scripted"; }
  int n_vocab() const override { return V_; }
  void begin(const std::vector<int>& prefix, int n_seq, int, float* sot, float* last) override {
    log_->prefixes.push_back(prefix);
    log_->n_seqs.push_back(n_seq);
    steps_.assign(static_cast<std::size_t>(n_seq), 0);
    std::fill(sot, sot + V_, 0.0f);
    fill(0, last);
  }
  void step(const std::vector<int>&, float* logits) override {
    for (std::size_t i = 0; i < steps_.size(); ++i) fill(++steps_[i], logits + i * static_cast<std::size_t>(V_));
  }
  void reorder(const std::vector<int>& source) override {
    std::vector<int> next;
    for (int s : source) next.push_back(steps_[static_cast<std::size_t>(s)]);
    steps_ = next;
  }

 private:
  void fill(int k, float* out) const {
    std::fill(out, out + V_, -10.0f);
    if (k < static_cast<int>(script_.size())) out[script_[static_cast<std::size_t>(k)]] = 10.0f;
  }
  int V_;
  std::vector<int> script_;
  Log* log_;
  std::vector<int> steps_;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model = test_model();
    const Vocab& v = model->vocab();
    ts = v.timestamp_begin();
    eot = v.eot();
  }
  std::unique_ptr<TranscribeEngine> engine(const std::vector<int>& script, Options o = Options()) {
    o.beam_size = 0;
    return std::make_unique<TranscribeEngine>(*model, o, std::make_unique<ScriptedModel>(model->vocab().n_vocab(), script, &log),
                                              nullptr);
  }
  std::shared_ptr<const Model> model;
  int ts = 0, eot = 0;
  Log log;
};

TEST_F(EngineTest, WholeFileSeekLoop) {
  // <0.00> w <2.00><2.00> w <5.00> EOT: two closed segments and a single closing timestamp, so each
  // window is used whole: 45 s -> windows at 0 and 30 s.
  const std::vector<int> script = {ts, 1000, ts + 100, ts + 100, 1001, ts + 250, eot};
  auto e = engine(script);
  const std::vector<float> audio(45 * 16000, 0.0f);
  int callbacks = 0;
  const TranscribeResult r = e->transcribe(audio.data(), audio.size(), [&](const Segment&) { ++callbacks; });
  ASSERT_EQ(r.segments.size(), 4u);
  EXPECT_EQ(callbacks, 4);
  EXPECT_EQ(r.language, "en");
  const double want[4][2] = {{0, 2}, {2, 5}, {30, 32}, {32, 35}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(r.segments[static_cast<std::size_t>(i)].start, want[i][0], 1e-9);
    EXPECT_NEAR(r.segments[static_cast<std::size_t>(i)].end, want[i][1], 1e-9);
  }
  EXPECT_EQ(r.segments[1].tokens, (std::vector<int>{ts + 100, 1001, ts + 250}));
  EXPECT_EQ(e->stats().windows, 2);
  EXPECT_EQ(e->stats().backend, "scripted");
  // The second window is conditioned on the first window's tokens: [sot_prev, tokens..., sot].
  ASSERT_EQ(log.prefixes.size(), 2u);
  EXPECT_EQ(log.prefixes[0], (std::vector<int>{model->vocab().sot()}));
  std::vector<int> want_prefix = {model->vocab().start_of_prev(), ts, 1000, ts + 100, ts + 100, 1001, ts + 250,
                                  model->vocab().sot()};
  EXPECT_EQ(log.prefixes[1], want_prefix);
}

TEST_F(EngineTest, UnfinishedSegmentSeeksBack) {
  // <0.00> w <2.00><2.00> w EOT: the tail is re-decoded from 2 s: windows at 0, 2, 4, ... until the
  // audio (5 s) is used up; every window yields the 0-2 s segment shifted by its offset.
  const std::vector<int> script = {ts, 1000, ts + 100, ts + 100, 1001, eot};
  auto e = engine(script);
  const std::vector<float> audio(5 * 16000, 0.0f);
  const TranscribeResult r = e->transcribe(audio.data(), audio.size(), {});
  ASSERT_EQ(r.segments.size(), 3u);  // at 0, 2 and 4 s; the last ends clipped to 5 s
  EXPECT_NEAR(r.segments[1].start, 2.0, 1e-9);
  EXPECT_NEAR(r.segments[2].start, 4.0, 1e-9);
  EXPECT_NEAR(r.segments[2].end, 5.0, 1e-9);
}

TEST_F(EngineTest, StreamingWindowConsumesUpToTheLastTimestamp) {
  const std::vector<int> script = {ts, 1000, ts + 100, ts + 100, 1001, eot};
  auto e = engine(script);
  const std::vector<float> audio(10 * 16000, 0.0f);
  const WindowResult w = e->transcribe_window(audio.data(), audio.size(), false);
  ASSERT_EQ(w.segments.size(), 1u);
  EXPECT_EQ(w.consumed_samples, 2u * 16000u);
  EXPECT_FALSE(w.skipped_no_speech);
  // The prompt carries over to the next call and reset() forgets it.
  e->transcribe_window(audio.data(), audio.size(), false);
  EXPECT_EQ(log.prefixes.back().front(), model->vocab().start_of_prev());
  e->reset();
  e->transcribe_window(audio.data(), audio.size(), false);
  EXPECT_EQ(log.prefixes.back(), (std::vector<int>{model->vocab().sot()}));

  // final = true runs the seek loop over the whole window: 0, 2, ..., 8 s -> everything consumed.
  e->reset();
  const WindowResult f = e->transcribe_window(audio.data(), audio.size(), true);
  EXPECT_EQ(f.consumed_samples, audio.size());
  EXPECT_EQ(f.segments.size(), 5u);
  EXPECT_NEAR(f.segments.back().end, 10.0, 1e-9);
}

TEST_F(EngineTest, LiveHypothesisUsesTheGivenPromptOneDecodeAndKeepsTheStreamPrompt) {
  // <0.00> w <2.00><2.00> w EOT on 10 s: one encode and one decode; the unfinished text after the
  // pair is the last segment, to the end of the audio (a file window would seek back to 2 s).
  const std::vector<int> script = {ts, 1000, ts + 100, ts + 100, 1001, eot};
  auto e = engine(script);
  const std::vector<float> audio(10 * 16000, 0.0f);
  const WindowResult w = e->transcribe_with_prompt(audio.data(), audio.size(), "committed words");
  ASSERT_EQ(log.prefixes.size(), 1u);
  EXPECT_EQ(log.encodes, 1);
  ASSERT_EQ(w.segments.size(), 2u);
  EXPECT_NEAR(w.segments[1].start, 2.0, 1e-9);
  EXPECT_NEAR(w.segments[1].end, 10.0, 1e-9);
  EXPECT_EQ(w.segments[1].tokens, (std::vector<int>{ts + 100, 1001}));
  EXPECT_EQ(w.consumed_samples, audio.size());
  // The decode is conditioned on the prompt given.
  const Vocab& v = model->vocab();
  for (const auto& prefix : log.prefixes) EXPECT_EQ(prefix.front(), v.start_of_prev());
  const std::vector<int> prompt_tokens = Tokenizer(v).encode(" committed words");
  EXPECT_TRUE(std::equal(prompt_tokens.begin(), prompt_tokens.end(), log.prefixes[0].begin() + 1));
  // The stream's own previous text is untouched: a fresh stream still starts with no prompt.
  e->transcribe_window(audio.data(), audio.size(), false);
  EXPECT_EQ(log.prefixes.back(), (std::vector<int>{v.sot()}));
}

TEST_F(EngineTest, GreedyHypothesisIgnoresTheBeamForThatCallOnly) {
  const std::vector<int> script = {ts, 1000, ts + 100, eot};
  Options o;
  o.beam_size = 5;
  TranscribeEngine e(*model, o, std::make_unique<ScriptedModel>(model->vocab().n_vocab(), script, &log), nullptr);
  const std::vector<float> audio(4 * 16000, 0.0f);
  HypothesisOptions h;
  h.greedy = true;
  e.transcribe_with_prompt(audio.data(), audio.size(), h);
  e.transcribe_with_prompt(audio.data(), audio.size(), std::string());
  ASSERT_EQ(log.n_seqs.size(), 2u);
  EXPECT_EQ(log.n_seqs[0], 1);
  EXPECT_EQ(log.n_seqs[1], 5);
  EXPECT_EQ(e.options().beam_size, 5);
  EXPECT_EQ(e.options().temperatures.size(), 6u);
}

TEST_F(EngineTest, NoTimestampsOneSegmentPerWindow) {
  Options o;
  o.timestamps = false;
  auto e = engine({1000, 1001, eot}, o);
  const std::vector<float> audio(12 * 16000, 0.0f);
  const TranscribeResult r = e->transcribe(audio.data(), audio.size(), {});
  ASSERT_EQ(r.segments.size(), 1u);
  EXPECT_NEAR(r.segments[0].end, 12.0, 1e-9);
  EXPECT_EQ(log.prefixes[0], (std::vector<int>{model->vocab().sot(), model->vocab().no_timestamps()}));
}

TEST_F(EngineTest, RepetitiveTextFallsBackThroughTemperatures) {
  // The same token 60 times compresses far beyond 2.4: every temperature is tried (at T > 0 the
  // scripted logits are so peaked that sampling follows the script too).
  std::vector<int> script = {ts};
  for (int i = 0; i < 60; ++i) script.push_back(1000);
  script.push_back(ts + 100);
  script.push_back(eot);
  Options o;
  o.best_of = 2;
  auto e = engine(script, o);
  const std::vector<float> audio(3 * 16000, 0.0f);
  const TranscribeResult r = e->transcribe(audio.data(), audio.size(), {});
  EXPECT_EQ(log.prefixes.size(), 6u);
  ASSERT_EQ(r.segments.size(), 1u);
  EXPECT_FLOAT_EQ(r.segments[0].temperature, 1.0f);
  EXPECT_GT(r.segments[0].compression_ratio, 2.4f);
}

}  // namespace
}  // namespace npw
