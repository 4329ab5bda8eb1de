// npuwhisper-cli's pieces without a model: every transcription flag lands in the right npw::Options
// field (with OpenAI's defaults when absent), the modes are told apart, and the output formats
// (timestamps, one-line text, JSON escaping and non-finite numbers) are exactly as documented.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "cli_options.h"
#include "cli_output.h"
#include "util/error.h"

namespace npw {
namespace {

CliOptions parse(std::vector<const char*> args) {
  args.insert(args.begin(), {"npuwhisper-cli", "--model", "m.bin", "--audio", "a.wav"});
  return parse_cli_options(static_cast<int>(args.size()), args.data());
}

TEST(CliOptions, DefaultsAreOpenAIs) {
  const CliOptions o = parse({});
  EXPECT_FALSE(o.window_mode());
  EXPECT_FALSE(o.json);
  const Options d;
  EXPECT_EQ(o.transcribe.language, "auto");
  EXPECT_FALSE(o.transcribe.translate);
  EXPECT_TRUE(o.transcribe.timestamps);
  EXPECT_EQ(o.transcribe.beam_size, 5);
  EXPECT_EQ(o.transcribe.best_of, 5);
  EXPECT_EQ(o.transcribe.temperatures, d.temperatures);
  EXPECT_EQ(o.transcribe.initial_prompt, "");
  EXPECT_EQ(o.transcribe.n_threads, o.threads);
  EXPECT_EQ(o.transcribe.compression_ratio_threshold, d.compression_ratio_threshold);
  EXPECT_TRUE(o.transcribe.logprob_threshold_enabled);
  EXPECT_EQ(o.transcribe.logprob_threshold, d.logprob_threshold);
  EXPECT_EQ(o.transcribe.no_speech_threshold, d.no_speech_threshold);
  EXPECT_TRUE(o.transcribe.condition_on_previous_text);
  EXPECT_EQ(o.transcribe.patience, d.patience);
  EXPECT_EQ(o.transcribe.length_penalty, d.length_penalty);
  EXPECT_EQ(o.transcribe.suppress_tokens, "-1");
}

// OpenAI's command: --temperature 0 --temperature_increment_on_fallback 0.2 give (0, 0.2, ..., 1.0);
// the thresholds take "None" to switch their test off.
TEST(CliOptions, DecodingPolicyFlags) {
  const CliOptions a = parse({"--temperature", "0.5", "--temperature-increment", "0.25"});
  EXPECT_EQ(a.transcribe.temperatures, (std::vector<float>{0.5f, 0.75f, 1.0f}));
  EXPECT_EQ(parse({"--temperature", "0.3", "--no-fallback"}).transcribe.temperatures, std::vector<float>{0.3f});
  EXPECT_EQ(parse({"--temperature-increment", "0"}).transcribe.temperatures, std::vector<float>{0.0f});
  EXPECT_EQ(parse({"--temperature-increment", "0.3"}).transcribe.temperatures,
            (std::vector<float>{0.0f, 0.3f, 0.6f, 0.9f}));

  const CliOptions b = parse({"--compression-ratio-threshold", "3.5", "--logprob-threshold", "-0.5",
                              "--no-speech-threshold", "0.8", "--no-condition-on-previous-text", "--patience", "2",
                              "--length-penalty", "0.6", "--suppress-tokens", "-1,220"});
  EXPECT_FLOAT_EQ(b.transcribe.compression_ratio_threshold, 3.5f);
  EXPECT_TRUE(b.transcribe.logprob_threshold_enabled);
  EXPECT_FLOAT_EQ(b.transcribe.logprob_threshold, -0.5f);
  EXPECT_FLOAT_EQ(b.transcribe.no_speech_threshold, 0.8f);
  EXPECT_FALSE(b.transcribe.condition_on_previous_text);
  EXPECT_FLOAT_EQ(b.transcribe.patience, 2.0f);
  EXPECT_FLOAT_EQ(b.transcribe.length_penalty, 0.6f);
  EXPECT_EQ(b.transcribe.suppress_tokens, "-1,220");
  EXPECT_EQ(parse({"--patience", "0"}).transcribe.patience, 1.0);  // OpenAI: `patience or 1.0`
  EXPECT_FALSE(b.transcribe.carry_initial_prompt);
  EXPECT_EQ(b.transcribe.clip_timestamps, "0");
  EXPECT_EQ(parse({"--clip-timestamps", "1.5,4"}).transcribe.clip_timestamps, "1.5,4");
  EXPECT_TRUE(parse({"--initial-prompt", "Kubernetes", "--carry-initial-prompt"}).transcribe.carry_initial_prompt);

  const CliOptions off = parse({"--compression-ratio-threshold", "none", "--logprob-threshold", "None",
                                "--no-speech-threshold", "NONE", "--suppress-tokens", ""});
  EXPECT_LE(off.transcribe.compression_ratio_threshold, 0.0f);
  EXPECT_FALSE(off.transcribe.logprob_threshold_enabled);
  EXPECT_GT(off.transcribe.no_speech_threshold, 1.0f);
  EXPECT_EQ(off.transcribe.suppress_tokens, "");
}

TEST(CliOptions, DecodingPolicyMistakesNameTheFlag) {
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
      {{"--temperature", "1.5"}, "--temperature'"},
      {{"--temperature", "-0.1"}, "--temperature'"},
      {{"--temperature-increment", "-0.2"}, "--temperature-increment"},
      {{"--temperature-increment", "0.001"}, "--temperature-increment"},  // 1001 temperatures
      {{"--no-fallback", "--temperature-increment", "0.2"}, "--no-fallback"},
      {{"--logprob-threshold", "low"}, "--logprob-threshold"},
      {{"--no-speech-threshold", "1.2"}, "--no-speech-threshold"},
      {{"--patience", "-1"}, "--patience"},
      {{"--carry-initial-prompt"}, "--initial-prompt"},
      {{"--clip-timestamps", "5,x"}, "--clip-timestamps"},
      {{"--clip-timestamps", "-1"}, "--clip-timestamps"},
      {{"--length-penalty", "2"}, "--length-penalty"},
      {{"--suppress-tokens", "1,x"}, "--suppress-tokens"},
      {{"--patience", "2", "--tokens", "1", "--dump-logits", "l.f32"}, "--patience"},  // window mode
  };
  for (const auto& [args, flag] : cases) {
    try {
      parse(args);
      ADD_FAILURE() << "accepted " << flag;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(flag), std::string::npos) << e.what();
    }
  }
}

