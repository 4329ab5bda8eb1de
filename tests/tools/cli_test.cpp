// npuwhisper-cli end to end: its mel and encoder dumps for jfk (offset 0) and long45 (offset 30 s,
// the second window) against the golden arrays, and a clean exit 1 with a message naming the culprit
// for every kind of bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli_run.h"

namespace {

using npw_test::data;
using npw_test::quote;
using npw_test::run_cli;
using npw_test::CliRun;

void check_window(const std::string& clip, const std::string& window, const std::string& offset,
                  const std::string& model = "ggml-test-f32.bin") {
  const std::string mel = npw_test::temp_file("mel.f32"), enc = npw_test::temp_file("enc.f32");
  std::remove(mel.c_str());
  std::remove(enc.c_str());
  const CliRun r = run_cli("--model " + data(model) + " --audio " + data("audio/" + clip + ".wav") +
                        " --offset " + offset + " --threads 2 --dump-mel " + quote(mel) + " --dump-encoder " + quote(enc));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");

  const auto got_mel = npw_test::read_f32(mel);
  const auto want_mel = npw_test::read_f32(npw_test::data_path("golden/" + clip + "/mel_" + window + ".f32"));
  ASSERT_EQ(got_mel.size(), want_mel.size());
  const auto dm = npw_test::compare(got_mel.data(), want_mel.data(), want_mel.size());
  std::printf("[cli] %s %s mel: rel-L2 %.3e, max-abs %.3e\n", clip.c_str(), window.c_str(), dm.rel_l2, dm.max_abs);
  EXPECT_LE(dm.rel_l2, 1e-5);

  const auto got_enc = npw_test::read_f32(enc);
  const auto want_enc = npw_test::read_f32(npw_test::data_path("golden/" + clip + "/enc_" + window + ".f32"));
  ASSERT_EQ(got_enc.size(), want_enc.size());
  const auto de = npw_test::compare(got_enc.data(), want_enc.data(), want_enc.size());
  std::printf("[cli] %s %s encoder: rel-L2 %.3e, max-abs %.3e\n", clip.c_str(), window.c_str(), de.rel_l2, de.max_abs);
  EXPECT_LE(de.rel_l2, 1e-4);
}

TEST(Cli, JfkDumpsMatchGolden) { check_window("jfk", "w0", "0"); }

TEST(Cli, SecondWindowOfLong45MatchesGolden) { check_window("long45", "w1", "30"); }

TEST(Cli, F16ModelDumpsMatchGolden) {
  check_window("jfk", "w0", "0", "ggml-test-f16.bin");
  check_window("long45", "w1", "30", "ggml-test-f16.bin");
}

// --mel-on-device: the log-mel as two bf16 products on the emulated NPU (within 0.004 of the golden
// log-mel, see npu_mel_products_test); with a backend that has no accelerator, a warning and the FFT.
TEST(Cli, MelOnDeviceDumpsTheProductsMel) {
  const std::string mel = npw_test::temp_file("mel-device.f32");
  std::remove(mel.c_str());
  const std::string args = "--model " + data("ggml-test-f32.bin") + " --audio " + data("audio/jfk.wav") +
                           " --threads 2 --mel-on-device --dump-mel " + quote(mel);
  const CliRun r = run_cli(args + " --backend npu-emulator");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto want = npw_test::read_f32(npw_test::data_path("golden/jfk/mel_w0.f32"));
  const auto got = npw_test::read_f32(mel);
  ASSERT_EQ(got.size(), want.size());
  const auto d = npw_test::compare(got.data(), want.data(), want.size());
  std::printf("[cli] jfk w0 mel on npu-emulator: rel-L2 %.3e, max-abs %.3e\n", d.rel_l2, d.max_abs);
  EXPECT_LE(d.max_abs, 0.004);
  EXPECT_GT(d.max_abs, 1e-5) << "the bf16 products and the FFT cannot agree to the last bit";

  const CliRun cpu = run_cli(args + " --backend cpu");
  ASSERT_EQ(cpu.exit_code, 0) << cpu.err;
  EXPECT_NE(cpu.err.find("--mel-on-device"), std::string::npos) << cpu.err;
  EXPECT_NE(cpu.err.find("no accelerator"), std::string::npos) << cpu.err;
  const auto fft = npw_test::read_f32(mel);
  EXPECT_LE(npw_test::compare(fft.data(), want.data(), want.size()).rel_l2, 1e-5);
}

TEST(Cli, HelpListsTheFlags) {
  const CliRun r = run_cli("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* f : {"--model FILE", "--audio FILE", "--offset SECONDS", "--threads N", "--dump-mel OUT",
                        "--dump-encoder OUT", "--language LANG", "--translate", "--beam-size N", "--best-of N",
                        "--no-timestamps", "--initial-prompt TEXT", "--no-fallback", "--json", "--tokens ID,ID,...",
                        "--dump-logits OUT", "--greedy-plain N", "--dump-tokens OUT", "--temperature T",
                        "--temperature-increment X", "--compression-ratio-threshold R", "--logprob-threshold L",
                        "--no-speech-threshold P", "--no-condition-on-previous-text", "--patience F",
                        "--length-penalty A", "--suppress-tokens IDS", "--carry-initial-prompt",
                        "--clip-timestamps T,T,..."}) {
    EXPECT_NE(r.out.find(f), std::string::npos) << f;
  }
}

