// The steady state must not touch the heap: after one warm-up window, a window (log-mel, encoder,
// cross-attention keys/values), a decoded token, a long prompt and 5-beam steps allocate nothing, with every registered backend
// and with one and two threads; also when the mel window and the encoder output live in buffers
// from a provider (the element's pool), which are then acquired once and reused. Counted with the benchmark's own counter (tools/alloc_counter.h),
// which sees every allocation of the process, including those inside BLAS, FFTW and the thread
// pool. No timing is involved.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "audio/mel.h"
#include "backend/backend.h"
#include "backend/backend_registry.h"
#include "model/model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "decode/alignment_heads.h"
#include "decode/decoder_alignment_source.h"
#include "decode/window_buffers.h"
#include "../decode/recording_provider.h"
#include "util/aligned_buffer.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

std::string data_path(const std::string& name) { return std::string(NPW_TEST_DATA_DIR) + "/" + name; }

// A 30 s signal without digital silence, so the mel runs its full path on every frame.
std::vector<float> noise_window() {
  std::vector<float> s(static_cast<std::size_t>(kMelWindowSamples));
  uint32_t state = 1u;
  for (float& x : s) {
    state = state * 1664525u + 1013904223u;
    x = (static_cast<float>(state >> 8) / 16777216.0f - 0.5f) * 0.2f;
  }
  return s;
}

struct Case {
  std::string model;    // file under tests/data
  std::string backend;  // registered backend name
  int threads;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const std::string& b : backend_names()) {
    if (b == "auto") continue;
    for (const char* m : {"ggml-test-f32.bin", "ggml-test-f16.bin"}) {
      for (int t : {1, 2}) out.push_back({m, b, t});
    }
  }
  return out;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string s = info.param.model.substr(10, 3) + "_" + info.param.backend + "_t" + std::to_string(info.param.threads);
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

class SteadyStateAlloc : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!npw_alloc_counter_active()) GTEST_SKIP() << "allocation counting is off in sanitizer builds";
    const Case& c = GetParam();
    try {
      backend_ = make_backend(c.backend, c.threads);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Unavailable) GTEST_SKIP() << c.backend << " unavailable: " << e.what();
      throw;
    }
    model_ = Model::load(data_path(c.model));
    pool_ = std::make_unique<ThreadPool>(c.threads);
    mel_ = std::make_unique<MelSpectrogram>(model_->mel_filters().data(), model_->hparams().n_mels, pool_.get());
    encoder_ = std::make_unique<Encoder>(*model_, *backend_, *pool_);
    decoder_ = std::make_unique<Decoder>(*model_, *backend_, *pool_, 1);
    signal_ = noise_window();
    mel_out_.resize(static_cast<std::size_t>(model_->hparams().n_mels) * kMelWindowFrames);
  }

  void window() {
    mel_->compute_window_mel(signal_.data(), static_cast<int64_t>(signal_.size()), mel_out_.data());
    decoder_->set_audio(encoder_->encode(mel_out_.data()));
  }

  std::shared_ptr<const Model> model_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<MelSpectrogram> mel_;
  std::unique_ptr<Encoder> encoder_;
  std::unique_ptr<Decoder> decoder_;
  std::vector<float> signal_;
  AlignedBuffer<float> mel_out_;
};

TEST(AllocCounter, CountsMallocAndNew) {
  if (!npw_alloc_counter_active()) GTEST_SKIP() << "allocation counting is off in sanitizer builds";
  const long long a = npw_alloc_count();
  void* volatile p = std::malloc(100);
  std::free(p);
  EXPECT_EQ(npw_alloc_count() - a, 1);
  auto v = std::make_unique<std::vector<int>>(1000);
  EXPECT_EQ(npw_alloc_count() - a, 3);  // the vector object and its elements
  void* q = nullptr;
  ASSERT_EQ(posix_memalign(&q, 64, 256), 0);
  std::free(q);
  EXPECT_EQ(npw_alloc_count() - a, 4);
}

TEST_P(SteadyStateAlloc, WindowAllocatesNothing) {
  window();  // warm-up: anything sized lazily happens here
  const long long before = npw_alloc_count();
  window();
  window();
  EXPECT_EQ(npw_alloc_count() - before, 0) << "heap allocations in two steady-state windows (mel + encoder + "
                                              "cross-attention K/V); run npuwhisper-bench for the split";
}

TEST_P(SteadyStateAlloc, WindowInProvidedBuffersAllocatesNothing) {
  const HParams& hp = model_->hparams();
  npwtest::RecordingProvider provider;
  WindowBuffers buffers(static_cast<std::size_t>(hp.n_mels) * kMelWindowFrames,
                        static_cast<std::size_t>(hp.n_audio_ctx) * hp.n_audio_state);
  buffers.set_provider(&provider);
  // As the Transcriber runs a window: the mel into the pooled mel buffer, the encoder from there
  // into the pooled output buffer, the decoder's cross keys/values from that.
  auto pooled_window = [&] {
    mel_->compute_window_mel(signal_.data(), static_cast<int64_t>(signal_.size()), buffers.mel());
    encoder_->set_output(buffers.encoder_output());
    const float* out = encoder_->encode(buffers.mel());
    EXPECT_EQ(out, buffers.encoder_output());
    decoder_->set_audio(out);
  };
  pooled_window();  // warm-up: the two buffers are acquired here
  EXPECT_EQ(provider.acquires, 2);
  const long long before = npw_alloc_count();
  pooled_window();
  pooled_window();
  EXPECT_EQ(npw_alloc_count() - before, 0) << "heap allocations in two steady-state windows on provided buffers";
  EXPECT_EQ(provider.acquires, 2) << "the provided buffers are reused, not acquired per window";
  encoder_->set_output(nullptr);
  buffers.release();
  EXPECT_EQ(provider.releases, 2);
}

