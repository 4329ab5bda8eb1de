// npuwhisper-cli transcribing whole files: the one-line-per-segment text format, --json with every
// segment field (checked by Python's json module and compared line by line with the text output),
// segments ordered and inside the audio, determinism at temperature 0 over two windows, and the
// flags that visibly change the decoding (--no-timestamps, the temperature fallback's).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.h"

namespace {

using npw_test::data;
using npw_test::quote;
using npw_test::run_cli;

// Greedy without fallback: the random-weight model fails every quality test, so the default ladder
// would only make the run slower.
const std::string kFast = " --beam-size 0 --no-fallback --threads 2";

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

double seconds(const std::string& stamp) {  // "mm:ss.mmm"
  return std::stoi(stamp.substr(0, stamp.size() - 7)) * 60.0 + std::stod(stamp.substr(stamp.size() - 6));
}

// Every line is "[mm:ss.mmm --> mm:ss.mmm] text"; segments start in order and end inside the audio.
void check_text_output(const std::string& out, double duration) {
  static const std::regex line_re(R"(^\[(\d{2,}:\d{2}\.\d{3}) --> (\d{2,}:\d{2}\.\d{3})\] (\S.*)$)");
  double last_start = 0.0;
  for (const std::string& l : lines(out)) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, line_re)) << "bad line: " << l;
    const double start = seconds(m[1].str()), end = seconds(m[2].str());
    EXPECT_LE(last_start, start) << l;
    EXPECT_LE(start, end) << l;
    EXPECT_LE(end, duration + 1e-3) << l;
    last_start = start;
  }
}

TEST(CliTranscribe, TextLinesAndJsonAgree) {
  const std::string args = "--model " + data("ggml-test-f32.bin") + " --audio " + data("audio/jfk.wav") + kFast;
  const auto text = run_cli(args);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.err, "");
  ASSERT_FALSE(lines(text.out).empty());
  check_text_output(text.out, 11.0);

  const std::string json_file = npw_test::temp_file("out.json");
  const auto json = run_cli(args + " --json >" + quote(json_file) + " && " + quote(NPW_PYTHON) + " " +
                            quote(NPW_JSON_CHECK) + " <" + quote(json_file));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.out, text.out);  // same segments, same times, same text
  const std::string raw = npw_test::read_text(json_file);
  EXPECT_NE(raw.find("\"language\": \"en\""), std::string::npos);  // English-only model
  EXPECT_EQ(raw.find("language_probs"), std::string::npos);        // nothing was detected
}

TEST(CliTranscribe, TwoWindowsDeterministic) {
  const std::string args = "--model " + data("ggml-test-f32.bin") + " --audio " + data("audio/long45.wav") + kFast;
  const auto a = run_cli(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  check_text_output(a.out, 45.0);
  const auto b = run_cli(args);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
}

TEST(CliTranscribe, NoTimestampsGivesOneSegmentPerWindow) {
  const auto r = run_cli("--model " + data("ggml-test-f32.bin") + " --audio " + data("audio/jfk.wav") + kFast +
                         " --no-timestamps");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto l = lines(r.out);
  ASSERT_EQ(l.size(), 1u) << r.out;
  EXPECT_EQ(l[0].rfind("[00:00.000 --> 00:11.000] ", 0), 0u) << l[0];
}

// The temperature each segment was decoded at, from --json.
std::vector<double> segment_temperatures(const std::string& json) {
  static const std::regex t_re(R"("temperature": ([0-9.eE+-]+))");
  std::vector<double> out;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), t_re); it != std::sregex_iterator(); ++it) {
    out.push_back(std::stod((*it)[1].str()));
  }
  return out;
}

// The random-weight model's text is improbable (average log-probability near -10), so OpenAI's
// fallback climbs the ladder; with both tests set to none it never does; --temperature starts it
// elsewhere.
TEST(CliTranscribe, FallbackFlagsSteerTheTemperature) {
  const std::string args = "--model " + data("ggml-test-f32.bin") + " --audio " + data("audio/jfk.wav") +
                           " --beam-size 0 --best-of 1 --threads 2 --json";
  const auto ladder = run_cli(args + " --temperature-increment 0.5");
  ASSERT_EQ(ladder.exit_code, 0) << ladder.err;
  const auto climbed = segment_temperatures(ladder.out);
  ASSERT_FALSE(climbed.empty()) << ladder.out;
  for (double t : climbed) EXPECT_TRUE(t == 0.0 || t == 0.5 || t == 1.0) << t;
  EXPECT_GT(*std::max_element(climbed.begin(), climbed.end()), 0.0) << ladder.out;

  const auto never = run_cli(args + " --temperature-increment 0.5 --logprob-threshold none --compression-ratio-threshold None");
  ASSERT_EQ(never.exit_code, 0) << never.err;
  const auto flat = segment_temperatures(never.out);
  ASSERT_FALSE(flat.empty()) << never.out;
  for (double t : flat) EXPECT_EQ(t, 0.0) << never.out;

  const auto warm = run_cli(args + " --temperature 0.6 --no-fallback");
  ASSERT_EQ(warm.exit_code, 0) << warm.err;
  const auto at = segment_temperatures(warm.out);
  ASSERT_FALSE(at.empty()) << warm.out;
  for (double t : at) EXPECT_EQ(t, 0.6) << warm.out;  // printed as the float's shortest digits
}

