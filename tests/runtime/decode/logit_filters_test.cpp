// Each of OpenAI's logit filter rules on crafted logits. Layout: text 0..4, EOT 5, <|notimestamps|> 6,
// timestamps 7..19 (<|0.00|> = 7).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "decode/logit_filters.h"

namespace npw {
namespace {

constexpr int kV = 20;
constexpr int kEot = 5;
constexpr int kNoTs = 6;
constexpr int kBeg = 7;

TimestampRules rules(int max_index = -1) {
  TimestampRules r;
  r.eot = kEot;
  r.no_timestamps = kNoTs;
  r.timestamp_begin = kBeg;
  r.max_initial_timestamp_index = max_index;
  return r;
}

// Logits that keep text competitive so the "timestamps win" rule does not interfere.
std::vector<float> flat(float text = 5.0f) {
  std::vector<float> l(kV, 0.0f);
  for (int i = 0; i < kBeg; ++i) l[i] = text;
  return l;
}

std::vector<float> run(const std::vector<int>& sampled, TimestampRules r = rules(), float text = 5.0f) {
  std::vector<float> l = flat(text);
  apply_timestamp_rules(l.data(), kV, sampled.data(), sampled.size(), r);
  return l;
}

bool allowed(const std::vector<float>& l, int id) { return !std::isinf(l[id]); }

TEST(SuppressBlank, OnlyAtFirstStep) {
  std::vector<float> l(kV, 1.0f);
  suppress_blank(l.data(), kV, 0, {2}, kEot);
  EXPECT_FALSE(allowed(l, 2));
  EXPECT_FALSE(allowed(l, kEot));
  EXPECT_TRUE(allowed(l, 1));
  std::vector<float> later(kV, 1.0f);
  suppress_blank(later.data(), kV, 1, {2}, kEot);
  EXPECT_TRUE(allowed(later, 2));
  EXPECT_TRUE(allowed(later, kEot));
}

TEST(SuppressTokens, Listed) {
  std::vector<float> l(kV, 1.0f);
  suppress_tokens(l.data(), kV, {0, 19, 25, -3});
  EXPECT_FALSE(allowed(l, 0));
  EXPECT_FALSE(allowed(l, 19));
  EXPECT_TRUE(allowed(l, 1));
}

TEST(TimestampRules, FirstTokenIsEarlyTimestamp) {
  const auto l = run({}, rules(3));
  for (int i = 0; i < kBeg; ++i) EXPECT_FALSE(allowed(l, i)) << i;  // text, EOT, notimestamps
  for (int i = kBeg; i <= kBeg + 3; ++i) EXPECT_TRUE(allowed(l, i)) << i;
  for (int i = kBeg + 4; i < kV; ++i) EXPECT_FALSE(allowed(l, i)) << i;
  const auto unlimited = run({}, rules(-1));
  EXPECT_TRUE(allowed(unlimited, kV - 1));
}

TEST(TimestampRules, AfterOpeningTimestampTextFollows) {
  const auto l = run({kBeg});
  for (int i = kBeg; i < kV; ++i) EXPECT_FALSE(allowed(l, i)) << i;
  EXPECT_TRUE(allowed(l, 0));
  EXPECT_TRUE(allowed(l, kEot));
  EXPECT_FALSE(allowed(l, kNoTs));
}

TEST(TimestampRules, InsideSegmentClosingMustMoveForward) {
  const auto l = run({kBeg + 2, 1});  // <|0.04|> text
  EXPECT_FALSE(allowed(l, kBeg + 2));  // the "+1": a closing timestamp after text is later
  EXPECT_TRUE(allowed(l, kBeg + 3));
  EXPECT_FALSE(allowed(l, kBeg + 1));
  EXPECT_TRUE(allowed(l, 0));
}

TEST(TimestampRules, AfterTextThenTimestampOnlyTimestampOrEot) {
  const auto l = run({kBeg, 1, kBeg + 4});
  for (int i = 0; i < kEot; ++i) EXPECT_FALSE(allowed(l, i)) << i;
  EXPECT_TRUE(allowed(l, kEot));
  EXPECT_FALSE(allowed(l, kBeg + 3));
  EXPECT_TRUE(allowed(l, kBeg + 4));  // a pair may repeat the closing value
  EXPECT_TRUE(allowed(l, kBeg + 5));
}

TEST(TimestampRules, AfterPairTextFollowsAndNextStartIsLater) {
  const auto pair = run({kBeg, 1, kBeg + 4, kBeg + 4});
  for (int i = kBeg; i < kV; ++i) EXPECT_FALSE(allowed(pair, i)) << i;
  EXPECT_TRUE(allowed(pair, 2));
  const auto text = run({kBeg, 1, kBeg + 4, kBeg + 4, 2});
  EXPECT_FALSE(allowed(text, kBeg + 4));
  EXPECT_TRUE(allowed(text, kBeg + 5));
}

TEST(TimestampRules, TimestampMassBeatsBestText) {
  // Three allowed timestamps at 0.5 each: log(3 e^0.5) = 1.60 > 1.0 = best text -> force timestamps.
  std::vector<float> l(kV, -INFINITY);
  l[0] = 1.0f;
  l[1] = 0.2f;
  l[kBeg + 5] = l[kBeg + 6] = l[kBeg + 7] = 0.5f;
  const std::vector<int> sampled = {kBeg, 3};
  apply_timestamp_rules(l.data(), kV, sampled.data(), sampled.size(), rules());
  EXPECT_FALSE(allowed(l, 0));
  EXPECT_FALSE(allowed(l, 1));
  EXPECT_TRUE(allowed(l, kBeg + 5));

  // Two at 0.0: log 2 = 0.69 < 1.0 -> text stays.
  std::vector<float> m(kV, -INFINITY);
  m[0] = 1.0f;
  m[kBeg + 5] = m[kBeg + 6] = 0.0f;
  apply_timestamp_rules(m.data(), kV, sampled.data(), sampled.size(), rules());
  EXPECT_TRUE(allowed(m, 0));
  EXPECT_TRUE(allowed(m, kBeg + 6));
}

TEST(TimestampRules, MaxInitialTimestampIndex) {
  EXPECT_EQ(max_initial_timestamp_index(1.0, 0.02), 50);
  EXPECT_EQ(max_initial_timestamp_index(0.0, 0.02), -1);
  EXPECT_EQ(max_initial_timestamp_index(0.5, 0.02), 25);
}

TEST(LogSoftmax, NormalisesAndKeepsMinusInf) {
  const std::vector<float> l = {0.0f, std::log(3.0f), -INFINITY};
  std::vector<float> out(3);
  log_softmax(l.data(), 3, out.data());
  EXPECT_NEAR(out[0], std::log(0.25f), 1e-6);
  EXPECT_NEAR(out[1], std::log(0.75f), 1e-6);
  EXPECT_TRUE(std::isinf(out[2]));
}

}  // namespace
}  // namespace npw
