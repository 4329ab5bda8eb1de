// Live hypotheses through the real Transcriber with the scripted speech behind the decoder's logit
// and alignment interfaces: the real decoding policy and the real DTW word timing turn the script
// back into its words at their times; word timing is paid only by the calls that ask for it; and the
// live transcript commits every word once, in order, matched by those times.
#include "stream/scripted_speech.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "decode/transcriber.h"
#include "model/model.h"
#include "stream/live_transcript.h"

namespace npw {
namespace {

constexpr int kRate = 16000;

std::shared_ptr<const Model> test_model() { return Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin"); }

Options live_options() {
  Options o;
  o.language = "en";
  o.beam_size = 0;
  o.temperatures = {0.0f};
  o.n_threads = 1;
  o.backend = "cpu";
  return o;
}

struct Scripted {
  ScriptedSpeech* speech = nullptr;
  std::unique_ptr<Transcriber> t;
  Scripted(const std::shared_ptr<const Model>& model, const std::vector<ScriptedWord>& script, Options o = live_options()) {
    t = std::make_unique<Transcriber>(model, o, [&](std::unique_ptr<WindowModel> networks) {
      auto s = std::make_unique<ScriptedSpeech>(*model, script, std::move(networks));
      speech = s.get();
      return std::unique_ptr<WindowModel>(std::move(s));
    });
  }
};

std::vector<Word> words_of(const WindowResult& r) {
  std::vector<Word> out;
  for (const Segment& s : r.segments) out.insert(out.end(), s.words.begin(), s.words.end());
  return out;
}

void expect_the_script_back(int n_threads) {
  auto model = test_model();
  const auto script = make_word_script(30.0);
  Options o = live_options();
  o.n_threads = n_threads;
  Scripted s(model, script, o);
  const std::vector<float> audio(8 * kRate, 0.0f);
  HypothesisOptions h;
  h.word_timestamps = true;
  const WindowResult r = s.t->transcribe_with_prompt(audio.data(), audio.size(), h);
  const std::vector<Word> words = words_of(r);
  // Words w0.. heard right up to the last 0.5-1.0 s: the closed sentence "w0 ... w7." and the
  // unfinished one after it, from one encode and one decode.
  ASSERT_GE(words.size(), 12u);
  std::size_t right = 0, exact = 0;
  for (const Word& w : words) {
    if (w.word.rfind(" x", 0) == 0) {
      EXPECT_GE(w.start, 8.0 - 1.0 - 0.1) << w.word;  // wrong only near the end of the buffer
      EXPECT_NEAR(w.probability, ScriptedSpeech::kWrongProbability, 0.01);
      continue;
    }
    ASSERT_LT(right, script.size());
    EXPECT_EQ(w.word, script[right].text);
    // DTW on 20 ms positions; OpenAI's path starts at a window's first audio position, and so
    // does the window's first word.
    if (std::abs(w.start - script[right].start) <= 0.061) ++exact;
    EXPECT_LE(w.start, script[right].start + 0.061) << w.word;
    EXPECT_GE(w.start, script[right].start - 0.5) << w.word;
    EXPECT_GT(w.end, w.start);
    EXPECT_NEAR(w.probability, ScriptedSpeech::kRightProbability, 0.01);
    ++right;
  }
  EXPECT_GE(right, 12u);
  EXPECT_GE(exact, right - 1);
  EXPECT_EQ(s.speech->windows(), 1);
  // The networks ran on the window: the model's cost is in the step.
  EXPECT_EQ(s.t->stats().windows, 1);
  EXPECT_GT(s.t->stats().encoder_seconds, 0.0);
  EXPECT_GT(s.t->stats().word_timing_seconds, 0.0);
}

TEST(ScriptedSpeech, TheRealPolicyAndWordTimingGiveTheScriptBack) { expect_the_script_back(1); }

// With a pool the aligner asks for several heads' scores at once, from different threads: the
// scripted source must not share a buffer between those calls (it did, and the live bench aborted
// with a double free; the ASan pass of scripts/run-tests.sh runs this).
TEST(ScriptedSpeech, HeadsScoredOnSeveralThreadsAtOnce) { expect_the_script_back(4); }

TEST(ScriptedSpeech, WordsAreTimedOnlyForCallsThatAskForThem) {
  auto model = test_model();
  Scripted s(model, make_word_script(30.0));
  const std::vector<float> audio(5 * kRate, 0.0f);
  const WindowResult r = s.t->transcribe_with_prompt(audio.data(), audio.size(), std::string());
  ASSERT_FALSE(r.segments.empty());
  for (const Segment& seg : r.segments) EXPECT_TRUE(seg.words.empty());
  EXPECT_EQ(s.t->stats().word_timing_seconds, 0.0);
  // File mode (word_timestamps off) after a hypothesis that timed words: still no words.
  HypothesisOptions h;
  h.word_timestamps = true;
  EXPECT_FALSE(words_of(s.t->transcribe_with_prompt(audio.data(), audio.size(), h)).empty());
  const TranscribeResult f = s.t->transcribe(audio.data(), audio.size());
  ASSERT_FALSE(f.segments.empty());
  for (const Segment& seg : f.segments) EXPECT_TRUE(seg.words.empty());
}

TEST(ScriptedSpeech, TheStreamPositionPlacesTheWindow) {
  auto model = test_model();
  const auto script = make_word_script(30.0);
  Scripted s(model, script);
  const std::vector<float> audio(4 * kRate, 0.0f);
  HypothesisOptions h;
  h.word_timestamps = true;
  h.stream_sample = 10 * kRate;
  s.speech->set_final(true);
  const std::vector<Word> words = words_of(s.t->transcribe_with_prompt(audio.data(), audio.size(), h));
  // Script words 10.0 .. 13.5 s (w19 .. w26), times relative to the buffer.
  ASSERT_EQ(words.size(), 8u);
  EXPECT_EQ(words.front().word, " w19");
  EXPECT_EQ(words[1].word, " w20");
  EXPECT_NEAR(words[1].start, 0.5, 0.061);
  EXPECT_EQ(words.back().word, " w26");
}

TEST(ScriptedSpeech, TheLiveTranscriptCommitsEveryWordOnceInOrderAtItsTime) {
  auto model = test_model();
  const auto script = make_word_script(7.0);
  Scripted s(model, script);
  TranscriberRecognizer rec(*s.t);
  LiveTranscript lt(rec, LiveSettings{});
  std::vector<Word> out;
  const std::vector<float> chunk(kRate, 0.0f);
  for (int i = 0; i < 7; ++i) {
    lt.append(chunk.data(), chunk.size());
    for (Word& w : lt.step()) out.push_back(w);
  }
  s.speech->set_final(true);
  for (Word& w : lt.step()) out.push_back(w);
  for (Word& w : lt.finish()) out.push_back(w);
  ASSERT_EQ(out.size(), script.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].word, script[i].text) << i;
    // At its start (the first word of a window may start with the window).
    EXPECT_LE(out[i].start, script[i].start + 0.061) << i;
    EXPECT_GE(out[i].start, script[i].start - 0.5) << i;
  }
}

}  // namespace
}  // namespace npw
