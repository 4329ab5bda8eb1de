// End to end on the random-weight test model: a 45 s clip through the real mel, encoder and decoder.
// The text is gibberish by construction, so the structure is checked, not the words: at least two
// windows, segments ordered, non-overlapping and inside the audio, and the same result twice.
#include <gtest/gtest.h>

#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "audio/wav.h"
#include "decode/transcriber.h"
#include "model/model.h"
#include "../../common/process_threads.h"
#include "util/error.h"

namespace npw {
namespace {

Options fast_options() {
  Options o;
  o.backend = "cpu";
  o.n_threads = 2;
  o.beam_size = 0;          // greedy: the suite stays fast; beam search is covered on crafted logits
  o.temperatures = {0.0f};  // no fallback retries on a model that always "fails"
  return o;
}

TEST(Transcriber, Long45StructureAndDeterminism) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  const WavData wav = read_wav(std::string(NPW_TEST_DATA_DIR) + "/audio/long45.wav");
  const double duration = static_cast<double>(wav.samples.size()) / 16000.0;

  Transcriber t(model, fast_options());
  const TranscribeResult a = t.transcribe(wav.samples.data(), wav.samples.size());
  EXPECT_GE(t.stats().windows, 2);
  EXPECT_EQ(t.stats().backend, "cpu");
  EXPECT_GT(t.stats().encoder_seconds, 0.0);
  EXPECT_EQ(a.language, "en");
  ASSERT_FALSE(a.segments.empty());
  double last_end = 0.0;
  for (const Segment& s : a.segments) {
    EXPECT_GE(s.start, last_end - 1e-9);
    EXPECT_LE(s.start, s.end);
    EXPECT_LE(s.end, duration + 1e-9);
    EXPECT_FALSE(s.tokens.empty());
    EXPECT_EQ(s.tokens.size(), s.token_probs.size());
    last_end = s.end;
  }

  Transcriber again(model, fast_options());
  const TranscribeResult b = again.transcribe(wav.samples.data(), wav.samples.size());
  ASSERT_EQ(a.segments.size(), b.segments.size());
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    EXPECT_EQ(a.segments[i].tokens, b.segments[i].tokens);
    EXPECT_EQ(a.segments[i].start, b.segments[i].start);
    EXPECT_EQ(a.segments[i].end, b.segments[i].end);
    EXPECT_EQ(a.segments[i].text, b.segments[i].text);
  }
}

TEST(Transcriber, StreamingWindowConsumes) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  const WavData wav = read_wav(std::string(NPW_TEST_DATA_DIR) + "/audio/long45.wav");
  Transcriber t(model, fast_options());
  const WindowResult w = t.transcribe_window(wav.samples.data(), 480000, false);
  EXPECT_GT(w.consumed_samples, 0u);
  EXPECT_LE(w.consumed_samples, 480000u);
  EXPECT_THROW(t.transcribe_window(wav.samples.data(), 480001, false), Error);
  const WindowResult f = t.transcribe_window(wav.samples.data(), 160000, true);
  EXPECT_EQ(f.consumed_samples, 160000u);
}

#if defined(__x86_64__) || defined(__i386__)
// The runtime flushes subnormals for its own arithmetic (util/flush_denormals.h) but never for the
// caller: its float mode is the same after each call and inside the segment callback.
TEST(Transcriber, CallersFloatModeIsKeptAndSeenByItsCallback) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  const WavData wav = read_wav(std::string(NPW_TEST_DATA_DIR) + "/audio/long45.wav");
  const unsigned before = _mm_getcsr();
  Transcriber t(model, fast_options());
  int calls = 0;
  t.transcribe(wav.samples.data(), wav.samples.size(), [&](const Segment&) {
    ++calls;
    EXPECT_EQ(_mm_getcsr(), before);
  });
  EXPECT_GT(calls, 0);
  EXPECT_EQ(_mm_getcsr(), before);
  t.transcribe_window(wav.samples.data(), 160000, true);
  EXPECT_EQ(_mm_getcsr(), before);
}
#endif

// A stream of n threads is the caller and n - 1 workers: the mel, attention and the backend's
// products share one pool (two pools put more runnable threads than cores on the machine at every
// switch between a product and the attention around it).
TEST(Transcriber, OneStreamOfNThreadsAddsNMinusOneWorkers) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  const int before = npwtest::settled_threads();
  ASSERT_GT(before, 0);
  for (const char* backend : {"cpu", "cpu-int8"}) {
    Options o = fast_options();
    o.backend = backend;
    o.n_threads = 3;
    // The previous stream's workers are joined and reaped (npwtest::threads_reach).
    ASSERT_EQ(npwtest::threads_reach(before), before) << backend;
    Transcriber t(model, o);
    EXPECT_EQ(npwtest::process_threads() - before, 2) << backend;
    const WavData wav = read_wav(std::string(NPW_TEST_DATA_DIR) + "/audio/long45.wav");
    t.transcribe_window(wav.samples.data(), 160000, true);
    EXPECT_EQ(npwtest::process_threads() - before, 2) << backend;
  }
}

TEST(Transcriber, RejectsBadOptions) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  Options o = fast_options();
  o.best_of = 0;
  EXPECT_THROW(Transcriber(model, o), Error);
  o = fast_options();
  o.suppress_tokens = "99999";
  EXPECT_THROW(Transcriber(model, o), Error);
}

}  // namespace
}  // namespace npw
