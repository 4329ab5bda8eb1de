// The dispatch plan of one window (log-mel in, encoder, the decoder's cross-attention keys and
// values) at tiny and base dimensions, read from the NPU backend's books after a warm-up window:
// exactly one launch per product (a decoder layer's cross keys and values in one batch), exactly the bytes each product uses synced each way, no device
// buffer allocated. One encoder layer and one decoder layer keep it to seconds; every layer has the
// same products, so the per-layer figures are those of the full models.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/npu/npu_backend.h"
#include "backend/npu/npu_context.h"
#include "backend/npu/op_shapes.h"
#include "model/model.h"
#include "model/random_model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "util/thread_pool.h"

namespace npw {
namespace npu {
namespace {

std::shared_ptr<const Model> one_layer_model(const std::string& dims) {
  const std::string path = ::testing::TempDir() + "/npw-npu-plan-" + dims + ".bin";
  HParams hp = whisper_dims(dims);
  hp.n_audio_layer = 1;
  hp.n_text_layer = 1;
  std::vector<std::string> vocab;
  for (int i = 0; i < 50257; ++i) vocab.push_back(i < 256 ? std::string(1, static_cast<char>(i)) : "w" + std::to_string(i));
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    write_random_whisper(out, path, hp, GgmlType::F16, 3, vocab);
  }
  return Model::load(path);
}

struct Product {
  int M, n_out, n_in;
};

void check_plan(const std::string& dims, Generation g) {
  auto model = one_layer_model(dims);
  const HParams& hp = model->hparams();
  ThreadPool pool(2);
  NpuBackend npu(shared_emulator_context(g), 2);
  Encoder enc(*model, npu, pool);
  Decoder dec(*model, npu, pool, 1);
  std::vector<float> mel(static_cast<std::size_t>(hp.n_mels) * 3000);
  for (std::size_t i = 0; i < mel.size(); ++i) mel[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  auto window = [&] { dec.set_audio(enc.encode(mel.data())); };
  window();  // warm-up: kernels loaded and self-tested, pooled buffers sized
  AcceleratorBooks a, b;
  npu.accelerator_books(&a);
  window();
  npu.accelerator_books(&b);

  const int D = hp.n_audio_state, L = hp.n_audio_layer;
  std::vector<Product> plan = {{3000, D, 3 * hp.n_mels}, {1500, D, 3 * D}};  // the two convolutions
  for (int l = 0; l < L; ++l) {
    for (Product p : {Product{1500, 3 * D, D}, Product{1500, D, D}, Product{1500, 4 * D, D}, Product{1500, D, 4 * D}})
      plan.push_back(p);
  }
  uint64_t to = 0, from = 0;
  for (const Product& p : plan) {
    to += static_cast<uint64_t>(p.M) * round_up(p.n_in, 64);
    from += static_cast<uint64_t>(p.M) * round_up(p.n_out, 128) * 4;
  }
  // A decoder layer's cross-attention keys and values: one batch of two launches on the encoder's
  // output, synced to the device once for both.
  const std::size_t batches = plan.size() + static_cast<std::size_t>(hp.n_text_layer);
  for (int l = 0; l < hp.n_text_layer; ++l) {
    to += static_cast<uint64_t>(1500) * round_up(D, 64);
    for (int kv = 0; kv < 2; ++kv) {
      plan.push_back({1500, hp.n_text_state, D});
      from += static_cast<uint64_t>(1500) * round_up(hp.n_text_state, 128) * 4;
    }
  }
  EXPECT_EQ(b.launches - a.launches, plan.size()) << dims;
  EXPECT_EQ(b.batches - a.batches, batches) << dims;
  EXPECT_EQ(b.products_on_device - a.products_on_device, plan.size()) << dims;
  EXPECT_EQ(b.products_on_cpu - a.products_on_cpu, 0u) << dims;
  EXPECT_EQ(b.bytes_to_device - a.bytes_to_device, to) << dims;
  EXPECT_EQ(b.bytes_from_device - a.bytes_from_device, from) << dims;
  EXPECT_EQ(b.buffers_allocated - a.buffers_allocated, 0u) << dims << ": device buffers allocated after warm-up";
  std::printf("[npu plan %s, %s, 1+1 layers] %llu launches in %llu batches, %.2f MB to device, %.2f MB from device, 0 buffers, "
              "%.2f ms modelled device time per window\n",
              dims.c_str(), generation_name(g), static_cast<unsigned long long>(b.launches - a.launches),
              static_cast<unsigned long long>(b.batches - a.batches),
              (b.bytes_to_device - a.bytes_to_device) / 1e6, (b.bytes_from_device - a.bytes_from_device) / 1e6,
              (b.device_seconds - a.device_seconds) * 1e3);
}

TEST(NpuDispatchPlan, Tiny) { check_plan("tiny", Generation::Npu1); }
TEST(NpuDispatchPlan, Base) { check_plan("base", Generation::Npu2); }

}  // namespace
}  // namespace npu
}  // namespace npw
