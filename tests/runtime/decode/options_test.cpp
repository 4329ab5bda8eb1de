// Options::validate(): OpenAI's defaults pass, and each bad field is refused with its name.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "decode/language.h"
#include "decode/options.h"
#include "util/error.h"

namespace npw {
namespace {

void expect_invalid(const std::function<void(Options&)>& change, const std::string& field) {
  Options o;
  change(o);
  try {
    o.validate();
    FAIL() << "accepted a bad " << field;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(Options, DefaultsAreValid) { EXPECT_NO_THROW(Options().validate()); }

// The defaults of OpenAI's `whisper` command (whisper/transcribe.py cli() and DecodingOptions).
TEST(Options, DefaultsAreOpenAIs) {
  const Options o;
  EXPECT_EQ(o.language, "auto");
  EXPECT_FALSE(o.translate);
  EXPECT_TRUE(o.timestamps);
  EXPECT_EQ(o.beam_size, 5);
  EXPECT_FLOAT_EQ(o.patience, 1.0f);
  EXPECT_LT(o.length_penalty, 0.0f);  // None: plain length normalisation
  EXPECT_EQ(o.best_of, 5);
  ASSERT_EQ(o.temperatures.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_NEAR(o.temperatures[i], 0.2 * static_cast<double>(i), 1e-6) << i;
  EXPECT_FLOAT_EQ(o.compression_ratio_threshold, 2.4f);
  EXPECT_TRUE(o.logprob_threshold_enabled);
  EXPECT_FLOAT_EQ(o.logprob_threshold, -1.0f);
  EXPECT_FLOAT_EQ(o.no_speech_threshold, 0.6f);
  EXPECT_TRUE(o.condition_on_previous_text);
  EXPECT_EQ(o.initial_prompt, "");
  EXPECT_TRUE(o.suppress_blank);
  EXPECT_EQ(o.suppress_tokens, "-1");
  EXPECT_FLOAT_EQ(o.max_initial_timestamp, 1.0f);
}

// np.arange(start, 1 + 1e-6, increment), values start + i * increment.
TEST(Options, TemperatureLadderIsOpenAIs) {
  EXPECT_EQ(temperature_ladder(0.0f, 0.2f), Options().temperatures);
  EXPECT_EQ(temperature_ladder(0.0f, 0.0f), std::vector<float>{0.0f});
  EXPECT_EQ(temperature_ladder(0.4f, 0.0f), std::vector<float>{0.4f});
  EXPECT_EQ(temperature_ladder(0.0f, 0.5f), (std::vector<float>{0.0f, 0.5f, 1.0f}));
  EXPECT_EQ(temperature_ladder(0.1f, 0.3f).size(), 4u);  // 0.1, 0.4, 0.7, 1.0 (within 1e-6)
  EXPECT_EQ(temperature_ladder(1.0f, 0.2f), std::vector<float>{1.0f});
  EXPECT_EQ(temperature_ladder(0.0f, 0.1f).size(), 11u);
  // Too long for validate(): cut, but still refused.
  Options o;
  o.temperatures = temperature_ladder(0.0f, 0.001f);
  EXPECT_LT(o.temperatures.size(), 1001u);
  EXPECT_THROW(o.validate(), Error);
}

// OpenAI: seek_points = [round(t * 100)], [0] when empty, content_frames appended to an odd count.
TEST(Options, ClipTimestampsBecomeFramePairs) {
  using Clips = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(seek_clips("0", 3000), (Clips{{0, 3000}}));
  EXPECT_EQ(seek_clips("", 3000), (Clips{{0, 3000}}));
  EXPECT_EQ(seek_clips("5,10,20", 3000), (Clips{{500, 1000}, {2000, 3000}}));
  EXPECT_EQ(seek_clips(" 1.5 ,2.125", 3000), (Clips{{150, 212}}));  // 212.5 -> 212: halves to even
  EXPECT_EQ(seek_clips("10,60", 3000), (Clips{{1000, 3000}}));     // cut at the end of the audio
  EXPECT_EQ(seek_clips("20,10", 3000), (Clips{{2000, 1000}}));     // empty: skipped by the loop
  for (const char* bad : {"x", "1,", "-1", "nan", "1e400"}) EXPECT_THROW(seek_clips(bad, 3000), Error) << bad;
  Options o;
  o.clip_timestamps = "3,y";
  EXPECT_THROW(o.validate(), Error);
}

TEST(Options, EachBadFieldIsNamed) {
  expect_invalid([](Options& o) { o.beam_size = -1; }, "beam_size");
  expect_invalid([](Options& o) { o.beam_size = 17; }, "beam_size");
  expect_invalid([](Options& o) { o.best_of = 0; }, "best_of");
  expect_invalid([](Options& o) { o.patience = 0.0f; }, "patience");
  expect_invalid([](Options& o) { o.patience = NAN; }, "patience");
  expect_invalid([](Options& o) { o.beam_size = 1; o.patience = 0.2f; }, "patience");
  expect_invalid([](Options& o) { o.length_penalty = 1.5f; }, "length_penalty");
  expect_invalid([](Options& o) { o.temperatures.clear(); }, "temperatures");
  expect_invalid([](Options& o) { o.temperatures = {0.0f, 1.2f}; }, "temperatures");
  expect_invalid([](Options& o) { o.temperatures = {-0.1f}; }, "temperatures");
  expect_invalid([](Options& o) { o.compression_ratio_threshold = INFINITY; }, "compression_ratio_threshold");
  expect_invalid([](Options& o) { o.logprob_threshold = NAN; }, "logprob_threshold");
  expect_invalid([](Options& o) { o.no_speech_threshold = -0.1f; }, "no_speech_threshold");
  expect_invalid([](Options& o) { o.initial_prompt = std::string("ab\xc3", 3); }, "initial_prompt");
  expect_invalid([](Options& o) { o.suppress_tokens = "1,x"; }, "suppress_tokens");
  expect_invalid([](Options& o) { o.suppress_tokens = "-2"; }, "suppress_tokens");
  expect_invalid([](Options& o) { o.max_initial_timestamp = -1.0f; }, "max_initial_timestamp");
  expect_invalid([](Options& o) { o.n_threads = -1; }, "n_threads");
  expect_invalid([](Options& o) { o.backend = "gpu"; }, "backend");
  expect_invalid([](Options& o) { o.language = "klingon"; }, "klingon");
}

TEST(Options, AcceptedSpellings) {
  Options o;
  o.length_penalty = 0.6f;
  o.suppress_tokens = " 1, 2 ,-1";
  o.beam_size = 0;
  o.temperatures = {0.0f};
  o.initial_prompt = "Gr\xc3\xbc\xc3\x9f Gott";
  o.language = "en-US";
  EXPECT_NO_THROW(o.validate());
  o.suppress_tokens = "";
  EXPECT_NO_THROW(o.validate());
}

TEST(Language, CanonicalForms) {
  EXPECT_EQ(canonical_language("auto"), "auto");
  EXPECT_EQ(canonical_language("AUTO"), "auto");
  EXPECT_EQ(canonical_language("en"), "en");
  EXPECT_EQ(canonical_language("en-US"), "en");
  EXPECT_EQ(canonical_language("pt_BR"), "pt");
  EXPECT_EQ(canonical_language("German"), "de");
  EXPECT_EQ(canonical_language("castilian"), "es");
  EXPECT_EQ(canonical_language("yue"), "yue");
  EXPECT_THROW(canonical_language("xx"), Error);
  EXPECT_THROW(canonical_language("xx-en"), Error);
}

}  // namespace
}  // namespace npw
