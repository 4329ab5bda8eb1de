// Segment splitting and seek advance on crafted token lists (<|0.00|> = 100, text < 100).
#include <gtest/gtest.h>

#include <vector>

#include "decode/seek.h"

namespace npw {
namespace {

constexpr int T = 100;  // timestamp_begin

TEST(Seek, PairsThenSingleTimestampEndingUseWholeWindow) {
  // <0.00> a b <1.00><1.00> c <2.00>
  const std::vector<int> tokens = {T, 1, 2, T + 50, T + 50, 3, T + 100};
  const WindowSplit w = split_window(tokens, T, 3000);
  ASSERT_EQ(w.segments.size(), 2u);
  EXPECT_EQ(w.segments[0].begin, 0u);
  EXPECT_EQ(w.segments[0].end, 4u);
  EXPECT_DOUBLE_EQ(w.segments[0].start, 0.0);
  EXPECT_DOUBLE_EQ(w.segments[0].stop, 1.0);
  EXPECT_EQ(w.segments[1].begin, 4u);
  EXPECT_EQ(w.segments[1].end, 7u);
  EXPECT_DOUBLE_EQ(w.segments[1].start, 1.0);
  EXPECT_DOUBLE_EQ(w.segments[1].stop, 2.0);
  EXPECT_EQ(w.seek_frames, 3000);
}

TEST(Seek, UnfinishedTailSeeksToLastTimestamp) {
  // <0.00> a <1.00><1.20> b   (b never closed)
  const std::vector<int> tokens = {T, 1, T + 50, T + 60, 2};
  const WindowSplit w = split_window(tokens, T, 3000);
  ASSERT_EQ(w.segments.size(), 1u);
  EXPECT_EQ(w.segments[0].end, 3u);
  EXPECT_DOUBLE_EQ(w.segments[0].stop, 1.0);
  EXPECT_EQ(w.seek_frames, 100);  // <1.00> = 50 steps of 2 frames
}

TEST(Seek, OpeningTimestampWithoutTextSeeksThere) {
  // <0.00> a <1.00><1.20>   (ends on a pair-opening timestamp: no single-timestamp ending)
  const std::vector<int> tokens = {T, 1, T + 50, T + 60};
  const WindowSplit w = split_window(tokens, T, 3000);
  ASSERT_EQ(w.segments.size(), 1u);
  EXPECT_EQ(w.seek_frames, 100);
}

TEST(Seek, NoPairUsesLastTimestampAsDuration) {
  const WindowSplit w = split_window({T, 1, 2, T + 40}, T, 3000);
  ASSERT_EQ(w.segments.size(), 1u);
  EXPECT_EQ(w.segments[0].end, 4u);
  EXPECT_DOUBLE_EQ(w.segments[0].start, 0.0);
  EXPECT_DOUBLE_EQ(w.segments[0].stop, 0.8);
  EXPECT_EQ(w.seek_frames, 3000);
}

TEST(Seek, NoTimestampsCoverTheAudioInTheWindow) {
  const WindowSplit w = split_window({1, 2, 3}, T, 1500);
  ASSERT_EQ(w.segments.size(), 1u);
  EXPECT_DOUBLE_EQ(w.segments[0].stop, 15.0);
  EXPECT_EQ(w.seek_frames, 1500);
  // Only <|0.00|>: no duration information either.
  EXPECT_DOUBLE_EQ(split_window({T, 1}, T, 1500).segments[0].stop, 15.0);
}

TEST(Seek, NeverStandsStill) {
  const WindowSplit w = split_window({T, T, 1}, T, 3000);
  EXPECT_EQ(w.seek_frames, 3000);
}

TEST(Seek, KeepUnfinishedMakesTheTailALastSegmentToTheEndOfTheAudio) {
  // <0.00> a <1.00><1.20> b   (b never closed), live: kept, the whole window used
  const std::vector<int> tokens = {T, 1, T + 50, T + 60, 2};
  const WindowSplit w = split_window(tokens, T, 500, 0.02, 2, true);
  ASSERT_EQ(w.segments.size(), 2u);
  EXPECT_EQ(w.segments[1].begin, 3u);
  EXPECT_EQ(w.segments[1].end, 5u);
  EXPECT_DOUBLE_EQ(w.segments[1].start, 1.2);
  EXPECT_DOUBLE_EQ(w.segments[1].stop, 5.0);  // 500 frames of audio
  EXPECT_EQ(w.seek_frames, 500);
  // A closed window is the same either way.
  const WindowSplit closed = split_window({T, 1, T + 50, T + 50, 3, T + 100}, T, 3000, 0.02, 2, true);
  EXPECT_EQ(closed.segments.size(), 2u);
  EXPECT_EQ(closed.seek_frames, 3000);
}

}  // namespace
}  // namespace npw
