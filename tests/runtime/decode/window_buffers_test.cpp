// Pooled window buffers: the Transcriber computes the mel window and the encoder output in memory
// it gets from its BufferProvider, acquires each once and reuses it window after window, gives it
// back on release_buffers() or a provider change, and decodes exactly as with the default heap.
// The contents of the provided memory are checked against the mel and the encoder run directly on
// the same audio, so the buffers are shown to be the ones the stages write and read.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audio/mel.h"
#include "audio/wav.h"
#include "backend/backend.h"
#include "decode/transcriber.h"
#include "decode/window_buffers.h"
#include "model/model.h"
#include "nn/encoder.h"
#include "recording_provider.h"
#include "util/buffer_provider.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

constexpr int kThreads = 2;
constexpr std::size_t kWindow = 480000;

Options fast_options() {
  Options o;
  o.backend = "cpu";
  o.n_threads = kThreads;
  o.beam_size = 0;
  o.temperatures = {0.0f};
  return o;
}

std::shared_ptr<const Model> test_model() { return Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin"); }

float max_abs_diff(const float* a, const float* b, std::size_t n) {
  float d = 0.0f;
  for (std::size_t i = 0; i < n; ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

// Three 30 s windows of long45 repeated, as the element hands them over (non-final: one mel each).
std::vector<float> three_windows() {
  const WavData wav = read_wav(std::string(NPW_TEST_DATA_DIR) + "/audio/long45.wav");
  std::vector<float> x;
  while (x.size() < 3 * kWindow) x.insert(x.end(), wav.samples.begin(), wav.samples.end());
  x.resize(3 * kWindow);
  return x;
}

TEST(WindowBuffers, TranscriberComputesInProvidedMemoryAndReusesIt) {
  const auto model = test_model();
  const HParams& hp = model->hparams();
  const std::size_t mel_floats = static_cast<std::size_t>(hp.n_mels) * kMelWindowFrames;
  const std::size_t enc_floats = static_cast<std::size_t>(hp.n_audio_ctx) * hp.n_audio_state;
  const std::vector<float> x = three_windows();

  npwtest::RecordingProvider provider;
  Transcriber t(model, fast_options());
  EXPECT_EQ(t.buffer_sizes(), (std::vector<std::size_t>{mel_floats * sizeof(float), enc_floats * sizeof(float)}));
  t.set_buffer_provider(&provider);
  EXPECT_EQ(provider.acquires, 0);  // nothing until a window needs it

  // What the stages give for each window when run directly.
  ThreadPool pool(kThreads);
  auto backend = make_backend("cpu", kThreads);
  MelSpectrogram mel(model->mel_filters().data(), hp.n_mels, &pool);
  Encoder encoder(*model, *backend, pool);
  std::vector<float> ref_mel(mel_floats);

  Transcriber heap(model, fast_options());
  const float* mel_mem = nullptr;
  const float* enc_mem = nullptr;
  for (int w = 0; w < 3; ++w) {
    const float* samples = x.data() + static_cast<std::size_t>(w) * kWindow;
    const WindowResult r = t.transcribe_window(samples, kWindow, false);
    EXPECT_EQ(provider.acquires, 2) << "window " << w << ": the mel and encoder buffers are acquired once";
    EXPECT_EQ(provider.releases, 0);
    ASSERT_EQ(provider.live.size(), 2u);
    const float* m = provider.live_buffer(mel_floats * sizeof(float));
    const float* e = provider.live_buffer(enc_floats * sizeof(float));
    ASSERT_NE(m, nullptr);
    ASSERT_NE(e, nullptr);
    if (w == 0) {
      mel_mem = m;
      enc_mem = e;
    }
    EXPECT_EQ(m, mel_mem) << "window " << w << " computed its mel elsewhere";
    EXPECT_EQ(e, enc_mem) << "window " << w << " computed its encoder output elsewhere";

    mel.compute_window_mel(samples, static_cast<int64_t>(kWindow), ref_mel.data());
    EXPECT_LE(max_abs_diff(m, ref_mel.data(), mel_floats), 1e-6f) << "window " << w;
    const float* ref_enc = encoder.encode(ref_mel.data());
    EXPECT_LE(max_abs_diff(e, ref_enc, enc_floats), 1e-4f) << "window " << w;

    // Same decoding as on heap buffers.
    const WindowResult hr = heap.transcribe_window(samples, kWindow, false);
    EXPECT_EQ(r.consumed_samples, hr.consumed_samples);
    ASSERT_EQ(r.segments.size(), hr.segments.size());
    for (std::size_t i = 0; i < r.segments.size(); ++i) EXPECT_EQ(r.segments[i].tokens, hr.segments[i].tokens);
  }

  t.release_buffers();  // a flush
  EXPECT_EQ(provider.releases, 2);
  EXPECT_TRUE(provider.live.empty());
  t.transcribe_window(x.data(), kWindow, true);
  EXPECT_EQ(provider.acquires, 4) << "the next window acquires again";
  t.set_buffer_provider(nullptr);  // back to the heap: ours are returned
  EXPECT_EQ(provider.releases, 4);
  t.transcribe_window(x.data(), kWindow, false);
  EXPECT_EQ(provider.acquires, 4);
  EXPECT_EQ(provider.foreign_releases, 0);
}

TEST(WindowBuffers, DestructionReturnsTheBuffers) {
  npwtest::RecordingProvider provider;
  {
    Transcriber t(test_model(), fast_options());
    t.set_buffer_provider(&provider);
    const std::vector<float> x(32000, 0.01f);
    t.transcribe_window(x.data(), x.size(), true);
    EXPECT_EQ(provider.acquires, 2);
  }
  EXPECT_EQ(provider.releases, 2);
  EXPECT_EQ(provider.foreign_releases, 0);
}

// A provider that hands out memory 32 bytes past a 64-byte boundary.
class MisalignedProvider : public BufferProvider {
 public:
  void* acquire(std::size_t bytes) override {
    base = heap_buffer_provider().acquire(bytes + 64);
    return static_cast<char*>(base) + 32;
  }
  void release(void* data) noexcept override {
    if (data == static_cast<char*>(base) + 32) {
      heap_buffer_provider().release(base);
      ++releases;
    }
  }
  void* base = nullptr;
  int releases = 0;
};

TEST(WindowBuffers, MisalignedMemoryIsRefusedAndGivenBack) {
  MisalignedProvider provider;
  WindowBuffers b(1000, 2000);
  b.set_provider(&provider);
  EXPECT_THROW(b.mel(), Error);
  EXPECT_EQ(provider.releases, 1);
}

TEST(WindowBuffers, HeapByDefault) {
  WindowBuffers b(1000, 2000);
  float* m = b.mel();
  float* e = b.encoder_output();
  ASSERT_NE(m, nullptr);
  ASSERT_NE(e, nullptr);
  EXPECT_NE(m, e);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m) % kProvidedAlignment, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(e) % kProvidedAlignment, 0u);
  EXPECT_EQ(b.mel(), m);  // held, not acquired again
  EXPECT_EQ(b.mel_bytes(), 4000u);
  EXPECT_EQ(b.encoder_bytes(), 8000u);
}

}  // namespace
}  // namespace npw
