// One window's bookkeeping on crafted decodings: segments, empties dropped, silence skip, prompt.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decode/window_step.h"

namespace npw {
namespace {

constexpr int T = 100;  // <|0.00|>

std::string text_of(const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) {
    if (id < T) s += id == 0 ? " " : " w" + std::to_string(id);
  }
  return s;
}

WindowDecode decoded(std::vector<int> tokens, float temperature = 0.0f, float no_speech = 0.1f, float avg = -0.3f) {
  WindowDecode d;
  d.outcome.tokens = tokens;
  d.outcome.token_probs.assign(tokens.size(), 0.5f);
  d.outcome.temperature = temperature;
  d.outcome.no_speech_prob = no_speech;
  d.outcome.avg_logprob = avg;
  d.compression_ratio = 1.0f;
  return d;
}

TEST(WindowStep, SegmentsAndPrompt) {
  const Options o;
  PromptState p;
  // <0.00> w1 <1.00><1.00> " " <1.50><1.50> w2 <2.00><2.00> w3 (unfinished)
  const WindowStep s = finish_window(decoded({T, 1, T + 50, T + 50, 0, T + 75, T + 75, 2, T + 100, T + 100, 3}), 3000, T,
                                     text_of, o, p);
  ASSERT_EQ(s.segments.size(), 2u);  // the blank middle segment is dropped
  EXPECT_EQ(s.segments[0].text, " w1");
  EXPECT_DOUBLE_EQ(s.segments[1].start, 1.5);
  EXPECT_DOUBLE_EQ(s.segments[1].end, 2.0);
  EXPECT_EQ(s.segments[1].tokens, (std::vector<int>{T + 75, 2, T + 100}));
  EXPECT_EQ(s.seek_frames, 200);
  EXPECT_EQ(p.all_tokens, (std::vector<int>{T, 1, T + 50, T + 75, 2, T + 100}));
  EXPECT_EQ(p.prompt(448), p.all_tokens);
  EXPECT_EQ(p.prompt(8), (std::vector<int>{T + 75, 2, T + 100}));  // last n_ctx/2 - 1

  // A window decoded hot resets the prompt after its own tokens.
  finish_window(decoded({T, 4, T + 10}, 0.6f), 3000, T, text_of, o, p);
  EXPECT_TRUE(p.prompt(448).empty());
  EXPECT_EQ(p.all_tokens.size(), 9u);
  finish_window(decoded({T, 5, T + 10}, 0.4f), 3000, T, text_of, o, p);
  EXPECT_EQ(p.prompt(448), (std::vector<int>{T, 5, T + 10}));
}

TEST(WindowStep, SilenceIsSkipped) {
  const Options o;
  PromptState p;
  p.all_tokens = {1, 2};
  const WindowStep s = finish_window(decoded({T, 1, T + 10}, 0.0f, 0.8f, -1.5f), 1234, T, text_of, o, p);
  EXPECT_TRUE(s.skipped_no_speech);
  EXPECT_TRUE(s.segments.empty());
  EXPECT_EQ(s.seek_frames, 1234);
  EXPECT_EQ(p.all_tokens.size(), 2u);
}

TEST(WindowStep, NoConditioningResetsEveryWindow) {
  Options o;
  o.condition_on_previous_text = false;
  PromptState p;
  finish_window(decoded({T, 1, T + 10}), 3000, T, text_of, o, p);
  EXPECT_TRUE(p.prompt(448).empty());
}

}  // namespace
}  // namespace npw
