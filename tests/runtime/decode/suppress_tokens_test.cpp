// Suppressed-token sets resolved through a synthetic vocabulary whose ids we choose.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "decode/suppress_tokens.h"
#include "model/vocab.h"
#include "util/error.h"

namespace npw {
namespace {

bool has(const std::vector<int>& v, int id) { return std::find(v.begin(), v.end(), id) != v.end(); }

// English-only layout (n_vocab 51864, eot 50256) with filler tokens that match no symbol.
Vocab make_vocab() {
  std::vector<std::string> stored(50257);
  for (std::size_t i = 0; i < stored.size(); ++i) stored[i] = "w" + std::to_string(i);
  stored[220] = " ";
  stored[532] = " -";
  stored[705] = " '";
  stored[1] = "\"";
  stored[2] = " \"";
  stored[3] = "(";
  stored[4] = "((";
  stored[5] = " ((";
  stored[6] = "-";      // a plain hyphen is allowed
  stored[7] = ",";      // punctuation that must stay allowed
  stored[8] = "\xe2\x99\xaa";      // the whole of U+266A
  stored[9] = "\xe2\x99";          // the shared first two bytes of U+2640..267F
  stored[10] = " \xe2\x99";
  stored[11] = "\xe2";
  stored[12] = "\xe3\x80\x8c";     // U+300C
  return Vocab(std::move(stored), 51864);
}

TEST(SuppressTokens, NonSpeechSet) {
  const Vocab v = make_vocab();
  const std::vector<int> ns = non_speech_tokens(v);
  EXPECT_TRUE(std::is_sorted(ns.begin(), ns.end()));
  for (int id : {532, 705, 1, 2, 3, 4, 5, 8, 9, 10, 12}) EXPECT_TRUE(has(ns, id)) << id;
  for (int id : {6, 7, 11, 220, 100}) EXPECT_FALSE(has(ns, id)) << id;
}

TEST(SuppressTokens, SpecAndSpecials) {
  const Vocab v = make_vocab();
  const std::vector<int> ids = suppress_token_ids("-1", v);
  for (int id : {v.transcribe(), v.translate(), v.sot(), v.start_of_prev(), v.start_of_lm(), v.no_speech(), 532, 8}) {
    EXPECT_TRUE(has(ids, id)) << id;
  }
  EXPECT_FALSE(has(ids, v.eot()));
  EXPECT_FALSE(has(ids, v.no_timestamps()));

  const std::vector<int> explicit_ids = suppress_token_ids("7, 100", v);
  EXPECT_TRUE(has(explicit_ids, 7));
  EXPECT_TRUE(has(explicit_ids, 100));
  EXPECT_TRUE(has(explicit_ids, v.sot()));
  EXPECT_FALSE(has(explicit_ids, 532));

  EXPECT_TRUE(suppress_token_ids("", v).empty());
  EXPECT_THROW(suppress_token_ids("60000", v), Error);
  EXPECT_EQ(blank_tokens(v), std::vector<int>{220});
}

TEST(SuppressTokens, Parse) {
  EXPECT_EQ(parse_suppress_tokens(" 3 ,-1,0"), (std::vector<int>{3, -1, 0}));
  EXPECT_TRUE(parse_suppress_tokens("  ").empty());
  EXPECT_THROW(parse_suppress_tokens("1,,2"), Error);
  EXPECT_THROW(parse_suppress_tokens("1.5"), Error);
}

}  // namespace
}  // namespace npw
