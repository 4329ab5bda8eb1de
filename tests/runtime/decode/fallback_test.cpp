// Temperature fallback and silence skipping on crafted decodings.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decode/fallback.h"
#include "decode/text_metrics.h"

namespace npw {
namespace {

WindowDecode decoding(const std::string& text, float avg_logprob, float no_speech, float t = 0.0f) {
  WindowDecode d;
  d.text = text;
  d.compression_ratio = compression_ratio(text);
  d.outcome.avg_logprob = avg_logprob;
  d.outcome.no_speech_prob = no_speech;
  d.outcome.temperature = t;
  return d;
}

std::string repetitive() {
  std::string s;
  for (int i = 0; i < 10; ++i) s += "the cat sat on the mat. ";
  return s;  // ratio 7.5
}

TEST(Fallback, Rules) {
  const Options o;
  EXPECT_TRUE(needs_fallback(decoding(repetitive(), -0.2f, 0.1f), o));
  EXPECT_FALSE(needs_fallback(decoding("hello world", -0.2f, 0.1f), o));
  EXPECT_TRUE(needs_fallback(decoding("hello world", -1.5f, 0.1f), o));
  EXPECT_FALSE(needs_fallback(decoding(repetitive(), -1.5f, 0.9f), o));  // silent window: no retry
  // Silence excuses only an improbable decoding (OpenAI's transcribe() since v20250625): a
  // repetitive but probable one is decoded again however likely the no-speech token is.
  EXPECT_TRUE(needs_fallback(decoding(repetitive(), -0.2f, 0.9f), o));
  EXPECT_FALSE(needs_fallback(decoding("hello world", -1.5f, 0.9f), o));
  Options no_logprob = o;
  no_logprob.logprob_threshold_enabled = false;
  EXPECT_TRUE(needs_fallback(decoding(repetitive(), -1.5f, 0.9f), no_logprob));  // nothing to call it silent
  EXPECT_FALSE(needs_fallback(decoding("hello world", -1.5f, 0.9f), no_logprob));
  Options no_speech_off = o;
  no_speech_off.no_speech_threshold = 1.5f;
  EXPECT_TRUE(needs_fallback(decoding(repetitive(), -1.5f, 0.9f), no_speech_off));
  Options off = o;
  off.compression_ratio_threshold = 0.0f;
  off.logprob_threshold_enabled = false;
  EXPECT_FALSE(needs_fallback(decoding(repetitive(), -5.0f, 0.0f), off));
}

TEST(Fallback, SkipSilence) {
  const Options o;
  EXPECT_TRUE(should_skip_window(decoding("", -1.2f, 0.7f), o));
  EXPECT_TRUE(should_skip_window(decoding("", -1.0f, 0.7f), o));   // avg must be above -1 to keep it
  EXPECT_FALSE(should_skip_window(decoding("", -0.5f, 0.7f), o));
  EXPECT_FALSE(should_skip_window(decoding("", -1.2f, 0.5f), o));
  Options off = o;
  off.no_speech_threshold = 1.5f;
  EXPECT_FALSE(should_skip_window(decoding("", -1.2f, 0.99f), off));
}

TEST(Fallback, ClimbsTheTemperatureLadder) {
  const Options o;
  std::vector<float> tried;
  // Repetitive until 0.4, then fine.
  const WindowDecode d = decode_with_fallback(o, [&](float t) {
    tried.push_back(t);
    return t < 0.3f ? decoding(repetitive(), -0.1f, 0.0f, t) : decoding("hello world", -0.1f, 0.0f, t);
  });
  EXPECT_EQ(tried, (std::vector<float>{0.0f, 0.2f, 0.4f}));
  EXPECT_FLOAT_EQ(d.outcome.temperature, 0.4f);

  tried.clear();
  const WindowDecode last = decode_with_fallback(o, [&](float t) {
    tried.push_back(t);
    return decoding(repetitive(), -0.1f, 0.0f, t);
  });
  EXPECT_EQ(tried.size(), 6u);
  EXPECT_FLOAT_EQ(last.outcome.temperature, 1.0f);  // all failed: the last decoding is kept
}

}  // namespace
}  // namespace npw
