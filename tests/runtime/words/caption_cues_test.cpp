// Caption shaping as OpenAI's SubtitlesWriter.iterate_result does it, cue by cue on a crafted
// segment, plus the cue-duration limit and the SRT / WebVTT text.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decode/caption_cues.h"
#include "util/error.h"

namespace npw {
namespace {

Segment sentence() {
  Segment s;
  s.start = 0.0;
  s.end = 3.0;
  s.text = " Hello world this is a test.";
  const char* words[] = {" Hello", " world", " this", " is", " a", " test."};
  for (int i = 0; i < 6; ++i) {
    Word w;
    w.word = words[i];
    w.start = 0.5 * i;
    w.end = 0.5 * (i + 1);
    s.words.push_back(w);
  }
  return s;
}

std::vector<std::string> texts(const std::vector<Cue>& cues) {
  std::vector<std::string> out;
  for (const Cue& c : cues) out.push_back(c.text);
  return out;
}

TEST(CaptionCues, NoLimitsOneCuePerSegment) {
  const auto cues = shape_cues({sentence(), sentence()}, {});
  EXPECT_EQ(texts(cues), (std::vector<std::string>{"Hello world this is a test.", "Hello world this is a test."}));
  EXPECT_EQ(cues[0].start, 0.0);
  EXPECT_EQ(cues[0].end, 3.0);
  EXPECT_EQ(cues[0].words.size(), 6u);
}

TEST(CaptionCues, LineWidthAndCount) {
  CueLimits l;
  l.max_line_width = 12;
  l.max_line_count = 2;
  const auto cues = shape_cues({sentence()}, l);
  EXPECT_EQ(texts(cues), (std::vector<std::string>{"Hello world\nthis is a", "test."}));
  EXPECT_DOUBLE_EQ(cues[0].end, 2.5);
  EXPECT_DOUBLE_EQ(cues[1].start, 2.5);
}

// Segments of `words` each, 0.5 s a word, the first starting at `t0[i]`.
std::vector<Segment> segments(const std::vector<std::vector<const char*>>& words, const std::vector<double>& t0) {
  std::vector<Segment> out;
  for (std::size_t s = 0; s < words.size(); ++s) {
    Segment seg;
    seg.start = t0[s];
    seg.end = t0[s] + 0.5 * static_cast<double>(words[s].size());
    for (std::size_t i = 0; i < words[s].size(); ++i) {
      Word w;
      w.word = words[s][i];
      w.start = t0[s] + 0.5 * static_cast<double>(i);
      w.end = w.start + 0.5;
      seg.text += w.word;
      seg.words.push_back(w);
    }
    out.push_back(seg);
  }
  return out;
}

struct Span {
  double start, end;
  std::string text;
  std::size_t segment;
  bool operator==(const Span& o) const {
    return start == o.start && end == o.end && text == o.text && segment == o.segment;
  }
};

std::vector<Span> spans(const std::vector<Cue>& cues) {
  std::vector<Span> out;
  for (const Cue& c : cues) out.push_back({c.start, c.end, c.text, c.segment});
  return out;
}

// The expected cues below are what OpenAI's SubtitlesWriter.iterate_result gives for the same
// segments (whisper 20250625).
TEST(CaptionCues, WordsFlowAcrossSegmentsWithWidthAndCount) {
  const auto two = segments({{" Hello", " world", " this"}, {" is", " a", " test."}}, {0.0, 1.5});
  CueLimits l;
  l.max_line_width = 12;
  l.max_line_count = 2;
  EXPECT_EQ(spans(shape_cues(two, l)), (std::vector<Span>{{0.0, 2.5, "Hello world\nthis is a", 0}, {2.5, 3.0, "test.", 1}}));
  // The words of the cue come from both segments.
  EXPECT_EQ(shape_cues(two, l)[0].words.size(), 5u);

  const auto three = segments({{" One", " two"}, {" three"}, {" four", " five", " six"}}, {0.0, 1.0, 1.5});
  l.max_line_width = 9;
  l.max_line_count = 3;
  EXPECT_EQ(spans(shape_cues(three, l)),
            (std::vector<Span>{{0.0, 2.5, "One two\nthree\nfour five", 0}, {2.5, 3.0, "six", 2}}));
}

TEST(CaptionCues, SegmentsPreservedWithoutBothLimits) {
  const auto two = segments({{" Hello", " world", " this"}, {" is", " a", " test."}}, {0.0, 1.5});
  CueLimits width;
  width.max_line_width = 12;
  EXPECT_EQ(spans(shape_cues(two, width)),
            (std::vector<Span>{{0.0, 1.5, "Hello world\nthis", 0}, {1.5, 3.0, "is a test.", 1}}));
  CueLimits words;
  words.max_words_per_line = 2;
  const std::vector<Span> chunks = {{0.0, 1.0, "Hello world", 0}, {1.0, 1.5, "this", 0}, {1.5, 2.5, "is a", 1},
                                    {2.5, 3.0, "test.", 1}};
  EXPECT_EQ(spans(shape_cues(two, words)), chunks);
  words.max_line_count = 2;  // a count without a width still preserves segments
  EXPECT_EQ(spans(shape_cues(two, words)), chunks);
}

TEST(CaptionCues, LongPauseStartsACueAcrossSegments) {
  const auto apart = segments({{" Hello", " world", " this"}, {" is", " a", " test."}}, {0.0, 6.0});
  CueLimits l;
  l.max_line_width = 40;
  l.max_line_count = 2;
  EXPECT_EQ(spans(shape_cues(apart, l)),
            (std::vector<Span>{{0.0, 1.5, "Hello world this", 0}, {6.0, 7.5, "is a test.", 1}}));
  // Our duration limit also holds across segments.
  const auto close = segments({{" Hello", " world", " this"}, {" is", " a", " test."}}, {0.0, 1.5});
  l.max_cue_duration = 2.0;
  for (const Cue& c : shape_cues(close, l)) EXPECT_LE(c.end - c.start, 2.0) << c.text;
  EXPECT_EQ(texts(shape_cues(close, l)), (std::vector<std::string>{"Hello world this is", "a test."}));
}

TEST(CaptionCues, WordsPerLine) {
  CueLimits l;
  l.max_words_per_line = 2;
  EXPECT_EQ(texts(shape_cues({sentence()}, l)), (std::vector<std::string>{"Hello world", "this is", "a test."}));
}

TEST(CaptionCues, CueDuration) {
  CueLimits l;
  l.max_cue_duration = 1.2;
  EXPECT_EQ(texts(shape_cues({sentence()}, l)), (std::vector<std::string>{"Hello world", "this is", "a test."}));
  Segment one;
  one.start = 0;
  one.end = 5;
  one.text = " long";
  Word w;
  w.word = " long";
  w.end = 5.0;
  one.words = {w};
  const auto cues = shape_cues({one}, l);
  ASSERT_EQ(cues.size(), 1u);
  EXPECT_DOUBLE_EQ(cues[0].end, 1.2) << "a word longer than the limit is cut short";
}

TEST(CaptionCues, SegmentsWithoutWords) {
  Segment s;
  s.start = 1.0;
  s.end = 2.0;
  s.text = " a --> b ";
  const auto cues = shape_cues({s}, {});
  EXPECT_EQ(texts(cues), (std::vector<std::string>{"a -> b"}));
}

TEST(CaptionCues, Documents) {
  EXPECT_EQ(caption_timestamp(3725.25, true, ','), "01:02:05,250");
  EXPECT_EQ(caption_timestamp(75.5, false, '.'), "01:15.500");
  EXPECT_EQ(caption_timestamp(0.0005, false, '.'), "00:00.000");  // half a millisecond: ties to even
  Cue c;
  c.start = 1.0;
  c.end = 2.5;
  c.text = "Hi\nthere";
  EXPECT_EQ(srt_document({c}), "1\n00:00:01,000 --> 00:00:02,500\nHi\nthere\n\n");
  EXPECT_EQ(vtt_document({c}), "WEBVTT\n\n00:01.000 --> 00:02.500\nHi\nthere\n\n");
}

// A blank line ends a cue in SRT and WebVTT, and a "-->" line reads as a timing line: text a model
// can emit (GPT-2 has "\n\n" and " -->" tokens) must not break the file. OpenAI's writers let both
// through on the word path, and turn "--->" into "-->" on the segment path.
TEST(CaptionCues, DocumentsNeverBreakACue) {
  Cue c;
  c.start = 1.0;
  c.end = 2.0;
  c.text = " Hi\n\nthere --> over\r\n \t\rhere\r";
  EXPECT_EQ(srt_document({c}), "1\n00:00:01,000 --> 00:00:02,000\nHi\nthere -> over\nhere\n\n");
  EXPECT_EQ(vtt_document({c}), "WEBVTT\n\n00:01.000 --> 00:02.000\nHi\nthere -> over\nhere\n\n");
  EXPECT_EQ(caption_text(c.text), "Hi\nthere -> over\nhere");
  EXPECT_EQ(caption_text(" Plain text, stripped. "), "Plain text, stripped.");
  EXPECT_EQ(caption_text("\u3000\n \t"), "");
  c.text = "a --->---> b";
  EXPECT_EQ(srt_document({c}), "1\n00:00:01,000 --> 00:00:02,000\na ->-> b\n\n");
  // On the segment path too, where OpenAI's single replace leaves "-->".
  Segment s;
  s.start = 1.0;
  s.end = 2.0;
  s.text = " x ---> y\n\n\nz ";
  EXPECT_EQ(vtt_document(shape_cues({s}, {})), "WEBVTT\n\n00:01.000 --> 00:02.000\nx -> y\nz\n\n");
  // And words: the joined words of a cue keep their lines, blank ones gone.
  Segment w = s;
  Word a, b;
  a.word = " one\n\nmore";
  a.start = 1.0;
  a.end = 1.5;
  b.word = "-->two";
  b.start = 1.5;
  b.end = 2.0;
  w.words = {a, b};
  EXPECT_EQ(srt_document(shape_cues({w}, {})), "1\n00:00:01,000 --> 00:00:02,000\none\nmore->two\n\n");
  // A cue with nothing to show is not written; SRT numbers the cues it writes.
  Cue blank = c, last = c;
  blank.text = " \n\r\n\t";
  last.text = "end";
  EXPECT_EQ(srt_document({blank, last}), "1\n00:00:01,000 --> 00:00:02,000\nend\n\n");
  EXPECT_EQ(vtt_document({blank}), "WEBVTT\n\n");
}

TEST(CaptionCues, LimitsValidated) {
  CueLimits l;
  l.max_line_width = -1;
  EXPECT_THROW(validate_cue_limits(l), Error);
  l = {};
  l.max_cue_duration = -2;
  EXPECT_THROW(validate_cue_limits(l), Error);
  l.max_cue_duration = 7;
  EXPECT_NO_THROW(validate_cue_limits(l));
}

}  // namespace
}  // namespace npw