struct BadCase {
  const char* what;
  std::string args;
  std::string must_mention;
};

TEST(Cli, BadInputsExitOneWithAMessage) {
  const std::string model = data("ggml-test-f32.bin"), audio = data("audio/jfk.wav");
  const std::string missing_model = npw_test::temp_file("no_such_model.bin");
  const BadCase cases[] = {
      {"unknown flag", "--model " + model + " --audio " + audio + " --lang en", "--lang"},
      {"positional", "--model " + model + " " + audio, "unexpected argument"},
      {"no audio flag", "--model " + model, "--audio"},
      {"no model flag", "--audio " + audio, "--model"},
      {"missing value", "--audio " + audio + " --model", "--model"},
      {"repeated flag", "--model " + model + " --model " + model + " --audio " + audio, "more than once"},
      {"model not found", "--model " + quote(missing_model) + " --audio " + audio, "no_such_model.bin"},
      {"model not ggml", "--model " + audio + " --audio " + audio, "jfk.wav"},
      {"audio not wav", "--model " + model + " --audio " + model, "ggml-test-f32.bin"},
      {"threads zero", "--model " + model + " --audio " + audio + " --threads 0", "--threads"},
      {"threads text", "--model " + model + " --audio " + audio + " --threads two", "--threads"},
      {"offset text", "--model " + model + " --audio " + audio + " --offset 1s", "--offset"},
      {"offset negative", "--model " + model + " --audio " + audio + " --offset -1", "--offset"},
      {"offset past end", "--model " + model + " --audio " + audio + " --offset 11.5 --dump-mel " + quote(npw_test::temp_file("m.f32")), "past the end"},
      {"offset not finite", "--model " + model + " --audio " + audio + " --offset inf", "--offset"},
      {"dump unwritable", "--model " + model + " --audio " + audio + " --dump-mel /nonexistent-dir/m.f32",
       "/nonexistent-dir/m.f32"},
      {"tokens without output", "--model " + model + " --audio " + audio + " --tokens 50257", "--dump-logits"},
      {"tokens not ids", "--model " + model + " --audio " + audio + " --tokens 50257,x --dump-logits /tmp/l", "'x'"},
      {"tokens empty item", "--model " + model + " --audio " + audio + " --tokens 50257,,1 --dump-logits /tmp/l", "--tokens"},
      {"token beyond vocab", "--model " + model + " --audio " + audio + " --tokens 50257,51864 --dump-logits /tmp/l",
       "51864"},
      {"greedy without tokens", "--model " + model + " --audio " + audio + " --greedy-plain 3 --dump-tokens /tmp/t",
       "--tokens"},
      {"greedy without dump", "--model " + model + " --audio " + audio + " --tokens 50257 --greedy-plain 3", "--dump-tokens"},
      {"dump-tokens alone", "--model " + model + " --audio " + audio + " --tokens 50257 --dump-logits /tmp/l --dump-tokens /tmp/t",
       "--greedy-plain"},
      {"greedy zero", "--model " + model + " --audio " + audio + " --tokens 50257 --greedy-plain 0 --dump-tokens /tmp/t",
       "--greedy-plain"},
      {"greedy past context", "--model " + model + " --audio " + audio + " --tokens 50257 --greedy-plain 449 --dump-tokens /tmp/t",
       "context"},
      {"transcription flag in window mode", "--model " + model + " --audio " + audio + " --dump-mel /tmp/m --json", "--json"},
      {"offset while transcribing", "--model " + model + " --audio " + audio + " --offset 1", "--offset"},
      {"unknown language", "--model " + model + " --audio " + audio + " --language klingon", "klingon"},
      {"beam too wide", "--model " + model + " --audio " + audio + " --beam-size 99", "--beam-size"},
      {"best-of zero", "--model " + model + " --audio " + audio + " --best-of 0", "--best-of"},
      {"prompt not utf-8", "--model " + model + " --audio " + audio + " --initial-prompt \"$(printf '\\303')\"", "--initial-prompt"},
  };
  for (const auto& c : cases) {
    const CliRun r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.what;
    EXPECT_NE(r.err.find("error"), std::string::npos) << c.what << ": " << r.err;
    EXPECT_NE(r.err.find(c.must_mention), std::string::npos) << c.what << ": " << r.err;
  }
}

}  // namespace
