// Word timestamps through the Transcriber on the random-weight test model: every segment with text
// gets words made of text tokens, in order, never overlapping, inside their segment and the audio
// (which segment a word lands in is OpenAI's count of tokens: on this model's gibberish, words
// straddle segments and segments emptied by the word times are dropped with their words, so the
// words need not hold every text token); the streaming entry point does the same per window; off means no words;
// and a bad alignment-heads setting is refused by name.
#include <gtest/gtest.h>

#include <string>

#include "audio/wav.h"
#include "decode/transcriber.h"
#include "model/model.h"
#include "util/error.h"

namespace npw {
namespace {

Options word_options() {
  Options o;
  o.backend = "cpu";
  o.n_threads = 2;
  o.beam_size = 0;
  o.temperatures = {0.0f};
  o.word_timestamps = true;
  return o;
}

void check_words(const std::vector<Segment>& segments, double duration, int eot) {
  double floor = 0.0;
  std::size_t with_words = 0;
  for (const Segment& s : segments) {
    for (const Word& w : s.words) {
      EXPECT_FALSE(w.word.empty());
      EXPECT_GE(w.start, s.start - 1e-9);
      EXPECT_LE(w.end, s.end + 1e-9);
      EXPECT_LE(w.start, w.end);
      EXPECT_GE(w.start, floor - 1e-9) << "words run backwards or overlap";
      EXPECT_LE(w.end, duration + 1e-9);
      EXPECT_GT(w.probability, 0.0f);
      floor = w.end;
      EXPECT_FALSE(w.tokens.empty());
      for (int t : w.tokens) EXPECT_LT(t, eot);
    }
    if (!s.words.empty()) ++with_words;
  }
  EXPECT_GT(with_words, 0u);
}

TEST(TranscriberWords, WholeFile) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  const WavData wav = read_wav(std::string(NPW_TEST_DATA_DIR) + "/audio/jfk.wav");
  Transcriber t(model, word_options());
  const TranscribeResult r = t.transcribe(wav.samples.data(), wav.samples.size());
  ASSERT_FALSE(r.segments.empty());
  check_words(r.segments, wav.samples.size() / 16000.0, model->vocab().eot());
  EXPECT_GT(t.stats().word_timing_seconds, 0.0);

  Options off = word_options();
  off.word_timestamps = false;
  Transcriber plain(model, off);
  for (const Segment& s : plain.transcribe(wav.samples.data(), wav.samples.size()).segments) EXPECT_TRUE(s.words.empty());
}

TEST(TranscriberWords, Windows) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f16.bin");
  const WavData wav = read_wav(std::string(NPW_TEST_DATA_DIR) + "/audio/espeak20.wav");
  Transcriber t(model, word_options());
  const WindowResult r = t.transcribe_window(wav.samples.data(), wav.samples.size(), true);
  EXPECT_EQ(r.consumed_samples, wav.samples.size());
  check_words(r.segments, wav.samples.size() / 16000.0, model->vocab().eot());
}

TEST(TranscriberWords, HallucinationFilterKeepsTheInvariants) {
  // The random model's words are all improbable (anomalous): with the filter on, windows are cut
  // or skipped, and what is left still obeys every rule; the loop still reaches the end.
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  const WavData wav = read_wav(std::string(NPW_TEST_DATA_DIR) + "/audio/jfk.wav");
  Options o = word_options();
  o.hallucination_silence_threshold = 0.5f;
  Transcriber t(model, o);
  const TranscribeResult r = t.transcribe(wav.samples.data(), wav.samples.size());
  double floor = 0.0;
  for (const Segment& s : r.segments) {
    EXPECT_GE(s.start, floor - 1e-9);
    floor = s.start;
    for (const Word& w : s.words) {
      EXPECT_GE(w.start, s.start - 1e-9);
      EXPECT_LE(w.end, s.end + 1e-9);
    }
  }
  EXPECT_GE(t.stats().windows, 1);
}

TEST(TranscriberWords, BadSettingsAreNamed) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  Options o = word_options();
  o.alignment_heads = "5:0";
  try {
    Transcriber t(model, o);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("alignment heads '5:0'"), std::string::npos) << e.what();
  }
  o = word_options();
  o.word_timestamps = false;
  o.hallucination_silence_threshold = 2.0f;
  EXPECT_THROW(Transcriber(model, o), Error);
}

}  // namespace
}  // namespace npw
