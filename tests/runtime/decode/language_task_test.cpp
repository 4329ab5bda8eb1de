// Language detection and the translate task on multilingual vocabularies (51865 and large-v3's
// 51866): random-weight models of the test width are written to a temporary file (the networks are
// replaced by a scripted window model, so only the vocabulary and mel filters matter). Checked: the
// detected language is the best language token - never a better non-language token - with
// probabilities summing to 1, best first; the start sequence is [sot, language, task]; detection
// runs once per stream (again after reset()) and never when a language is given.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "decode/transcribe_engine.h"
#include "model/model.h"
#include "model/random_model.h"
#include "util/error.h"

namespace npw {
namespace {

// A model file of the test dimensions with `n_vocab` tokens, written once per process.
std::shared_ptr<const Model> multilingual_model(int n_vocab) {
  const std::string path = ::testing::TempDir() + "/npw-multilingual-" + std::to_string(n_vocab) + ".bin";
  HParams hp = whisper_dims("test");
  hp.n_audio_layer = 1;
  hp.n_text_layer = 1;
  hp.n_vocab = n_vocab;
  std::vector<std::string> vocab;
  for (int i = 0; i < 50257; ++i) vocab.push_back(i < 256 ? std::string(1, static_cast<char>(i)) : "w" + std::to_string(i));
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    write_random_whisper(out, path, hp, GgmlType::F16, 7, vocab);
  }
  return Model::load(path);
}

struct Call {
  std::vector<int> prefix;
};

// Detection call (prefix == [sot]): language logits from `lang_logits` (token -> logit), a text
// token far above all of them, everything else very low. Decoding calls: <|0.00|> w <|2.00|> EOT.
class ScriptedLanguageModel : public WindowModel, public LogitSource {
 public:
  ScriptedLanguageModel(const Vocab& v, std::vector<std::pair<int, float>> lang_logits, std::vector<Call>* calls)
      : v_(v), lang_(std::move(lang_logits)), calls_(calls) {}
  void encode(const float*, float*) override {}
  LogitSource& logits() override { return *this; }
  std::string backend_kind() const override { return "scripted"; }
  int n_vocab() const override { return v_.n_vocab(); }
  void begin(const std::vector<int>& prefix, int n_seq, int, float* sot, float* last) override {
    calls_->push_back({prefix});
    std::fill(sot, sot + n_vocab(), 0.0f);
    steps_.assign(static_cast<std::size_t>(n_seq), 0);
    if (prefix == std::vector<int>{v_.sot()}) {
      std::fill(last, last + n_vocab(), -30.0f);
      for (const auto& [tok, logit] : lang_) last[tok] = logit;
      last[1000] = 50.0f;  // a text token: not a language, must not win
      return;
    }
    fill(0, last);
  }
  void step(const std::vector<int>&, float* logits) override {
    for (std::size_t i = 0; i < steps_.size(); ++i) fill(++steps_[i], logits + i * static_cast<std::size_t>(n_vocab()));
  }
  void reorder(const std::vector<int>& source) override {
    std::vector<int> next;
    for (int s : source) next.push_back(steps_[static_cast<std::size_t>(s)]);
    steps_ = next;
  }

 private:
  void fill(int k, float* out) const {
    const int ts = v_.timestamp_begin();
    const int script[] = {ts, 1000, ts + 100, v_.eot()};
    std::fill(out, out + n_vocab(), -10.0f);
    if (k < 4) out[script[k]] = 10.0f;
  }
  const Vocab& v_;
  std::vector<std::pair<int, float>> lang_;
  std::vector<Call>* calls_;
  std::vector<int> steps_;
};

class LanguageTask : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { model = multilingual_model(GetParam()); }
  std::unique_ptr<TranscribeEngine> engine(Options o, std::vector<std::pair<int, float>> lang_logits) {
    o.beam_size = 0;
    o.temperatures = {0.0f};
    return std::make_unique<TranscribeEngine>(
        *model, o, std::make_unique<ScriptedLanguageModel>(model->vocab(), std::move(lang_logits), &calls), nullptr);
  }
  int lang(const char* code) const { return model->vocab().language_token(code); }
  std::shared_ptr<const Model> model;
  std::vector<Call> calls;
};

