// Golden check (mel filters of the f32 test model and of its f16 twin) of the whole-file log-mel against OpenAI's whisper.audio.log_mel_spectrogram
// (tests/data/manifest.json: audio + 30 s of zeros, clamp over the whole spectrogram, then
// pad_or_trim(mel[:, offset:offset + 3000])). This is the definition the encoder golden data rests
// on, so any drift here shows up everywhere downstream.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "audio/mel.h"
#include "audio/wav.h"
#include "test_data.h"

namespace {

struct GoldenCase {
  const char* clip;
  int window;
  const char* model;  // whose mel filter block is used (the f32 file and its f16 twin)
};

class MelGolden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(MelGolden, MatchesOpenAI) {
  const GoldenCase c = GetParam();
  const npw_test::MelFilters filters = npw_test::load_mel_filters(npw_test::data_path(c.model));
  ASSERT_EQ(filters.n_mel, 80);

  const npw::WavData wav = npw::read_wav(npw_test::data_path(std::string("audio/") + c.clip + ".wav"));
  ASSERT_FALSE(wav.truncated);
  const std::vector<float> golden = npw_test::read_f32(
      npw_test::data_path(std::string("golden/") + c.clip + "/mel_w" + std::to_string(c.window) + ".f32"));
  ASSERT_EQ(golden.size(), 80u * 3000u);

  npw::MelSpectrogram mel(filters.data.data(), filters.n_mel);
  std::vector<float> full;
  EXPECT_EQ(mel.compute_file_mel(wav.samples.data(), static_cast<int64_t>(wav.samples.size()), full), 0);
  const int64_t n_frames = npw::file_mel_frames(static_cast<int64_t>(wav.samples.size()));
  ASSERT_EQ(full.size(), 80u * n_frames);
  std::vector<float> window(80 * 3000);
  npw::slice_window(full.data(), 80, n_frames, c.window * npw::kMelWindowFrames, window.data());

  double max_abs = 0.0;
  std::size_t worst = 0;
  for (std::size_t i = 0; i < golden.size(); ++i) {
    const double d = std::fabs(static_cast<double>(window[i]) - golden[i]);
    if (!(d <= max_abs)) {
      max_abs = d;
      worst = i;
    }
  }
  std::printf("[ golden   ] %s %s w%d: mel max_abs %.3g (at mel %zu, frame %zu)\n", c.model, c.clip, c.window, max_abs,
              worst / 3000, worst % 3000);
  RecordProperty("max_abs", std::to_string(max_abs));
  EXPECT_LE(max_abs, 1e-4);

  // The streaming path must agree wherever mel.h says the two modes coincide: audio of at most
  // 479800 samples, window at offset 0.
  if (c.window == 0 && wav.samples.size() <= 479800) {
    std::vector<float> streamed(80 * 3000);
    mel.compute_window_mel(wav.samples.data(), static_cast<int64_t>(wav.samples.size()), streamed.data());
    double stream_abs = 0.0;
    for (std::size_t i = 0; i < golden.size(); ++i)
      stream_abs = std::max(stream_abs, std::fabs(static_cast<double>(streamed[i]) - golden[i]));
    std::printf("[ golden   ] %s w0 via compute_window_mel: max_abs %.3g\n", c.clip, stream_abs);
    EXPECT_LE(stream_abs, 1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(Manifest, MelGolden,
                         ::testing::Values(GoldenCase{"jfk", 0, "ggml-test-f32.bin"}, GoldenCase{"espeak20", 0, "ggml-test-f32.bin"},
                                           GoldenCase{"silence30", 0, "ggml-test-f32.bin"},
                                           GoldenCase{"noise10", 0, "ggml-test-f32.bin"},
                                           GoldenCase{"long45", 0, "ggml-test-f32.bin"},
                                           GoldenCase{"long45", 1, "ggml-test-f32.bin"},
                                           GoldenCase{"jfk", 0, "ggml-test-f16.bin"}, GoldenCase{"espeak20", 0, "ggml-test-f16.bin"},
                                           GoldenCase{"silence30", 0, "ggml-test-f16.bin"},
                                           GoldenCase{"noise10", 0, "ggml-test-f16.bin"},
                                           GoldenCase{"long45", 0, "ggml-test-f16.bin"},
                                           GoldenCase{"long45", 1, "ggml-test-f16.bin"}),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           const bool f16 = std::string(info.param.model).find("f16") != std::string::npos;
                           return std::string(info.param.clip) + "_w" + std::to_string(info.param.window) + (f16 ? "_f16" : "_f32");
                         });

}  // namespace