TEST(CliTranscribe, EnglishOnlyModelWarnsAboutOtherLanguages) {
  const auto r = run_cli("--model " + data("ggml-test-f32.bin") + " --audio " + data("audio/jfk.wav") + kFast +
                         " --language de --translate");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("English-only"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--translate"), std::string::npos) << r.err;
  // Decoded as English: the same as without the flags.
  const auto plain = run_cli("--model " + data("ggml-test-f32.bin") + " --audio " + data("audio/jfk.wav") + kFast);
  EXPECT_EQ(r.out, plain.out);
}

// A 32-bit float WAV (fmt 3) of `samples`.
void write_float_wav(const std::string& path, const std::vector<float>& samples) {
  auto u32 = [](std::string& s, uint32_t v) { for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff); };
  auto u16 = [](std::string& s, uint16_t v) { s += static_cast<char>(v & 0xff); s += static_cast<char>(v >> 8); };
  std::string b = "RIFF";
  const uint32_t data_bytes = static_cast<uint32_t>(samples.size() * 4);
  u32(b, 36 + data_bytes);
  b += "WAVEfmt ";
  u32(b, 16);
  u16(b, 3);  // IEEE float
  u16(b, 1);
  u32(b, 16000);
  u32(b, 16000 * 4);
  u16(b, 4);
  u16(b, 32);
  b += "data";
  u32(b, data_bytes);
  b.append(reinterpret_cast<const char*>(samples.data()), data_bytes);
  std::ofstream(path, std::ios::binary) << b;
}

TEST(CliTranscribe, NonFiniteSamplesAreSilenceWithAWarning) {
  // Two seconds of a 440 Hz tone with every 5th sample NaN or Inf, against the same tone with zeros there.
  std::vector<float> odd(32000), clean(32000);
  for (std::size_t i = 0; i < odd.size(); ++i) {
    clean[i] = i % 5 == 0 ? 0.0f : 0.3f * static_cast<float>(std::sin(2.0 * 3.14159265358979 * 440.0 * i / 16000.0));
    odd[i] = i % 5 != 0 ? clean[i] : (i % 10 == 0 ? NAN : INFINITY);
  }
  const std::string odd_wav = npw_test::temp_file("odd.wav"), clean_wav = npw_test::temp_file("clean.wav");
  write_float_wav(odd_wav, odd);
  write_float_wav(clean_wav, clean);
  const auto a = run_cli("--model " + data("ggml-test-f32.bin") + " --audio " + quote(odd_wav) + kFast);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.err.find("6400 NaN/Inf samples"), std::string::npos) << a.err;
  const auto b = run_cli("--model " + data("ggml-test-f32.bin") + " --audio " + quote(clean_wav) + kFast);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(b.err, "");
  EXPECT_EQ(a.out, b.out);
}

}  // namespace

TEST(CliTranscribe, MemoryReportNamesTheBuffers) {
  const auto r = run_cli("--model " + data("ggml-test-f16.bin") + " --audio " + data("audio/jfk.wav") + kFast +
                         " --memory-report");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resident memory: "), std::string::npos) << r.err;
  for (const char* what : {"packed weights", "decoder: cross-attention keys", "encoder: activations",
                           "shared libraries", "model file (mapped pages)", "the model's buffers",
                           "stream: the input's samples (the whole WAV file)"}) {
    EXPECT_NE(r.err.find(what), std::string::npos) << what << " missing from:\n" << r.err;
  }
  // The report goes to stderr only: stdout holds the transcript as without the flag.
  const auto plain = run_cli("--model " + data("ggml-test-f16.bin") + " --audio " + data("audio/jfk.wav") + kFast);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(r.out, plain.out);
}
