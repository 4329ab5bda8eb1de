// The voice gate: the hysteresis on exact frame sequences, and the WebRTC VAD behind it on the
// bundled clips and on synthesised speech/silence/noise sequences. The gate must hand every sample
// back in order, open on speech, close after the silence bound, and stay shut on silence.
#include "stream/voice_gate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "audio/wav.h"
#include "util/error.h"

namespace npw {
namespace {

std::vector<float> clip(const std::string& name) {
  return read_wav(std::string(NPW_TEST_DATA_DIR) + "/audio/" + name).samples;
}

struct GateRun {
  std::vector<float> out;           // all samples handed back, in order
  std::vector<bool> speech;         // per sample
  int utterances = 0;
  std::size_t first_speech = SIZE_MAX;
};

GateRun run_gate(const std::vector<float>& in, GateSettings s = {}, std::size_t chunk = 1234) {
  VoiceGate g(s);
  std::vector<GateChunk> chunks;
  for (std::size_t i = 0; i < in.size(); i += chunk) g.push(in.data() + i, std::min(chunk, in.size() - i), chunks);
  g.drain(chunks);
  GateRun r;
  for (const GateChunk& c : chunks) {
    if (c.utterance_end) ++r.utterances;
    if (c.speech && r.first_speech == SIZE_MAX) r.first_speech = r.out.size();
    r.out.insert(r.out.end(), c.samples.begin(), c.samples.end());
    r.speech.insert(r.speech.end(), c.samples.size(), c.speech);
  }
  return r;
}

TEST(Hysteresis, OpensAfterStartFramesAndClosesAfterEndFrames) {
  Hysteresis h(3, 5);
  for (bool f : {true, true, false, true, true}) EXPECT_FALSE(h.update(f));  // a broken run does not open
  EXPECT_TRUE(h.update(true));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(h.update(false));
  EXPECT_TRUE(h.update(true));  // a pause shorter than the end bound keeps it open
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(h.update(false));
  EXPECT_FALSE(h.update(false));
  h.update(true);
  h.reset();
  EXPECT_FALSE(h.open());
}

TEST(VoiceGate, SettingsOutOfRangeAreRefusedByName) {
  GateSettings s;
  s.end_ms = 50;
  try {
    VoiceGate g(s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("end_ms"), std::string::npos);
  }
  s = GateSettings{};
  s.aggressiveness = 4;
  EXPECT_THROW(VoiceGate{s}, Error);
  EXPECT_THROW(WebRtcVad(-1), Error);
}

TEST(WebRtcVad, RefusesOddFrameLengths) {
  WebRtcVad v(2);
  std::vector<float> f(200, 0.0f);
  EXPECT_THROW(v.is_speech(f.data(), f.size()), Error);
  EXPECT_FALSE(v.is_speech(f.data(), 160));
}

TEST(VoiceGate, SilenceStaysShutAndEverySampleComesBack) {
  const auto in = clip("silence30.wav");
  const GateRun r = run_gate(in);
  EXPECT_EQ(r.out, in);
  EXPECT_EQ(r.first_speech, SIZE_MAX);
  EXPECT_EQ(r.utterances, 0);
}

TEST(VoiceGate, LowLevelNoiseStaysShut) {
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0.0f, 0.003f);  // about -50 dBFS: a quiet room
  std::vector<float> in(30 * 16000);
  for (float& v : in) v = n(rng);
  const GateRun r = run_gate(in);
  EXPECT_EQ(r.out.size(), in.size());
  EXPECT_EQ(r.first_speech, SIZE_MAX);
}

TEST(VoiceGate, SpeechBetweenSilencesOpensWithPaddingAndClosesAfterTheEndBound) {
  const auto jfk = clip("jfk.wav");
  std::vector<float> in(2 * 16000, 0.0f);
  in.insert(in.end(), jfk.begin() + 16000, jfk.begin() + 3 * 16000);  // 2 s of speech at 2.0 s
  in.insert(in.end(), 3 * 16000, 0.0f);
  GateSettings s;
  const GateRun r = run_gate(in, s, 777);
  EXPECT_EQ(r.out, in);
  ASSERT_NE(r.first_speech, SIZE_MAX);
  // Speech starts at 2.0 s; the gate opens after start_ms of it, handing back padding_ms before.
  EXPECT_LE(r.first_speech, static_cast<std::size_t>((2.0 - s.padding_ms / 1000.0 + 0.05) * 16000));
  EXPECT_GE(r.first_speech, static_cast<std::size_t>((2.0 - s.padding_ms / 1000.0 - 0.3) * 16000));
  EXPECT_EQ(r.utterances, 1);
  // The gate is shut again well before the end: the last speech sample is within end_ms (+ a frame
  // of decision slack) of the speech end at 4.0 s.
  std::size_t last = 0;
  for (std::size_t i = 0; i < r.speech.size(); ++i)
    if (r.speech[i]) last = i;
  EXPECT_GE(last, static_cast<std::size_t>(4.0 * 16000 - 400 * 16));
  EXPECT_LE(last, static_cast<std::size_t>((4.0 + s.end_ms / 1000.0 + 0.1) * 16000));
}

TEST(VoiceGate, BundledSpeechClipOpensTheGate) {
  const auto in = clip("jfk.wav");
  const GateRun r = run_gate(in);
  EXPECT_EQ(r.out, in);
  ASSERT_NE(r.first_speech, SIZE_MAX);
  std::size_t speech = 0;
  for (bool b : r.speech) speech += b;
  EXPECT_GT(speech, in.size() / 2);  // JFK talks for most of the 11 s
}

}  // namespace
}  // namespace npw