TEST(CliOptions, TranscriptionFlagsMapOntoOptions) {
  const CliOptions o = parse({"--language", "de-AT", "--translate", "--beam-size", "0", "--best-of", "3",
                              "--no-timestamps", "--initial-prompt", "Hallo.", "--no-fallback", "--json", "--threads", "3"});
  EXPECT_EQ(o.transcribe.language, "de-AT");
  EXPECT_TRUE(o.transcribe.translate);
  EXPECT_EQ(o.transcribe.beam_size, 0);
  EXPECT_EQ(o.transcribe.best_of, 3);
  EXPECT_FALSE(o.transcribe.timestamps);
  EXPECT_EQ(o.transcribe.initial_prompt, "Hallo.");
  EXPECT_EQ(o.transcribe.temperatures, std::vector<float>{0.0f});
  EXPECT_TRUE(o.json);
  EXPECT_EQ(o.transcribe.n_threads, 3);
}

TEST(CliOptions, WindowModeFlags) {
  const CliOptions o = parse({"--tokens", "50257,50362", "--dump-logits", "l.f32", "--greedy-plain", "4", "--dump-tokens",
                              "t.i32", "--offset", "30"});
  EXPECT_TRUE(o.window_mode());
  EXPECT_EQ(o.tokens, (std::vector<int>{50257, 50362}));
  EXPECT_EQ(o.dump_logits, "l.f32");
  EXPECT_EQ(o.greedy_plain, 4);
  EXPECT_EQ(o.dump_tokens, "t.i32");
  EXPECT_DOUBLE_EQ(o.offset_seconds, 30.0);
}

TEST(CliOutput, Timestamps) {
  EXPECT_EQ(format_timestamp(0.0), "00:00.000");
  EXPECT_EQ(format_timestamp(75.5), "01:15.500");
  EXPECT_EQ(format_timestamp(3725.25), "62:05.250");
  EXPECT_EQ(format_timestamp(59.9996), "01:00.000");  // rounds to the millisecond, carrying
  EXPECT_EQ(format_timestamp(-1.0), "00:00.000");
  EXPECT_EQ(format_timestamp(NAN), "00:00.000");
}

TEST(CliOutput, SegmentLineIsOneLineStripped) {
  Segment s;
  s.start = 1.0;
  s.end = 2.5;
  s.text = "  two\nlines \xc2\xa0";  // trailing NO-BREAK SPACE is whitespace to Python's strip()
  EXPECT_EQ(segment_line(s), "[00:01.000 --> 00:02.500] two lines");
}

TEST(CliOutput, JsonEscapesAndNulls) {
  TranscribeResult r;
  r.language = "de";
  r.language_probs = {{"de", 0.75f}, {"en", 0.25f}};
  Segment s;
  s.start = 0.5;
  s.end = 1.0;
  s.text = " \"q\" \\ \x01";
  s.tokens = {1, 2};
  s.token_probs = {0.5f, 1.0f};
  s.avg_logprob = -INFINITY;
  r.segments.push_back(s);
  const std::string j = transcription_json(r, "m\".bin", "a.wav");
  EXPECT_NE(j.find("\"model\": \"m\\\".bin\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"language_probs\": {\"de\": 0.75, \"en\": 0.25}"), std::string::npos) << j;
  EXPECT_NE(j.find("\"text\": \" \\\"q\\\" \\\\ \\u0001\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"tokens\": [1, 2], \"token_probs\": [0.5, 1]"), std::string::npos) << j;
  EXPECT_NE(j.find("\"avg_logprob\": null"), std::string::npos) << j;
}

}  // namespace
}  // namespace npw
