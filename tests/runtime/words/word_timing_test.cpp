// add_word_timestamps' adjustments and transcribe()'s word-based seeking on crafted word lists,
// each rule with numbers worked out by hand from whisper/timing.py and transcribe.py.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decode/hallucination_filter.h"
#include "decode/punctuation_merge.h"
#include "decode/word_timing.h"

namespace npw {
namespace {

constexpr int kEot = 50256;

Word w(const std::string& text, int token, double start, double end, float p = 0.9f) {
  Word x;
  x.word = text;
  x.tokens = {token};
  x.start = start;
  x.end = end;
  x.probability = p;
  return x;
}

Segment seg(double start, double end, std::vector<int> tokens) {
  Segment s;
  s.start = start;
  s.end = end;
  s.tokens = std::move(tokens);
  return s;
}

const WordTimingSettings kDefaults{kDefaultPrependPunctuations, kDefaultAppendPunctuations};

TEST(RoundCentis, AsPythonRound) {
  EXPECT_EQ(round_centis(0.125), 0.12);  // exact tie: to even
  EXPECT_EQ(round_centis(0.375), 0.38);
  EXPECT_EQ(round_centis(2.675), 2.67);  // 2.675 is a little below in binary
  EXPECT_EQ(round_centis(0.545), 0.55);  // a little above
  EXPECT_EQ(round_centis(10.0 + 0.54), 10.54);
  EXPECT_EQ(round_centis(-1.005), -1.0);
}

TEST(WordTiming, SentenceEndsAreTruncatedAndPunctuationMerged) {
  std::vector<Segment> s = {seg(10.0, 14.2, {1, 2, 3, 4, 5, kEot + 100})};
  std::vector<Word> a = {w(" one", 1, 0.0, 0.2), w(" two", 2, 0.2, 0.4), w(".", 3, 0.4, 2.0),
                         w(" three", 4, 2.0, 4.0), w(" four", 5, 4.0, 4.2)};
  // median of the durations 0.2 0.2 1.6 2.0 0.2 = 0.2; words over 0.4 s at a sentence end are cut
  add_word_timestamps(s, a, 10.0, kDefaults, kEot, 10.0);
  ASSERT_EQ(s[0].words.size(), 4u);
  EXPECT_EQ(s[0].words[1].word, " two.");
  EXPECT_EQ(s[0].words[1].tokens, (std::vector<int>{2, 3}));
  EXPECT_DOUBLE_EQ(s[0].words[1].end, 10.4);
  EXPECT_DOUBLE_EQ(s[0].words[2].start, 13.6);  // after ".": start = end - 0.4
  EXPECT_DOUBLE_EQ(s[0].words[2].end, 14.0);
  EXPECT_DOUBLE_EQ(s[0].start, 10.0);
  EXPECT_DOUBLE_EQ(s[0].end, 14.2);
}

TEST(WordTiming, FirstWordAfterAPauseIsShortened) {
  std::vector<Segment> s = {seg(5.0, 8.4, {1, 2, 3})};
  std::vector<Word> a = {w(" a", 1, 5.0, 8.0), w(" b", 2, 8.0, 8.2), w(" c", 3, 8.2, 8.4)};
  // median 0.2, max 0.4; 8.0 s since the last speech > 4 x 0.2 and the word lasts 3 s > 0.4
  add_word_timestamps(s, a, 0.0, kDefaults, kEot, 0.0);
  EXPECT_DOUBLE_EQ(s[0].words[0].start, 7.6);
  EXPECT_DOUBLE_EQ(s[0].start, 7.6) << "the segment starts with its first word";
}

TEST(WordTiming, PauseBoundaryBetweenTwoLongWords) {
  std::vector<Segment> s = {seg(0.0, 9.0, {1, 2, 3, 4})};
  std::vector<Word> a = {w(" a", 1, 2.0, 5.0), w(" b", 2, 5.0, 8.0), w(" c", 3, 8.0, 8.2), w(" d", 4, 8.2, 8.4)};
  // durations 3 3 0.2 0.2: median 1.6 -> capped 0.7, max 1.4; both first words exceed it
  add_word_timestamps(s, a, 0.0, kDefaults, kEot, 0.0);
  // boundary = max(8.0 / 2, 8.0 - 1.4) = 6.6; first word start = 6.6 - 1.4
  EXPECT_DOUBLE_EQ(s[0].words[0].end, 6.6);
  EXPECT_DOUBLE_EQ(s[0].words[1].start, 6.6);
  EXPECT_NEAR(s[0].words[0].start, 5.2, 1e-12);
}

TEST(WordTiming, SegmentBoundsPreferredWhenWordsOvershoot) {
  // The first word starts 2 s before the segment's timestamp: it is pulled to the segment start.
  std::vector<Segment> s = {seg(3.0, 3.9, {1, 2, 3})};
  std::vector<Word> a = {w(" a", 1, 1.0, 3.5), w(" b", 2, 3.5, 3.7), w(" c", 3, 3.7, 3.9)};
  add_word_timestamps(s, a, 0.0, kDefaults, kEot, 3.0);
  EXPECT_DOUBLE_EQ(s[0].words[0].start, 3.0);
  EXPECT_DOUBLE_EQ(s[0].start, 3.0);
  // The last word ends 2 s after the segment's timestamp: it ends at the segment end.
  std::vector<Segment> e = {seg(0.0, 1.0, {1, 2, 3})};
  std::vector<Word> b = {w(" a", 1, 0.0, 0.2), w(" b", 2, 0.2, 0.4), w(" c", 3, 0.4, 3.0)};
  add_word_timestamps(e, b, 0.0, kDefaults, kEot, 0.0);
  EXPECT_DOUBLE_EQ(e[0].words[2].end, 1.0);
  EXPECT_DOUBLE_EQ(e[0].end, 1.0);
  // Within 0.5 s the words win.
  std::vector<Segment> f = {seg(0.0, 2.8, {1, 2, 3})};
  add_word_timestamps(f, b, 0.0, kDefaults, kEot, 0.0);
  EXPECT_DOUBLE_EQ(f[0].end, 3.0);
}

TEST(WordTiming, WordsAreSharedOutBySegmentTokens) {
  std::vector<Segment> s = {seg(0.0, 1.0, {kEot + 107, 1, 2, kEot + 157}), seg(1.0, 2.0, {kEot + 157, 3, kEot + 207})};
  std::vector<Word> a = {w(" a", 1, 0.0, 0.5), w(" b", 2, 0.5, 1.0), w(" c", 3, 1.0, 2.0)};
  add_word_timestamps(s, a, 30.0, kDefaults, kEot, 30.0);
  ASSERT_EQ(s[0].words.size(), 2u);
  ASSERT_EQ(s[1].words.size(), 1u);
  EXPECT_EQ(s[1].words[0].word, " c");
  EXPECT_DOUBLE_EQ(s[1].words[0].start, 31.0);
  double end = 0;
  ASSERT_TRUE(last_word_end(s, end));
  EXPECT_DOUBLE_EQ(end, 32.0);
}

TEST(WordTiming, KeepWordsInside) {
  Segment s = seg(1.0, 2.0, {});
  s.words = {w(" a", 1, 0.8, 1.5), w(" b", 2, 1.4, 2.3)};
  keep_words_inside(s, 1.9);
  EXPECT_DOUBLE_EQ(s.words[0].start, 1.0);
  EXPECT_DOUBLE_EQ(s.words[1].start, 1.5);
  EXPECT_DOUBLE_EQ(s.words[1].end, 1.9);
}

TEST(Anomaly, WordScore) {
  EXPECT_NEAR(word_anomaly_score(w(" a", 1, 0.0, 0.05, 0.1f)), 1.0 + (0.133 - 0.05) * 15, 1e-9);
  EXPECT_NEAR(word_anomaly_score(w(" a", 1, 0.0, 3.0, 0.5f)), 1.0, 1e-9);
  EXPECT_EQ(word_anomaly_score(w(" a", 1, 0.0, 0.5, 0.9f)), 0.0);
}

TEST(Anomaly, Segment) {
  Segment s = seg(0, 1, {});
  EXPECT_FALSE(is_segment_anomaly(nullptr));
  EXPECT_FALSE(is_segment_anomaly(&s));
  s.words = {w(" a", 1, 0.0, 0.5), w(" b", 2, 0.5, 1.0), w(" c", 3, 1.0, 1.5)};
  EXPECT_FALSE(is_segment_anomaly(&s));
  s.words = {w(" a", 1, 0.0, 0.5, 0.1f), w(" b", 2, 0.5, 1.0, 0.1f), w(",", 3, 1.0, 1.5)};
  EXPECT_TRUE(is_segment_anomaly(&s)) << "two improbable words, the comma not counted";
  s.words = {w(" a", 1, 0.0, 0.5, 0.1f), w(" b", 2, 0.5, 1.0), w(" c", 3, 1.0, 1.5), w(" d", 4, 1.5, 2.0)};
  EXPECT_FALSE(is_segment_anomaly(&s));
}

TEST(WordSeek, NextWindowStartsAtTheLastWord) {
  std::vector<Segment> s = {seg(10.0, 12.34, {1})};
  s[0].words = {w(" a", 1, 10.0, 12.34)};
  WordSeekWindow win;
  win.previous_seek = 1000;
  win.segment_size = 3000;
  win.content_frames = 9000;
  win.time_offset = 10.0;
  win.window_end_time = 40.0;
  win.segment_duration = 30.0;
  win.content_duration = 90.0;
  EXPECT_EQ(apply_word_seek(s, 2000, win).seek, 1234);
  win.single_timestamp_ending = true;
  EXPECT_EQ(apply_word_seek(s, 4000, win).seek, 4000);
}

TEST(WordSeek, HallucinationAfterSilenceIsSkipped) {
  WordSeekWindow win;
  win.previous_seek = 1000;
  win.segment_size = 3000;
  win.content_frames = 9000;
  win.time_offset = 10.0;
  win.window_end_time = 40.0;
  win.segment_duration = 30.0;
  win.content_duration = 90.0;
  win.hallucination_silence_threshold = 2.0f;
  win.last_speech_timestamp = 10.0;
  // First segment improbable and 5 s into the window: the window is dropped, the next starts there.
  std::vector<Segment> s = {seg(15.0, 16.0, {1})};
  s[0].words = {w(" a", 1, 15.0, 15.05, 0.01f)};
  WordSeek r = apply_word_seek(s, 4000, win);
  EXPECT_TRUE(r.skip);
  EXPECT_EQ(r.seek, 1500);
  // A good segment, then an improbable one surrounded by silence: that one and the rest go.
  std::vector<Segment> t = {seg(10.0, 12.0, {1}), seg(20.0, 21.0, {2}), seg(21.0, 22.0, {3})};
  t[0].words = {w(" a", 1, 10.0, 11.0), w(" b", 1, 11.0, 12.0)};
  t[1].words = {w(" x", 2, 20.0, 20.05, 0.01f)};
  t[2].words = {w(" y", 3, 21.0, 21.05, 0.01f)};
  r = apply_word_seek(t, 4000, win);
  EXPECT_FALSE(r.skip);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(r.seek, 2000);
  // Off: nothing but the word seek.
  win.hallucination_silence_threshold = -1.0f;
  std::vector<Segment> u = {seg(15.0, 16.0, {1})};
  u[0].words = {w(" a", 1, 15.0, 15.05, 0.01f)};
  r = apply_word_seek(u, 4000, win);
  EXPECT_FALSE(r.skip);
  EXPECT_EQ(r.seek, 1505);
}

}  // namespace
}  // namespace npw