TEST_P(LanguageTask, DetectsTheBestLanguageTokenAndTranscribesInIt) {
  const Vocab& v = model->vocab();
  auto e = engine(Options(), {{lang("de"), 5.0f}, {lang("fr"), 4.0f}, {lang("en"), 3.0f}});
  const std::vector<float> audio(5 * 16000, 0.0f);
  const TranscribeResult r = e->transcribe(audio.data(), audio.size(), {});
  EXPECT_EQ(r.language, "de");
  ASSERT_EQ(static_cast<int>(r.language_probs.size()), v.num_languages());
  EXPECT_EQ(r.language_probs[0].first, "de");
  EXPECT_EQ(r.language_probs[1].first, "fr");
  EXPECT_EQ(r.language_probs[2].first, "en");
  double sum = 0.0;
  for (const auto& [code, p] : r.language_probs) sum += p;
  EXPECT_NEAR(sum, 1.0, 1e-5);
  const double z = std::exp(5.0) + std::exp(4.0) + std::exp(3.0) + (v.num_languages() - 3) * std::exp(-30.0);
  EXPECT_NEAR(r.language_probs[0].second, std::exp(5.0) / z, 1e-5);
  // One detection call, then the window decoded with [sot, de, transcribe].
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].prefix, std::vector<int>{v.sot()});
  EXPECT_EQ(calls[1].prefix, (std::vector<int>{v.sot(), lang("de"), v.transcribe()}));
  ASSERT_EQ(r.segments.size(), 1u);
}

TEST_P(LanguageTask, TranslateTaskToken) {
  const Vocab& v = model->vocab();
  Options o;
  o.translate = true;
  auto e = engine(o, {{lang("fr"), 2.0f}});
  const std::vector<float> audio(5 * 16000, 0.0f);
  const TranscribeResult r = e->transcribe(audio.data(), audio.size(), {});
  EXPECT_EQ(r.language, "fr");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].prefix, (std::vector<int>{v.sot(), lang("fr"), v.translate()}));
}

TEST_P(LanguageTask, GivenLanguageIsNotDetected) {
  const Vocab& v = model->vocab();
  Options o;
  o.language = "Spanish";
  auto e = engine(o, {{lang("de"), 5.0f}});
  const std::vector<float> audio(5 * 16000, 0.0f);
  const TranscribeResult r = e->transcribe(audio.data(), audio.size(), {});
  EXPECT_EQ(r.language, "es");
  EXPECT_TRUE(r.language_probs.empty());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].prefix, (std::vector<int>{v.sot(), lang("es"), v.transcribe()}));
}

TEST_P(LanguageTask, StreamingDetectsOncePerStream) {
  const Vocab& v = model->vocab();
  auto e = engine(Options(), {{lang("it"), 3.0f}});
  const std::vector<float> audio(5 * 16000, 0.0f);
  auto detections = [&] {
    return std::count_if(calls.begin(), calls.end(), [&](const Call& c) { return c.prefix == std::vector<int>{v.sot()}; });
  };
  EXPECT_EQ(e->transcribe_window(audio.data(), audio.size(), true).language, "it");
  EXPECT_EQ(e->transcribe_window(audio.data(), audio.size(), true).language, "it");
  EXPECT_EQ(detections(), 1);
  e->reset();  // a new stretch of audio: detect again
  EXPECT_EQ(e->transcribe_window(audio.data(), audio.size(), true).language, "it");
  EXPECT_EQ(detections(), 2);
}

TEST(LanguageTaskLargeV3, CantoneseIsTheHundredthLanguage) {
  const auto model = multilingual_model(51866);
  const Vocab& v = model->vocab();
  std::vector<Call> calls;
  Options o;
  o.beam_size = 0;
  o.temperatures = {0.0f};
  const int yue = v.language_token("yue");
  ASSERT_EQ(yue, v.sot() + 100);
  TranscribeEngine e(*model, o, std::make_unique<ScriptedLanguageModel>(v, std::vector<std::pair<int, float>>{{yue, 4.0f}}, &calls),
                     nullptr);
  const std::vector<float> audio(5 * 16000, 0.0f);
  EXPECT_EQ(e.transcribe(audio.data(), audio.size(), {}).language, "yue");
  EXPECT_EQ(calls.back().prefix, (std::vector<int>{v.sot(), yue, v.transcribe()}));
}

TEST(LanguageTaskMultilingual, LanguageUnknownToTheModelIsRefused) {
  // A multilingual model without Cantonese is asked for it: a clear error naming the language.
  const auto model = multilingual_model(51865);
  Options o;
  o.language = "yue";
  std::vector<Call> calls;
  try {
    TranscribeEngine e(*model, o, std::make_unique<ScriptedLanguageModel>(model->vocab(), std::vector<std::pair<int, float>>{}, &calls),
                       nullptr);
    FAIL() << "accepted a language the model does not have";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("yue"), std::string::npos) << err.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, LanguageTask, ::testing::Values(51865, 51866));

}  // namespace
}  // namespace npw
