// The int8 backend's encoder on every golden window: within 2 % relative L2 of the f32 backend's output
// (and of OpenAI's reference), with every kernel variant this machine runs. The measured figures are
// printed: they are the accuracy cost the README reports.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/int8_backend.h"
#include "golden_io.h"
#include "model/model.h"
#include "nn/encoder.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

constexpr double kMaxRelL2 = 0.02;

TEST(Int8EncoderGolden, WithinTwoPercentOfF32OnEveryWindow) {
  const auto windows = npw_test::encoder_windows();
  ASSERT_GE(windows.size(), 6u);
  for (const char* file : {"ggml-test-f32.bin", "ggml-test-f16.bin"}) {
    auto model = Model::load(npw_test::data_path(file));
    ThreadPool pool(2);
    auto f32 = make_backend("cpu", 2);
    Encoder ref(*model, *f32, pool);
    for (Int8Isa isa : int8_supported_isas()) {
      CpuInt8Backend int8(2, isa);
      Encoder enc(*model, int8, pool);
      double worst = 0.0;
      for (const auto& w : windows) {
        const std::string dir = "golden/" + w.clip + "/";
        const std::string k = std::to_string(w.window);
        const std::vector<float> mel = npw_test::read_f32(npw_test::data_path(dir + "mel_w" + k + ".f32"));
        const std::vector<float> golden = npw_test::read_f32(npw_test::data_path(dir + "enc_w" + k + ".f32"));
        ASSERT_EQ(mel.size(), 80u * 3000u) << dir;
        const float* want = ref.encode(mel.data());
        const std::vector<float> f32_out(want, want + golden.size());
        const float* got = enc.encode(mel.data());
        const npw_test::Diff to_f32 = npw_test::compare(got, f32_out.data(), f32_out.size());
        const npw_test::Diff to_golden = npw_test::compare(got, golden.data(), golden.size());
        std::printf("[int8 encoder %s, %s] %s w%d: rel-L2 to f32 %.3e (to reference %.3e), max-abs %.3e\n", file,
                    int8_isa_name(isa), w.clip.c_str(), w.window, to_f32.rel_l2, to_golden.rel_l2, to_f32.max_abs);
        EXPECT_LE(to_f32.rel_l2, kMaxRelL2) << w.clip << " w" << w.window << " " << int8_isa_name(isa);
        EXPECT_LE(to_golden.rel_l2, kMaxRelL2) << w.clip << " w" << w.window << " " << int8_isa_name(isa);
        EXPECT_GT(to_f32.rel_l2, 0.0) << "identical to f32: the int8 kernels did not run";
        worst = std::max(worst, to_f32.rel_l2);
      }
      std::printf("[int8 encoder %s, %s] worst rel-L2 to f32 %.3e over %zu windows\n", file, int8_isa_name(isa), worst,
                  windows.size());
    }
  }
}

}  // namespace
}  // namespace npw
