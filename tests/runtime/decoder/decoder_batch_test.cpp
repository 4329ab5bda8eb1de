// Hypotheses decoded together must each get what they would get alone (batching, long prompts split
// into chunks, reorder() as beam search uses it, truncate()), and steady-state decoding must reuse
// its buffers instead of allocating.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "golden_data.h"
#include "model/model.h"
#include "nn/decoder.h"
#include "util/error.h"
#include "util/memory_ledger.h"
#include "util/thread_pool.h"

// Counts heap allocations made anywhere in this test program, to see what one decoding step costs.
// (GCC cannot see that the replaced new and delete below pair malloc with free.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<long> g_allocations{0};          // outside backend calls
std::atomic<long> g_backend_allocations{0};  // while a backend call is running (not the decoder's doing)
std::atomic<int> g_in_backend{0};
}
void* operator new(std::size_t n) {
  ++(g_in_backend.load() > 0 ? g_backend_allocations : g_allocations);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace npw {
namespace {

// Forwards to a real backend and marks the time spent inside it, so that the allocation count can
// tell the decoder's own allocations from the backend's.
class MarkingBackend : public Backend {
 public:
  explicit MarkingBackend(Backend& inner) : inner_(inner) {}
  std::string kind() const override { return inner_.kind(); }
  std::unique_ptr<PackedMatrix> pack(const TensorView& w) const override { return inner_.pack(w); }
  void linear(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y, int ldy) override {
    ++g_in_backend;
    inner_.linear(X, M, ldx, W, bias, Y, ldy);
    --g_in_backend;
  }
  void matmul(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
              float beta, float* C, int ldc) override {
    ++g_in_backend;
    inner_.matmul(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    --g_in_backend;
  }
  void set_threads(int n) override { inner_.set_threads(n); }
  int threads() const override { return inner_.threads(); }

 private:
  Backend& inner_;
};

// The cpu backend claiming reduced precision, so that a decoder over it keeps its KV cache in halves
// while every product stays the f32 one: differences from the f32 decoder are the cache's alone.
class ReducedPrecisionCpu : public Backend {
 public:
  explicit ReducedPrecisionCpu(Backend& inner) : inner_(inner) {}
  std::string kind() const override { return inner_.kind(); }
  std::unique_ptr<PackedMatrix> pack(const TensorView& w) const override { return inner_.pack(w); }
  void linear(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y, int ldy) override {
    inner_.linear(X, M, ldx, W, bias, Y, ldy);
  }
  void matmul(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
              float beta, float* C, int ldc) override {
    inner_.matmul(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  bool reduced_precision_attention() const override { return true; }
  void set_threads(int n) override { inner_.set_threads(n); }
  int threads() const override { return inner_.threads(); }

 private:
  Backend& inner_;
};

double max_abs_diff(const float* a, const float* b, int n) {
  double m = 0;
  for (int i = 0; i < n; ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
  return m;
}

class DecoderBatch : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = Model::load(testdata::path("ggml-test-f32.bin"));
    backend_ = make_backend("cpu", 2);
    pool_ = std::make_unique<ThreadPool>(2);
    enc_ = testdata::read_raw<float>("golden/jfk/enc_w0.f32");
    ASSERT_EQ(enc_.size(), 1500u * 64u);
    V_ = model_->hparams().n_vocab;
  }
  // chunk_rows: small to make prompts cross chunk boundaries, the default otherwise.
  std::unique_ptr<Decoder> make(int max_batch, int chunk_rows = Decoder::kDefaultChunkRows) {
    auto d = std::make_unique<Decoder>(*model_, *backend_, *pool_, max_batch, chunk_rows);
    d->set_audio(enc_.data());
    return d;
  }
  // Logits after feeding `prompt` at once and then each of `steps` alone, on a fresh single sequence.
  std::vector<std::vector<float>> alone(const std::vector<int>& prompt, const std::vector<int>& steps) {
    auto d = make(1);
    d->reset(1);
    std::vector<std::vector<float>> out;
    TokenSpan span{prompt.data(), int(prompt.size())};
    const float* lg = d->decode(&span, 1);
    out.emplace_back(lg, lg + V_);
    for (int t : steps) {
      lg = d->decode_next(&t);
      out.emplace_back(lg, lg + V_);
    }
    return out;
  }
  std::vector<int> long_prompt(int n, int seed) const {
    std::vector<int> p = {model_->vocab().sot()};
    for (int i = 1; i < n; ++i) p.push_back((seed * 7919 + i * 104729) % model_->vocab().eot());
    return p;
  }

  std::shared_ptr<const Model> model_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<float> enc_;
  int V_ = 0;
};

constexpr double kTol = 1e-4;  // products over different row counts may round differently

TEST_F(DecoderBatch, BatchedSequencesEqualEachAlone) {
  const int sot = model_->vocab().sot(), nots = model_->vocab().no_timestamps();
  // Prompts of 100 and 30 rows span two chunks of 64 together; the third is the plain
  // no-timestamps start.
  std::vector<std::vector<int>> prompts = {long_prompt(100, 1), long_prompt(30, 2), {sot, nots}};
  std::vector<std::vector<int>> steps = {{11, 12, 13}, {220, 50363, 50400}, {40987, 31473, 24425}};

  auto d = make(3, 64);
  d->reset(3);
  std::vector<TokenSpan> spans;
  for (auto& p : prompts) spans.push_back({p.data(), int(p.size())});
  std::vector<std::vector<const float*>> unused;
  const float* lg = d->decode(spans.data(), 3);
  std::vector<std::vector<std::vector<float>>> batched(3);
  for (int s = 0; s < 3; ++s) batched[s].emplace_back(lg + std::size_t(s) * V_, lg + std::size_t(s + 1) * V_);
  for (std::size_t k = 0; k < 3; ++k) {
    int t[3] = {steps[0][k], steps[1][k], steps[2][k]};
    lg = d->decode_next(t);
    for (int s = 0; s < 3; ++s) batched[s].emplace_back(lg + std::size_t(s) * V_, lg + std::size_t(s + 1) * V_);
  }
  double worst = 0;
  for (int s = 0; s < 3; ++s) {
    auto ref = alone(prompts[s], steps[s]);
    EXPECT_EQ(d->length(s), int(prompts[s].size() + steps[s].size()));
    for (std::size_t k = 0; k < ref.size(); ++k) {
      double e = max_abs_diff(batched[s][k].data(), ref[k].data(), V_);
      EXPECT_LE(e, kTol) << "sequence " << s << " step " << k;
      worst = std::max(worst, e);
    }
  }
  std::printf("[ batch    ] batched vs alone: max_abs %.3g\n", worst);
}

TEST_F(DecoderBatch, PromptAtOnceEqualsOneTokenAtATime) {
  std::vector<int> p = long_prompt(150, 3);
  // In chunks of 64 (three chunks, the few-row products) and in the default chunk (one chunk, the
  // many-row products).
  for (int chunk_rows : {64, Decoder::kDefaultChunkRows}) {
    auto d = make(1, chunk_rows);
    d->reset(1);
    TokenSpan span{p.data(), int(p.size())};
    std::vector<float> all(p.size() * std::size_t(V_));
    d->decode_all(&span, 1, all.data());
    d->reset(1);
    double worst = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      const float* lg = d->decode_next(&p[i]);
      worst = std::max(worst, max_abs_diff(lg, all.data() + i * V_, V_));
    }
    EXPECT_LE(worst, kTol) << "chunks of " << chunk_rows << " rows";
    std::printf("[ batch    ] 150-token prompt at once (chunks of %d) vs one at a time: max_abs %.3g\n", chunk_rows,
                worst);
  }
}

// The half KV cache of reduced-precision backends: a 120-token prompt (the tiled attention over the
// widened halves) then beam steps of three sequences (the step attention over the halves), with a
// reorder that copies a hypothesis, against the same calls on the f32 cache.
TEST_F(DecoderBatch, HalfCacheStaysCloseToTheF32Cache) {
  ReducedPrecisionCpu reduced(*backend_);
  Decoder half(*model_, reduced, *pool_, 3);
  if (half.int8_cross_attention()) {
    // Its cross-attention would be the int8 task's, not the f32 one the comparison isolates the cache
    // from; meson's decoder_float_values runs this with NPW_ATTENTION_VALUES=float.
    GTEST_SKIP() << "a reduced-precision decoder on this CPU reads int8 cross-attention keys and values";
  }
  half.set_audio(enc_.data());
  auto full = make(3);
  const std::vector<int> p = long_prompt(120, 5);
  const std::vector<int> to_beams = {0, 0, 0}, shuffle = {2, 0, 0};
  double worst = 0.0, worst_rel_l2 = 0.0;
  auto compare = [&](const float* a, const float* b, int rows) {
    for (int s = 0; s < rows; ++s) {
      const float* x = a + std::size_t(s) * V_;
      const float* y = b + std::size_t(s) * V_;
      double num = 0.0, den = 0.0;
      for (int i = 0; i < V_; ++i) {
        num += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
        den += double(y[i]) * y[i];
      }
      worst = std::max(worst, max_abs_diff(x, y, V_));
      worst_rel_l2 = std::max(worst_rel_l2, std::sqrt(num / std::max(den, 1e-30)));
    }
  };
  for (Decoder* d : {&half, full.get()}) d->reset(1);
  TokenSpan span{p.data(), int(p.size())};
  std::vector<float> first(V_);
  std::copy_n(half.decode(&span, 1), V_, first.data());
  compare(first.data(), full->decode(&span, 1), 1);
  for (Decoder* d : {&half, full.get()}) d->reorder(to_beams);
  for (int step = 0; step < 6; ++step) {
    if (step == 3) {
      for (Decoder* d : {&half, full.get()}) d->reorder(shuffle);
    }
    const int t[3] = {11 + step, 220 + step, 40987 - step};
    std::vector<float> lg(std::size_t(3) * V_);
    std::copy_n(half.decode_next(t), lg.size(), lg.data());
    compare(lg.data(), full->decode_next(t), 3);
  }
  EXPECT_LE(worst_rel_l2, 1e-3);
  EXPECT_LE(worst, 1e-2);
  std::printf("[ batch    ] half KV cache vs f32 cache: max_abs %.3g, rel_l2 %.3g\n", worst, worst_rel_l2);
}

TEST_F(DecoderBatch, ReorderCopiesHypothesesLikeBeamSearch) {
  const int sot = model_->vocab().sot();
  std::vector<int> a = {sot, 100, 200}, b = {sot, 300, 400, 500, 600};
  auto d = make(3);
  d->reset(2);
  TokenSpan spans[2] = {{a.data(), 3}, {b.data(), 5}};
  d->decode(spans, 2);

  // B twice and A once, in a new order; then each continues with its own token.
  d->reorder({1, 1, 0});
  ASSERT_EQ(d->n_seqs(), 3);
  EXPECT_EQ(d->length(0), 5);
  EXPECT_EQ(d->length(2), 3);
  int t1[3] = {7, 8, 9};
  const float* lg = d->decode_next(t1);
  auto b7 = alone(b, {7}), b8 = alone(b, {8}), a9 = alone(a, {9});
  EXPECT_LE(max_abs_diff(lg, b7[1].data(), V_), kTol);
  EXPECT_LE(max_abs_diff(lg + V_, b8[1].data(), V_), kTol);
  EXPECT_LE(max_abs_diff(lg + 2 * V_, a9[1].data(), V_), kTol);

  // Drop one hypothesis and swap the others: A+9 first, then B+7; each gains one more token.
  d->reorder({2, 0});
  ASSERT_EQ(d->n_seqs(), 2);
  int t2[2] = {10, 11};
  lg = d->decode_next(t2);
  auto a9_10 = alone(a, {9, 10}), b7_11 = alone(b, {7, 11});
  EXPECT_LE(max_abs_diff(lg, a9_10[2].data(), V_), kTol);
  EXPECT_LE(max_abs_diff(lg + V_, b7_11[2].data(), V_), kTol);

  // Grow back to three (a dropped slot is reused) and truncate one hypothesis to its prompt.
  d->reorder({0, 1, 1});
  d->truncate(2, 5);
  int t3[3] = {12, 13, 14};
  lg = d->decode_next(t3);
  auto b14 = alone(b, {14});
  auto a9_10_12 = alone(a, {9, 10, 12});
  EXPECT_LE(max_abs_diff(lg, a9_10_12[3].data(), V_), kTol);
  EXPECT_LE(max_abs_diff(lg + 2 * V_, b14[1].data(), V_), kTol);
}

// Beam search as the decoding policy runs it: a prompt decoded once, then five hypotheses that all
// read its rows from one shared prefix (KvCache), reordered, one truncated below the prompt and one
// fed many tokens at once (both then need the prompt's rows as their own); each against the same
// tokens decoded alone.
TEST_F(DecoderBatch, BeamsFromOnePromptEqualEachAlone) {
  const std::vector<int> p = long_prompt(40, 9);
  auto d = make(5);
  d->reset(1);
  TokenSpan span{p.data(), int(p.size())};
  d->decode(&span, 1);
  d->reorder({0, 0, 0, 0, 0});
  std::vector<std::vector<int>> tok(5);
  double worst = 0.0;
  auto check = [&](const float* lg) {
    for (int s = 0; s < d->n_seqs(); ++s) {
      std::vector<int> prompt(p);
      std::vector<int> steps(tok[s]);
      if (steps.empty()) continue;
      auto ref = alone(prompt, steps);
      const double e = max_abs_diff(lg + std::size_t(s) * V_, ref.back().data(), V_);
      EXPECT_LE(e, kTol) << "hypothesis " << s << " after " << steps.size() << " tokens";
      worst = std::max(worst, e);
    }
  };
  for (int step = 0; step < 3; ++step) {
    int t[5];
    for (int s = 0; s < 5; ++s) tok[s].push_back(t[s] = 100 + 37 * s + step);
    check(d->decode_next(t));
  }
  // Hypotheses 3 and 1 twice, 0 once; the last one is cut back into the prompt, then goes on.
  d->reorder({3, 1, 0, 1, 3});
  tok = {tok[3], tok[1], tok[0], tok[1], tok[3]};
  d->truncate(4, 30);
  int t2[5] = {500, 501, 502, 503, 504};
  for (int s = 0; s < 5; ++s) tok[s].push_back(t2[s]);
  {
    // Hypothesis 4: the first 30 prompt tokens, then 504 (alone() takes the prompt and the steps).
    const float* lg = d->decode_next(t2);
    std::vector<float> h4(lg + 4 * std::size_t(V_), lg + 5 * std::size_t(V_));
    tok[4].clear();
    check(lg);  // hypotheses 0-3 (4 has no steps recorded: checked below)
    std::vector<int> cut(p.begin(), p.begin() + 30);
    auto ref = alone(cut, {504});
    EXPECT_LE(max_abs_diff(h4.data(), ref.back().data(), V_), kTol) << "the truncated hypothesis";
  }
  // Many tokens at once on two hypotheses still reading the prefix (the tiled attention path).
  d->reorder({0, 1});
  tok.resize(2);
  std::vector<int> many0(20), many1(17);
  for (int i = 0; i < 20; ++i) many0[i] = 1000 + i;
  for (int i = 0; i < 17; ++i) many1[i] = 2000 + i;
  TokenSpan spans[2] = {{many0.data(), 20}, {many1.data(), 17}};
  const float* lg = d->decode(spans, 2);
  tok[0].insert(tok[0].end(), many0.begin(), many0.end());
  tok[1].insert(tok[1].end(), many1.begin(), many1.end());
  for (int s = 0; s < 2; ++s) {
    std::vector<int> all(p);
    all.insert(all.end(), tok[s].begin(), tok[s].end());
    auto ref = alone(all, {});
    EXPECT_LE(max_abs_diff(lg + std::size_t(s) * V_, ref.back().data(), V_), kTol) << "many tokens, hypothesis " << s;
  }
  std::printf("[ batch    ] beams from one prompt vs alone: max_abs %.3g\n", worst);
}

TEST_F(DecoderBatch, RejectsBadInputWithoutChangingState) {
  auto d = make(2);
  d->reset(2);
  std::vector<int> ok = {model_->vocab().sot()}, bad = {V_};
  TokenSpan spans[2] = {{ok.data(), 1}, {bad.data(), 1}};
  EXPECT_THROW(d->decode(spans, 2), Error);
  EXPECT_THROW(d->decode(spans, 1), Error);  // two sequences are active
  EXPECT_EQ(d->length(0), 0);
  EXPECT_THROW(d->reorder({0, 2}), Error);
  EXPECT_THROW(d->reorder({0, 0, 0}), Error);  // more than max_batch
  EXPECT_THROW(d->reset(3), Error);
  std::vector<int> too_long(449, model_->vocab().sot());
  d->reset(1);
  TokenSpan tl{too_long.data(), int(too_long.size())};
  EXPECT_THROW(d->decode(&tl, 1), Error);
  EXPECT_EQ(d->length(0), 0);
  auto fresh = std::make_unique<Decoder>(*model_, *backend_, *pool_, 1);
  EXPECT_THROW(fresh->decode(spans, 1), Error);  // no audio yet
}

// The word-alignment scores read a layer's float keys: a layer whose keys are halves is refused
// rather than read wrong, and keep_f32_cross_keys takes effect with the next window.
// The f32 reference backend keeps every cross-attention key and value as floats; a reduced-precision
// backend (cpu-int8) stores halves, except the keys of the layers named for word alignment, from the
// next window on - and alignment_scores() refuses a layer whose keys are halves.
TEST_F(DecoderBatch, CrossKeysAreFloatsWhereTheBackendOrWordTimingNeedsThem) {
  const std::vector<int> tokens = long_prompt(6, 3);
  std::vector<float> scores(tokens.size() * 1500);
  bool keep[64] = {};
  {
    auto d = make(1);
    ASSERT_LE(d->n_layer(), 64);
    const int last = d->n_layer() - 1;
    keep[last] = true;
    for (int l = 0; l < d->n_layer(); ++l) EXPECT_TRUE(d->cross_keys_f32(l)) << "cpu, layer " << l;
    d->alignment_pass(tokens.data(), int(tokens.size()), keep);
    EXPECT_NO_THROW(d->alignment_scores(last, 0, 1500, scores.data(), 1500));
  }
  std::unique_ptr<Backend> int8 = make_backend("cpu-int8", 2);
  auto d = std::make_unique<Decoder>(*model_, *int8, *pool_, 1);
  d->set_audio(enc_.data());
  const int last = d->n_layer() - 1;
  d->alignment_pass(tokens.data(), int(tokens.size()), keep);
  EXPECT_FALSE(d->cross_keys_f32(last));
  EXPECT_THROW(d->alignment_scores(last, 0, 1500, scores.data(), 1500), Error);

  std::vector<bool> f32(static_cast<std::size_t>(d->n_layer()), false);
  f32[static_cast<std::size_t>(last)] = true;
  d->keep_f32_cross_keys(f32);
  EXPECT_FALSE(d->cross_keys_f32(last)) << "the current window keeps its halves";
  d->set_audio(enc_.data());
  EXPECT_TRUE(d->cross_keys_f32(last));
  EXPECT_FALSE(d->cross_keys_f32(0) && last != 0);
  d->alignment_pass(tokens.data(), int(tokens.size()), keep);
  EXPECT_NO_THROW(d->alignment_scores(last, 0, 1500, scores.data(), 1500));
}

// A stream's decoder stages each window's cross-attention keys and values in the encoder's idle
// activations (Decoder::set_audio's `staging`): the logits are those of a decoder with a staging
// buffer of its own, on both CPU backends and over a second window, and no staging of its own is
// then made (the memory ledger would show it); a short staging is not used.
TEST_F(DecoderBatch, StagingInCallersMemoryGivesTheSameLogits) {
  const std::vector<float> other = testdata::read_raw<float>("golden/espeak20/enc_w0.f32");
  ASSERT_EQ(other.size(), enc_.size());
  const std::vector<int> prompt = long_prompt(9, 2);
  auto logits = [&](Decoder& d) {
    d.reset(1);
    TokenSpan span{prompt.data(), int(prompt.size())};
    const float* lg = d.decode(&span, 1);
    return std::vector<float>(lg, lg + V_);
  };
  auto staging_resident = [] {
    for (const MemoryUse& u : memory_report().buffers) {
      if (u.what == "decoder: cross-attention staging") return u.mapped_bytes;
    }
    return std::size_t{0};
  };
  for (const char* kind : {"cpu", "cpu-int8"}) {
    std::unique_ptr<Backend> backend = make_backend(kind, 2);
    const std::size_t need = 2 * enc_.size();
    std::vector<float> lent(need + 16, std::nanf(""));
    Decoder own(*model_, *backend, *pool_, 1), lending(*model_, *backend, *pool_, 1);
    const std::vector<float>* windows[] = {&enc_, &other};
    for (const std::vector<float>* audio : windows) {
      own.set_audio(audio->data());
      lending.set_audio(audio->data(), lent.data(), lent.size());
      EXPECT_EQ(logits(own), logits(lending)) << kind;
    }
    {
      Decoder alone(*model_, *backend, *pool_, 1);
      alone.set_audio(enc_.data(), lent.data(), lent.size());
      EXPECT_EQ(staging_resident(), need * sizeof(float)) << kind << ": only `own`'s staging";
      Decoder short_lent(*model_, *backend, *pool_, 1);
      short_lent.set_audio(enc_.data(), lent.data(), need - 1);
      EXPECT_EQ(logits(short_lent), logits(alone)) << kind;
      EXPECT_EQ(staging_resident(), 2 * need * sizeof(float)) << kind << ": a short staging is not used";
    }
  }
}

// On a reduced-precision backend the cross-attention may read each layer's keys and values rounded to
// int8 once per window (where the CPU takes the int8 task): the same prompt gives the same logits
// again, after an alignment pass, and after other audio; a new window's audio is rounded afresh (a
// decoder that saw other audio first agrees with a fresh one).
TEST_F(DecoderBatch, PromptLogitsDoNotDependOnWhatTheWindowRanBefore) {
  std::unique_ptr<Backend> int8 = make_backend("cpu-int8", 2);
  const std::vector<int> prompt = long_prompt(MultiHeadAttention::kBf16HalfMinRows + 6, 5);
  const std::vector<float> other = testdata::read_raw<float>("golden/espeak20/enc_w0.f32");
  ASSERT_EQ(other.size(), enc_.size());
  auto run = [&](Decoder& d) {
    d.reset(1);
    TokenSpan span{prompt.data(), int(prompt.size())};
    const float* lg = d.decode(&span, 1);
    return std::vector<float>(lg, lg + V_);
  };
  Decoder d(*model_, *int8, *pool_, 1);
  d.set_audio(enc_.data());
  const std::vector<float> first = run(d), again = run(d);
  EXPECT_EQ(first, again) << "a second prompt over the window's rounded keys and values";
  const std::vector<int> words = long_prompt(MultiHeadAttention::kBf16HalfMinRows + 20, 9);
  bool keep[64] = {};
  d.alignment_pass(words.data(), int(words.size()), keep);
  EXPECT_EQ(run(d), first) << "after an alignment pass in the same window";
  d.set_audio(other.data());
  const std::vector<float> second = run(d);
  Decoder fresh(*model_, *int8, *pool_, 1);
  fresh.set_audio(other.data());
  EXPECT_EQ(run(fresh), second) << "the new window's audio, not the old one's";
  EXPECT_GT(max_abs_diff(first.data(), second.data(), V_), 1e-3) << "two windows of different audio";
  d.set_audio(enc_.data());
  EXPECT_EQ(run(d), first);
}

TEST_F(DecoderBatch, SteadyStateReusesBuffers) {
  MarkingBackend marking(*backend_);
  auto d = std::make_unique<Decoder>(*model_, marking, *pool_, 5);
  d->set_audio(enc_.data());
  d->reset(1);
  std::vector<int> prompt = {model_->vocab().sot(), model_->vocab().no_timestamps()};
  TokenSpan span{prompt.data(), 2};
  const float* first = d->decode(&span, 1);
  EXPECT_EQ(first, d->logits());
  d->reorder({0, 0, 0, 0, 0});
  int t[5] = {1, 2, 3, 4, 5};
  d->decode_next(t);  // warm-up: anything lazily sized by a callee happens here
  const std::vector<int> reversed = {4, 3, 2, 1, 0}, keep_best = {2, 2, 0, 1, 2};
  long before = g_allocations.load(), backend_before = g_backend_allocations.load();
  for (int step = 0; step < 20; ++step) {
    for (int s = 0; s < 5; ++s) t[s] = 100 * step + s;
    EXPECT_EQ(d->decode_next(t), first);
    d->reorder(step % 2 ? reversed : keep_best);
  }
  long total = g_allocations.load() - before;
  double backend_per_step = (g_backend_allocations.load() - backend_before) / 20.0;
  std::printf("[ alloc    ] heap allocations per 5-beam step + reorder: decoder/attention/pool %.2f, inside the "
              "backend %.2f\n", total / 20.0, backend_per_step);
  EXPECT_EQ(total, 0);
}

}  // namespace
}  // namespace npw
