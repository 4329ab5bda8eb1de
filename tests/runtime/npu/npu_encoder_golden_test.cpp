// The encoder through npu-emulator (the whole NPU path: weights packed into device buffers, one
// launch per product, pooled activation buffers) on every golden window: within 2 % relative L2 of
// the f32 backend's output and of OpenAI's reference, for npu1 and npu2 and both precisions. The
// figures are printed; they are the accuracy the README reports for the NPU.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../nn/golden_io.h"
#include "backend/backend.h"
#include "backend/npu/npu_backend.h"
#include "backend/npu/npu_context.h"
#include "model/model.h"
#include "nn/encoder.h"
#include "util/thread_pool.h"

namespace npw {
namespace npu {
namespace {

constexpr double kMaxRelL2 = 0.02;

TEST(NpuEncoderGolden, WithinTwoPercentOfF32OnEveryWindow) {
  const auto windows = npw_test::encoder_windows();
  ASSERT_GE(windows.size(), 6u);
  for (const char* file : {"ggml-test-f32.bin", "ggml-test-f16.bin"}) {
    auto model = Model::load(npw_test::data_path(file));
    ThreadPool pool(2);
    auto f32 = make_backend("cpu", 2);
    Encoder ref(*model, *f32, pool);
    std::vector<std::vector<float>> mels, goldens, refs;
    for (const auto& w : windows) {
      const std::string dir = "golden/" + w.clip + "/";
      const std::string k = std::to_string(w.window);
      mels.push_back(npw_test::read_f32(npw_test::data_path(dir + "mel_w" + k + ".f32")));
      goldens.push_back(npw_test::read_f32(npw_test::data_path(dir + "enc_w" + k + ".f32")));
      const float* want = ref.encode(mels.back().data());
      refs.emplace_back(want, want + goldens.back().size());
    }
    struct Config {
      Generation g;
      Precision p;
    };
    std::vector<Config> configs = {{Generation::Npu1, Precision::Int8}};
    // The other generation and precision on one file: the products' arithmetic does not depend on
    // the weights' storage type once they are packed.
    if (std::string(file) == "ggml-test-f32.bin") {
      configs.push_back({Generation::Npu2, Precision::Int8});
      configs.push_back({Generation::Npu1, Precision::Bf16});
    }
    for (Config c : configs) {
      NpuBackend npu(shared_emulator_context(c.g), 2, c.p);
      Encoder enc(*model, npu, pool);
      double worst = 0.0;
      for (std::size_t i = 0; i < windows.size(); ++i) {
        const auto& w = windows[i];
        AcceleratorBooks before, after;
        npu.accelerator_books(&before);
        const float* got = enc.encode(mels[i].data());
        npu.accelerator_books(&after);
        const npw_test::Diff to_f32 = npw_test::compare(got, refs[i].data(), refs[i].size());
        const npw_test::Diff to_golden = npw_test::compare(got, goldens[i].data(), goldens[i].size());
        std::printf("[npu encoder %s, %s] %s w%d: rel-L2 to f32 %.3e (to reference %.3e), max-abs %.3e; %llu launches\n",
                    file, npu.kind().c_str(), w.clip.c_str(), w.window, to_f32.rel_l2, to_golden.rel_l2, to_f32.max_abs,
                    static_cast<unsigned long long>(after.launches - before.launches));
        EXPECT_LE(to_f32.rel_l2, kMaxRelL2) << w.clip << " w" << w.window << " " << npu.kind();
        EXPECT_LE(to_golden.rel_l2, kMaxRelL2) << w.clip << " w" << w.window << " " << npu.kind();
        EXPECT_GT(to_f32.rel_l2, 0.0) << "identical to f32: the device products did not run";
        // 2 convolutions + 4 products per layer, each one launch.
        EXPECT_EQ(after.launches - before.launches, 2u + 4u * static_cast<unsigned>(model->hparams().n_audio_layer));
        worst = std::max(worst, to_f32.rel_l2);
      }
      std::printf("[npu encoder %s, %s] worst rel-L2 to f32 %.3e over %zu windows\n", file, npu.kind().c_str(), worst,
                  windows.size());
    }
  }
}

}  // namespace
}  // namespace npu
}  // namespace npw
