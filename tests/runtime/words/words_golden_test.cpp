// Word timing against OpenAI's find_alignment + merge_punctuations (tests/data/golden/<clip>/
// words_<window>.json, made on the test model with its default alignment heads): the decoder is
// given the reference encoder output of the window, fed the file's tokens_fed, and the words,
// their tokens and their times must match exactly, the probabilities within 1e-3 relative; the
// DTW's first frame per row exactly, and the DTW input matrix of jfk/w0 within 1e-4. Every golden
// words file in the manifest is checked, for the f32 and the f16 model.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../decoder/golden_data.h"
#include "backend/backend.h"
#include "decode/alignment_heads.h"
#include "decode/decoder_alignment_source.h"
#include "decode/find_alignment.h"
#include "decode/punctuation_merge.h"
#include "decode/tokenizer.h"
#include "mini_json.h"
#include "model/model.h"
#include "nn/decoder.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using npwtest::Json;

// The words files the manifest lists.
std::vector<std::string> golden_word_files() {
  std::vector<std::string> out;
  const Json m = npwtest::read_json_file(testdata::path("manifest.json"));
  for (const Json& f : m["files"].arr)
    if (f.has("kind") && f["kind"].str == "word_timestamps") out.push_back(f["path"].str);
  return out;
}

struct Case {
  std::string model;
  std::string words;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* m : {"ggml-test-f32.bin", "ggml-test-f16.bin"})
    for (const std::string& w : golden_word_files()) out.push_back({m, w});
  return out;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string s = info.param.model.substr(10, 3) + "_" + info.param.words;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

void expect_word(const Word& got, const Json& want, const std::string& where) {
  EXPECT_EQ(got.word, want["word"].str) << where;
  EXPECT_EQ(got.tokens, want["tokens"].ints()) << where;
  EXPECT_NEAR(got.start, want["start"].num, 1e-6) << where;
  EXPECT_NEAR(got.end, want["end"].num, 1e-6) << where;
  EXPECT_NEAR(got.probability, want["probability"].num, 1e-3 * want["probability"].num) << where;
}

class WordsGolden : public ::testing::TestWithParam<Case> {};

TEST_P(WordsGolden, MatchesReference) {
  const Case& c = GetParam();
  const Json g = npwtest::read_json_file(testdata::path(c.words));
  const std::string enc_path = "golden/" + g["audio"].str + "/enc_" + g["window"].str + ".f32";
  ASSERT_TRUE(testdata::exists(enc_path)) << enc_path;
  auto model = Model::load(testdata::path(c.model));
  auto backend = make_backend("cpu", 2);
  ThreadPool pool(2);
  Decoder decoder(*model, *backend, pool, 1);
  const std::vector<float> enc = testdata::read_raw<float>(enc_path);
  ASSERT_EQ(enc.size(), static_cast<std::size_t>(model->hparams().n_audio_ctx) * model->hparams().n_audio_state);

  std::vector<AlignmentHead> heads;
  for (const Json& h : g["alignment_heads"].arr) heads.push_back({static_cast<int>(h.arr[0].num), static_cast<int>(h.arr[1].num)});
  EXPECT_EQ(heads, resolve_alignment_heads("auto", model->hparams())) << "the test model takes OpenAI's default heads";
  // As a transcription with word timestamps does: the heads' layers keep float cross-attention keys
  // (every other layer's keys and all values are halves).
  DecoderAlignmentSource source(decoder);
  source.use_heads(heads);
  decoder.set_audio(enc.data());

  const std::vector<int> fed = g["tokens_fed"].ints();
  const std::vector<int> sot = g["sot_sequence"].ints();
  AlignmentTokens at;
  at.sot_sequence = sot;
  at.no_timestamps = static_cast<int>(g["no_timestamps"].num);
  at.eot = static_cast<int>(g["eot"].num);
  at.language = "en";
  const std::vector<int> text(fed.begin() + static_cast<std::ptrdiff_t>(sot.size()) + 1, fed.end() - 1);
  ASSERT_EQ(text, g["text_tokens"].ints());

  Tokenizer tokenizer(model->vocab());
  WordAligner aligner(heads, static_cast<int>(g["medfilt_width"].num), static_cast<float>(g["qk_scale"].num));
  std::vector<Word> words = aligner.find_alignment(source, tokenizer, at, text, static_cast<int>(g["num_frames"].num));

  EXPECT_EQ(aligner.jump_frames(), g["dtw"]["jump_frames"].ints());
  EXPECT_EQ(aligner.matrix_rows(), static_cast<int>(text.size()) + 1);
  const Json& before = g["alignment_before_merge"];
  ASSERT_EQ(words.size(), before.arr.size());
  for (std::size_t i = 0; i < words.size(); ++i) expect_word(words[i], before.arr[i], "before merge, word " + std::to_string(i));

  merge_punctuations(words, g["prepend_punctuations"].str, g["append_punctuations"].str);
  std::vector<Word> kept;
  for (Word& w : words)
    if (!w.word.empty()) kept.push_back(w);
  const Json& want = g["words"];
  ASSERT_EQ(kept.size(), want.arr.size());
  for (std::size_t i = 0; i < kept.size(); ++i) expect_word(kept[i], want.arr[i], "word " + std::to_string(i));

  if (g.has("debug_matrix") && g["debug_matrix"].kind == Json::Object) {
    const std::string dir = c.words.substr(0, c.words.rfind('/') + 1);
    const std::vector<float> m = testdata::read_raw<float>(dir + g["debug_matrix"]["path"].str);
    ASSERT_EQ(m.size(), aligner.matrix().size());
    double worst = 0;
    for (std::size_t i = 0; i < m.size(); ++i) worst = std::max(worst, std::fabs(double(m[i]) - aligner.matrix()[i]));
    std::printf("[ golden   ] DTW input matrix: max difference %.3g\n", worst);
    EXPECT_LT(worst, 1e-4) << "DTW input matrix";
  }

  // The heads filtered side by side on a pool: the same words, and the same matrix but for the
  // last bits of the q.k products (the backend splits a product over its pool differently when
  // called from a pool thread), NaN where the matrix has NaN (frames without spread).
  WordAligner pooled(heads, static_cast<int>(g["medfilt_width"].num), static_cast<float>(g["qk_scale"].num), &pool);
  const std::vector<Word> again = pooled.find_alignment(source, tokenizer, at, text, static_cast<int>(g["num_frames"].num));
  ASSERT_EQ(pooled.matrix().size(), aligner.matrix().size());
  for (std::size_t i = 0; i < aligner.matrix().size(); ++i) {
    const float a = aligner.matrix()[i], b = pooled.matrix()[i];
    ASSERT_EQ(std::isnan(a), std::isnan(b)) << "matrix element " << i;
    if (!std::isnan(a)) {
      ASSERT_NEAR(a, b, 1e-4) << "matrix element " << i;
    }
  }
  EXPECT_EQ(pooled.jump_frames(), aligner.jump_frames());
  ASSERT_EQ(again.size(), before.arr.size());
  for (std::size_t i = 0; i < again.size(); ++i) expect_word(again[i], before.arr[i], "pooled, word " + std::to_string(i));
}