TEST_P(SteadyStateAlloc, TokenAllocatesNothing) {
  window();
  const Vocab& v = model_->vocab();
  std::vector<int> prompt = {v.sot(), v.no_timestamps()};
  const int n_vocab = decoder_->n_vocab();
  auto sequence = [&](int steps) {
    decoder_->reset(1);
    const TokenSpan span{prompt.data(), static_cast<int>(prompt.size())};
    decoder_->decode(&span, 1);
    for (int i = 0; i < steps; ++i) {
      const int token = (220 + 37 * i) % n_vocab;
      decoder_->decode_next(&token);
    }
  };
  sequence(2);  // warm-up
  const long long before_tokens = npw_alloc_count();
  for (int i = 0; i < 24; ++i) {
    const int token = (100 + 13 * i) % n_vocab;
    decoder_->decode_next(&token);
  }
  EXPECT_EQ(npw_alloc_count() - before_tokens, 0) << "heap allocations in 24 steady-state decoder steps";
  const long long before_sequence = npw_alloc_count();
  sequence(8);
  EXPECT_EQ(npw_alloc_count() - before_sequence, 0) << "heap allocations in a new sequence (prompt + 8 steps)";
}

// Beam search as a real window runs it (issue 14): a prompt of 224 previous tokens in one call, the
// sequence split into five beams, steps of five tokens with the beams reordered between them.
TEST_P(SteadyStateAlloc, BeamStepsAndLongPromptsAllocateNothing) {
  constexpr int kBeams = 5, kPrompt = 224;
  Decoder beams(*model_, *backend_, *pool_, kBeams);
  mel_->compute_window_mel(signal_.data(), static_cast<int64_t>(signal_.size()), mel_out_.data());
  beams.set_audio(encoder_->encode(mel_out_.data()));
  const int n_vocab = beams.n_vocab();
  std::vector<int> prompt(kPrompt);
  prompt[0] = model_->vocab().sot();
  for (int i = 1; i < kPrompt; ++i) prompt[static_cast<std::size_t>(i)] = (220 + 37 * i) % n_vocab;
  const std::vector<int> split(kBeams, 0), shuffle = {1, 0, 2, 2, 4};
  std::vector<int> step(kBeams);
  auto window = [&](int steps) {
    beams.reset(1);
    const TokenSpan span{prompt.data(), kPrompt};
    beams.decode(&span, 1);
    beams.reorder(split);
    for (int i = 0; i < steps; ++i) {
      for (int b = 0; b < kBeams; ++b) step[static_cast<std::size_t>(b)] = (100 + 13 * i + 7 * b) % n_vocab;
      beams.decode_next(step.data());
      beams.reorder(shuffle);
    }
  };
  window(2);  // warm-up
  const long long before = npw_alloc_count();
  window(6);
  EXPECT_EQ(npw_alloc_count() - before, 0)
      << "heap allocations in a 224-token prompt and six 5-beam steps with reordering";
}

TEST_P(SteadyStateAlloc, WordAlignmentPassAllocatesNothing) {
  // The extra decoder pass of word timestamps, its heads' scores and its token probabilities, as
  // WordAligner uses them: sized on first use, then reused window after window. The heads' layers
  // keep float cross-attention keys, told before each window as a live step does.
  const int n_layer = decoder_->n_layer();
  std::vector<AlignmentHead> heads;
  for (int l = n_layer / 2; l < n_layer; ++l)
    for (int h = 0; h < decoder_->n_head(); ++h) heads.push_back({l, h});
  DecoderAlignmentSource source(*decoder_);
  source.use_heads(heads);
  window();
  const Vocab& v = model_->vocab();
  std::vector<std::vector<int>> sequences;
  for (int len : {24, 12}) {
    std::vector<int> seq = {v.sot(), v.no_timestamps()};
    for (int i = 0; i < len; ++i) seq.push_back((300 + 41 * i) % v.eot());
    seq.push_back(v.eot());
    sequences.push_back(seq);
  }
  bool keep[64] = {};
  for (int l = n_layer / 2; l < n_layer; ++l) keep[l] = true;
  const int frames = 550;
  std::vector<float> scores(static_cast<std::size_t>(sequences[0].size()) * frames), probs(64);
  auto pass = [&](const std::vector<int>& seq) {
    decoder_->alignment_pass(seq.data(), static_cast<int>(seq.size()), keep);
    for (int l = n_layer / 2; l < n_layer; ++l)
      for (int h = 0; h < decoder_->n_head(); ++h) decoder_->alignment_scores(l, h, frames, scores.data(), frames);
    const int n_text = static_cast<int>(seq.size()) - 3;
    decoder_->alignment_token_probs(1, seq.data() + 2, n_text, v.eot(), probs.data());
  };
  pass(sequences[0]);  // warm-up at the largest size
  const long long before = npw_alloc_count();
  source.use_heads(heads);
  window();
  pass(sequences[0]);
  source.use_heads(heads);
  window();
  pass(sequences[1]);
  EXPECT_EQ(npw_alloc_count() - before, 0) << "heap allocations in two windows with the word-alignment pass";
}

INSTANTIATE_TEST_SUITE_P(Backends, SteadyStateAlloc, ::testing::ValuesIn(cases()), case_name);

}  // namespace
}  // namespace npw
