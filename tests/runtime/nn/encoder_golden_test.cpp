// The encoder against OpenAI's reference output for every golden window of the manifest, with the
// f32 model and its f16 twin (same weight values), on one and on two threads.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "golden_io.h"
#include "model/model.h"
#include "nn/encoder.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

constexpr double kMaxRelL2 = 1e-4;

struct Case {
  const char* model;
  int threads;
};

class EncoderGolden : public ::testing::TestWithParam<Case> {};

TEST_P(EncoderGolden, MatchesReferenceOnEveryWindow) {
  const Case c = GetParam();
  const auto windows = npw_test::encoder_windows();
  ASSERT_GE(windows.size(), 6u) << "manifest lists fewer encoder windows than the data set holds";

  auto model = Model::load(npw_test::data_path(c.model));
  auto backend = make_backend("cpu", c.threads);
  ThreadPool pool(c.threads);
  Encoder encoder(*model, *backend, pool);
  ASSERT_EQ(encoder.n_frames(), 3000);
  ASSERT_EQ(encoder.n_ctx(), 1500);
  ASSERT_EQ(encoder.n_state(), 64);

  for (const auto& w : windows) {
    const std::string dir = "golden/" + w.clip + "/";
    const std::string k = std::to_string(w.window);
    const std::vector<float> mel = npw_test::read_f32(npw_test::data_path(dir + "mel_w" + k + ".f32"));
    const std::vector<float> want = npw_test::read_f32(npw_test::data_path(dir + "enc_w" + k + ".f32"));
    ASSERT_EQ(mel.size(), 80u * 3000u) << dir;
    ASSERT_EQ(want.size(), 1500u * 64u) << dir;

    const float* got = encoder.encode(mel.data());
    const npw_test::Diff d = npw_test::compare(got, want.data(), want.size());
    std::printf("[encoder %s, %d thread(s)] %s w%d: rel-L2 %.3e, max-abs %.3e\n", c.model, c.threads,
                w.clip.c_str(), w.window, d.rel_l2, d.max_abs);
    EXPECT_LE(d.rel_l2, kMaxRelL2) << w.clip << " w" << w.window;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, EncoderGolden,
                         ::testing::Values(Case{"ggml-test-f32.bin", 1}, Case{"ggml-test-f16.bin", 1},
                                           Case{"ggml-test-f32.bin", 2}, Case{"ggml-test-f16.bin", 2}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.model;
                           name = name.find("f16") != std::string::npos ? "f16" : "f32";
                           return name + "_t" + std::to_string(info.param.threads);
                         });

// A window read in place from a wider spectrogram (row stride > 3000) gives the same output, and
// encoding is repeatable: the scratch carries nothing over from the previous window.
TEST(EncoderGoldenLayout, StridedInputAndRepeatability) {
  auto model = Model::load(npw_test::data_path("ggml-test-f32.bin"));
  auto backend = make_backend("cpu", 2);
  ThreadPool pool(2);
  Encoder encoder(*model, *backend, pool);

  const std::vector<float> mel = npw_test::read_f32(npw_test::data_path("golden/long45/mel_w1.f32"));
  const std::vector<float> other = npw_test::read_f32(npw_test::data_path("golden/jfk/mel_w0.f32"));
  const std::vector<float> want = npw_test::read_f32(npw_test::data_path("golden/long45/enc_w1.f32"));

  const int64_t ld = 3000 + 77;
  std::vector<float> wide(80 * ld, 1e6f);  // garbage outside the window must not be read
  for (int m = 0; m < 80; ++m) std::copy(mel.begin() + m * 3000, mel.begin() + (m + 1) * 3000, wide.begin() + m * ld);

  const float* out = encoder.encode(mel.data());
  const std::vector<float> first(out, out + want.size());
  encoder.encode(other.data());
  const float* strided = encoder.encode(wide.data(), ld);
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(strided[i], first[i]) << "element " << i;
  EXPECT_LE(npw_test::compare(strided, want.data(), want.size()).rel_l2, kMaxRelL2);

  EXPECT_THROW(encoder.encode(mel.data(), 2999), Error);
}

}  // namespace
}  // namespace npw