// The cpu backend without its ranged product: the decoder then forms the token probabilities from
// whole rows of logits (the path of every backend whose layout has no ranges).
class WithoutRanges : public Backend {
 public:
  explicit WithoutRanges(Backend& inner) : inner_(inner) {}
  std::string kind() const override { return inner_.kind(); }
  std::unique_ptr<PackedMatrix> pack(const TensorView& w) const override { return inner_.pack(w); }
  std::unique_ptr<PackedMatrix> pack_for_many_rows(const TensorView& w) const override {
    return inner_.pack_for_many_rows(w);
  }
  void linear(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y, int ldy) override {
    inner_.linear(X, M, ldx, W, bias, Y, ldy);
  }
  void matmul(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
              float beta, float* C, int ldc) override {
    inner_.matmul(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  bool reduced_precision_attention() const override { return inner_.reduced_precision_attention(); }
  void set_threads(int n) override { inner_.set_threads(n); }
  int threads() const override { return inner_.threads(); }

 private:
  Backend& inner_;
};

// OpenAI's text_token_probs (the softmax over ids below eot at each text token, taken at that
// token), from the blocked reduction the ranged products allow and from whole rows of logits: on the
// cpu backend both within 1e-5 relative of the reference (measured: within 1e-6); on cpu-int8 (its
// own quantised logits) the two within 1e-5 of each other.
TEST_P(WordsGolden, TokenProbabilitiesMatchTheReferenceBlockedAndWhole) {
  const Case& c = GetParam();
  const Json g = npwtest::read_json_file(testdata::path(c.words));
  const std::vector<float> enc = testdata::read_raw<float>("golden/" + g["audio"].str + "/enc_" + g["window"].str + ".f32");
  auto model = Model::load(testdata::path(c.model));
  std::vector<AlignmentHead> heads;
  for (const Json& h : g["alignment_heads"].arr) heads.push_back({static_cast<int>(h.arr[0].num), static_cast<int>(h.arr[1].num)});
  const std::vector<int> fed = g["tokens_fed"].ints();
  const int S = static_cast<int>(g["sot_sequence"].ints().size());
  const std::vector<int> text = g["text_tokens"].ints();
  const int T = static_cast<int>(text.size());
  std::vector<double> want;
  for (const Json& v : g["text_token_probs"].arr) want.push_back(v.num);
  ASSERT_EQ(want.size(), text.size());
  for (const char* name : {"cpu", "cpu-int8"}) {
    SCOPED_TRACE(name);
    auto backend = make_backend(name, 2);
    WithoutRanges whole_rows(*backend);
    std::vector<std::vector<float>> got;
    for (Backend* be : {backend.get(), static_cast<Backend*>(&whole_rows)}) {
      ThreadPool pool(2);
      Decoder decoder(*model, *be, pool, 1);
      DecoderAlignmentSource source(decoder);
      source.use_heads(heads);
      decoder.set_audio(enc.data());
      source.run(fed, heads);
      std::vector<float> p(text.size(), -1.0f);
      source.token_probs(S, text.data(), T, static_cast<int>(g["eot"].num), p.data());
      if (std::string(name) == "cpu") {
        for (int i = 0; i < T; ++i) {
          EXPECT_NEAR(p[i], want[i], 1e-5 * want[i] + 1e-9) << (got.empty() ? "blocked" : "whole rows") << ", token " << i;
        }
      }
      got.push_back(p);
    }
    for (int i = 0; i < T; ++i) EXPECT_NEAR(got[0][i], got[1][i], 1e-5 * got[1][i] + 1e-9) << "token " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Reference, WordsGolden, ::testing::ValuesIn(cases()), case_name);

}  // namespace
}  // namespace npw
