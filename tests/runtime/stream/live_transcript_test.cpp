// The live transcript over a scripted recogniser: every word committed once and in order, the
// buffer trimmed at segment ends, the prompt made of committed text that left the buffer (at most
// 200 characters, dropped after a hot fallback), the forced commit of a buffer reaching 30 s.
#include "stream/live_transcript.h"

#include <gtest/gtest.h>

#include "scripted_recognizer.h"

namespace npw {
namespace {

using testing::indexed_audio;
using testing::make_script;
using testing::ScriptedRecognizer;

constexpr std::size_t kStep = 8000;  // 0.5 s

std::vector<Word> run(LiveTranscript& lt, std::size_t total, std::size_t* max_buffer = nullptr) {
  std::vector<Word> out;
  for (std::size_t t = 0; t < total; t += kStep) {
    const auto a = indexed_audio(t, kStep);
    lt.append(a.data(), a.size());
    for (Word& w : lt.step()) out.push_back(w);
    if (max_buffer) *max_buffer = std::max(*max_buffer, lt.buffered());
  }
  for (Word& w : lt.finish()) out.push_back(w);
  return out;
}

TEST(LiveTranscript, EveryWordCommittedOnceInOrder) {
  const auto script = make_script(40);
  ScriptedRecognizer rec(script);
  LiveTranscript lt(rec, LiveSettings{});
  const auto out = run(lt, static_cast<std::size_t>((script.back().end + 1.0) * 16000));
  ASSERT_EQ(out.size(), script.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].word, script[i].text) << i;
    EXPECT_NEAR(out[i].start, script[i].start, 1e-6);
  }
}

TEST(LiveTranscript, BufferIsTrimmedAtSegmentEndsAndThePromptIsCommittedTextThatLeftIt) {
  const auto script = make_script(120);  // 60 s of speech
  ScriptedRecognizer rec(script);
  LiveSettings s;
  s.trim_seconds = 10.0;
  LiveTranscript lt(rec, s);
  std::size_t max_buffer = 0;
  const auto out = run(lt, static_cast<std::size_t>((script.back().end + 1.0) * 16000), &max_buffer);
  EXPECT_EQ(out.size(), script.size());
  EXPECT_LE(max_buffer, static_cast<std::size_t>(14 * 16000));  // trim bound + a sentence + a step
  EXPECT_EQ(lt.overflows(), 0u);
  const std::string& last = rec.prompts.back();
  ASSERT_FALSE(last.empty());
  EXPECT_LE(last.size(), 200u);
  EXPECT_EQ(last.front(), ' ');  // starts at a word
  EXPECT_NE(last.find(" w100"), std::string::npos);  // recent committed text...
  EXPECT_EQ(last.find(" w119"), std::string::npos);  // ...but not what is still in the buffer
  EXPECT_TRUE(rec.prompts.front().empty());
}

TEST(LiveTranscript, HotFallbackDropsThePrompt) {
  const auto script = make_script(80);
  ScriptedRecognizer rec(script);
  LiveSettings s;
  s.trim_seconds = 5.0;
  LiveTranscript lt(rec, s);
  std::size_t t = 0;
  for (; t < 25 * 16000; t += kStep) {
    const auto a = indexed_audio(t, kStep);
    lt.append(a.data(), a.size());
    lt.step();
  }
  ASSERT_FALSE(lt.prompt().empty());
  rec.temperature = 0.8f;
  auto a = indexed_audio(t, kStep);
  lt.append(a.data(), a.size());
  lt.step();
  EXPECT_TRUE(lt.prompt().empty());
  rec.temperature = 0.0f;
  // Text committed after the fallback becomes the prompt again once it leaves the buffer.
  for (t += kStep; t < 40 * 16000; t += kStep) {
    a = indexed_audio(t, kStep);
    lt.append(a.data(), a.size());
    lt.step();
  }
  EXPECT_FALSE(lt.prompt().empty());
}

// Garbles everything: two hypotheses never agree and no segment closes.
class Babbler : public Recognizer {
 public:
  WindowResult recognize(const float* samples, std::size_t n, const HypothesisOptions&) override {
    ++calls;
    WindowResult r;
    Segment seg;
    seg.start = 0.0;
    seg.end = static_cast<double>(n) / 16000.0;
    for (double t = 0.0; t + 0.5 < seg.end; t += 0.5) {
      Word w{" b" + std::to_string(calls), {}, t, t + 0.4, 0.5f};
      seg.text += w.word;
      seg.words.push_back(w);
    }
    (void)samples;
    r.segments.push_back(seg);
    return r;
  }
  int calls = 0;
};

TEST(LiveTranscript, ABufferPastThirtySecondsCommitsWhatItHasAndShrinks) {
  Babbler rec;
  LiveTranscript lt(rec, LiveSettings{});
  std::vector<Word> committed;
  for (std::size_t t = 0; t < 31 * 16000; t += kStep) {
    const auto a = indexed_audio(t, kStep);
    lt.append(a.data(), a.size());
    for (const Word& w : lt.step()) committed.push_back(w);
  }
  EXPECT_EQ(lt.overflows(), 1u);
  EXPECT_FALSE(committed.empty());
  EXPECT_LE(lt.buffered(), LiveTranscript::kMaxBuffer);
  for (std::size_t i = 1; i < committed.size(); ++i) EXPECT_GE(committed[i].start, committed[i - 1].start);
}

TEST(LiveTranscript, SkipMovesTimeWithoutAudio) {
  const auto script = make_script(4, 10.5);
  ScriptedRecognizer rec(script);
  LiveTranscript lt(rec, LiveSettings{});
  lt.skip(10 * 16000);
  EXPECT_EQ(lt.buffer_start(), 10u * 16000);
  std::vector<Word> out;
  for (std::size_t t = 10 * 16000; t < 14 * 16000; t += kStep) {
    const auto a = indexed_audio(t, kStep);
    lt.append(a.data(), a.size());
    for (const Word& w : lt.step()) out.push_back(w);
  }
  for (const Word& w : lt.finish()) out.push_back(w);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_NEAR(out[0].start, 10.5, 1e-6);
  EXPECT_EQ(lt.buffered(), 0u);
}

}  // namespace
}  // namespace npw
