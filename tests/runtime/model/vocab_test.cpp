// Special token ids of the three Whisper vocabularies, derived from n_vocab: English-only (51864),
// multilingual (51865, 99 languages) and large-v3 (51866, Cantonese added), checked against the ids
// OpenAI's tokenizer gives, plus the names synthesised for ids the file does not store.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/vocab.h"
#include "util/error.h"

namespace npw {
namespace {

std::vector<std::string> stored(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("t" + std::to_string(i));
  return v;
}

struct Expected {
  int n_vocab, eot, sot, first_lang, n_langs, translate, transcribe, solm, prev, nosp, notimestamps, beg;
};

TEST(Vocab, SpecialIdsOfEveryVocabulary) {
  const Expected cases[] = {
      {51864, 50256, 50257, 50258, 99, 50357, 50358, 50359, 50360, 50361, 50362, 50363},  // *.en
      {51865, 50257, 50258, 50259, 99, 50358, 50359, 50360, 50361, 50362, 50363, 50364},  // multilingual
      {51866, 50257, 50258, 50259, 100, 50359, 50360, 50361, 50362, 50363, 50364, 50365},  // large-v3
  };
  for (const Expected& e : cases) {
    SCOPED_TRACE(e.n_vocab);
    const Vocab v(stored(e.eot), e.n_vocab);
    EXPECT_EQ(v.is_multilingual(), e.n_vocab != 51864);
    EXPECT_EQ(v.eot(), e.eot);
    EXPECT_EQ(v.sot(), e.sot);
    EXPECT_EQ(v.num_languages(), e.n_langs);
    EXPECT_EQ(v.language_token("en"), e.first_lang);
    EXPECT_EQ(v.language_token("zh"), e.first_lang + 1);
    EXPECT_EQ(v.language_token("su"), e.first_lang + 98);  // the 99th language
    EXPECT_EQ(v.language_token("yue"), e.n_langs == 100 ? e.first_lang + 99 : -1);
    EXPECT_STREQ(v.language_code(e.first_lang + 2), "de");
    EXPECT_EQ(v.language_code(e.first_lang + e.n_langs), nullptr);  // translate is no language
    EXPECT_EQ(v.translate(), e.translate);
    EXPECT_EQ(v.transcribe(), e.transcribe);
    EXPECT_EQ(v.start_of_lm(), e.solm);
    EXPECT_EQ(v.start_of_prev(), e.prev);
    EXPECT_EQ(v.no_speech(), e.nosp);
    EXPECT_EQ(v.no_timestamps(), e.notimestamps);
    EXPECT_EQ(v.timestamp_begin(), e.beg);
    EXPECT_EQ(e.n_vocab - e.beg, 1501);  // <|0.00|> .. <|30.00|>
    EXPECT_TRUE(v.is_timestamp(e.n_vocab - 1));
    EXPECT_FALSE(v.is_timestamp(e.notimestamps));
    // whisper.cpp's names for the ids the file does not store
    EXPECT_EQ(v.bytes(e.eot), "[_EOT_]");
    EXPECT_EQ(v.bytes(e.sot), "[_SOT_]");
    EXPECT_EQ(v.bytes(e.first_lang), "[_LANG_en]");
    EXPECT_EQ(v.bytes(e.translate), "[_TRANSLATE_]");
    EXPECT_EQ(v.bytes(e.notimestamps), "[_NOT_]");
    EXPECT_EQ(v.bytes(e.beg), "[_BEG_]");
    EXPECT_EQ(v.bytes(e.beg + 1), "[_TT_1]");
    EXPECT_EQ(v.bytes(0), "t0");
  }
}

TEST(Vocab, RejectsWhatIsNotAWhisperVocabulary) {
  EXPECT_THROW(Vocab(stored(10), 51863), Error);
  EXPECT_THROW(Vocab(stored(51866), 51865), Error);  // stores more than n_vocab
}

}  // namespace
}  // namespace npw
