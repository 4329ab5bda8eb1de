// Tokens are bytes: characters split over tokens must come out whole, bytes that never form a
// character must become U+FFFD, and prompt text must survive text -> tokens -> text as the very ids
// OpenAI's tokenizer gives. Checked against the real GPT-2 vocabulary of the test model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "decode/byte_pair.h"
#include "decode/pretokenize.h"
#include "decode/tokenizer.h"
#include "decode/utf8_assembler.h"
#include "model/model.h"

namespace npw {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

std::shared_ptr<const Model> test_model() {
  static std::shared_ptr<const Model> m = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  return m;
}

// The lowest text token whose bytes are exactly `bytes`, or -1.
int find_token(const Vocab& v, const std::string& bytes) {
  for (int id = 0; id < v.eot(); ++id)
    if (v.bytes(id) == bytes) return id;
  return -1;
}

TEST(Utf8Assembler, HoldsAPartialCharacterUntilItIsComplete) {
  Utf8Assembler a;
  std::string out;
  a.push("x\xE2\x80", out);
  EXPECT_EQ(out, "x");
  EXPECT_TRUE(a.pending());
  a.push("\x94y", out);
  EXPECT_EQ(out, "x\xE2\x80\x94y");
  EXPECT_FALSE(a.pending());
}

TEST(Utf8Assembler, ReplacesIllFormedSequencesLikePython) {
  // Expected values are Python's bytes.decode("utf-8", "replace").
  EXPECT_EQ(utf8_sanitize("\xC3("), kFffd + "(");
  EXPECT_EQ(utf8_sanitize("a\xFF" "b"), "a" + kFffd + "b");
  EXPECT_EQ(utf8_sanitize("\xC0\xAF"), kFffd + kFffd);                 // overlong
  EXPECT_EQ(utf8_sanitize("\xED\xA0\x80"), kFffd + kFffd + kFffd);     // surrogate
  EXPECT_EQ(utf8_sanitize("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // past U+10FFFF
  EXPECT_EQ(utf8_sanitize("\xE2\x80"), kFffd);                         // truncated at the end
  EXPECT_EQ(utf8_sanitize("\xE2\x80" "a"), kFffd + "a");
  EXPECT_EQ(utf8_sanitize("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");    // a valid 4-byte character
  EXPECT_EQ(utf8_sanitize(std::string("\0z", 2)), std::string("\0z", 2));
}

TEST(Pretokenize, SplitsAsTheGpt2Regex) {
  using V = std::vector<std::string>;
  EXPECT_EQ(gpt2_pretokenize("Hello world's  test 123!!"),
            (V{"Hello", " world", "'s", " ", " test", " 123", "!!"}));
  EXPECT_EQ(gpt2_pretokenize("I'll go.\n\nOK  "), (V{"I", "'ll", " go", ".", "\n", "\n", "OK", "  "}));
  // Expected values below are Python regex's findall with the pattern in pretokenize.h.
  EXPECT_EQ(gpt2_pretokenize("don't STOP—now, 3.14 ½  "),
            (V{"don", "'t", " STOP", "—", "now", ",", " 3", ".", "14", " ½", "  "}));
  EXPECT_EQ(gpt2_pretokenize("a\n  b \n"), (V{"a", "\n ", " b", " \n"}));
  EXPECT_EQ(gpt2_pretokenize("''re x'S"), (V{"''", "re", " x", "'", "S"}));
  EXPECT_EQ(gpt2_pretokenize(" \tx"), (V{" ", "\t", "x"}));
  EXPECT_EQ(gpt2_pretokenize("ça va? 東京"), (V{"ça", " va", "?", " 東京"}));
  EXPECT_EQ(gpt2_pretokenize("a\xFF" "b"), (V{"a", "\xFF", "b"}));
  EXPECT_TRUE(gpt2_pretokenize("").empty());
  // Combining marks are not \p{L} (glibc's iswalpha says they are): Devanagari vowel signs and the
  // virama stand apart from the consonants, as in tiktoken.
  EXPECT_EQ(gpt2_pretokenize(" नमस्ते दुनिया"),
            (V{" नमस", "्", "त", "े", " द", "ु", "न", "ि", "य", "ा"}));
  // \p{N} is every number: superscripts, fractions, Roman numerals, circled digits.
  EXPECT_EQ(gpt2_pretokenize("x² Ⅻ ⑤ ٣"), (V{"x", "²", " Ⅻ", " ⑤", " ٣"}));
}

TEST(Tokenizer, ReassemblesACharacterSplitAcrossRealTokens) {
  auto model = test_model();
  const Vocab& v = model->vocab();
  Tokenizer tok(v);
  // GPT-2 holds the first two bytes of U+2014 (em dash) as one token and its last byte as another.
  int head = find_token(v, "\xE2\x80");
  int tail = find_token(v, "\x94");
  ASSERT_GE(head, 0);
  ASSERT_GE(tail, 0);
  EXPECT_EQ(tok.decode({head, tail}), "\xE2\x80\x94");
  // Timestamps and specials carry no text and do not break the character.
  EXPECT_EQ(tok.decode({v.sot(), head, v.timestamp_begin() + 3, tail, v.eot()}), "\xE2\x80\x94");

  TokenTextStream stream(tok);
  std::string out;
  stream.push(head, out);
  EXPECT_EQ(out, "");
  EXPECT_TRUE(stream.pending());
  stream.push(v.timestamp_begin(), out);
  EXPECT_EQ(out, "");
  stream.push(tail, out);
  EXPECT_EQ(out, "\xE2\x80\x94");
  stream.finish(out);
  EXPECT_EQ(out, "\xE2\x80\x94");
}

TEST(Tokenizer, ReplacesSequencesThatCanNeverBeValid) {
  auto model = test_model();
  const Vocab& v = model->vocab();
  Tokenizer tok(v);
  int head = find_token(v, "\xE2\x80");
  int a = find_token(v, "a");
  int lone = find_token(v, "\xFF");
  ASSERT_GE(head, 0);
  ASSERT_GE(a, 0);
  ASSERT_GE(lone, 0);
  EXPECT_EQ(tok.decode({head, a}), kFffd + "a");
  EXPECT_EQ(tok.decode({a, head}), "a" + kFffd);
  EXPECT_EQ(tok.decode({lone, a, lone}), kFffd + "a" + kFffd);
  // Ids that are not text tokens (or not ids at all) produce nothing rather than a crash.
  EXPECT_EQ(tok.decode({-5, a, v.n_vocab() + 100, v.no_timestamps()}), "a");

  TokenTextStream stream(tok);
  std::string out;
  stream.push(head, out);
  stream.finish(out);
  EXPECT_EQ(out, kFffd);
}

TEST(Tokenizer, PromptRoundTripsAscii) {
  auto model = test_model();
  Tokenizer tok(model->vocab());
  const std::string text = " And so, my fellow Americans: ask not what your country can do for you!  It's 1961.\n";
  std::vector<int> ids = tok.encode(text);
  EXPECT_EQ(tok.decode(ids), text);
  for (int id : ids) EXPECT_TRUE(tok.is_text(id));
  // Common words are single tokens of GPT-2, with their leading space.
  int hello = find_token(model->vocab(), " Americans");
  ASSERT_GE(hello, 0);
  EXPECT_NE(std::find(ids.begin(), ids.end(), hello), ids.end());
  EXPECT_LT(ids.size(), text.size() / 2);
}

TEST(Tokenizer, PromptRoundTripsNonAscii) {
  auto model = test_model();
  Tokenizer tok(model->vocab());
  const std::string text = "Grüße aus Köln — ça va? Привет, 東京タワー! \xF0\x9F\x98\x80 naïve café";
  std::vector<int> ids = tok.encode(text);
  EXPECT_EQ(tok.decode(ids), text);
  // Multi-byte characters are cut into byte tokens; at least one token must be a partial character.
  bool saw_partial = false;
  for (int id : ids) {
    std::string s;
    Utf8Assembler a;
    a.push(model->vocab().bytes(id), s);
    saw_partial = saw_partial || a.pending() || s != model->vocab().bytes(id);
  }
  EXPECT_TRUE(saw_partial);
}

// tiktoken's loop, literally: rescan for the lowest-ranked adjacent pair (leftmost on a tie), merge.
std::vector<std::size_t> rescanning_merge(const std::string& piece, const ByteRank& rank) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < piece.size(); ++i) starts.push_back(i);
  for (;;) {
    int64_t best = -1;
    std::size_t at = 0;
    for (std::size_t k = 0; k + 1 < starts.size(); ++k) {
      const std::size_t end = k + 2 < starts.size() ? starts[k + 2] : piece.size();
      const int64_t r = rank(std::string_view(piece).substr(starts[k], end - starts[k]));
      if (r >= 0 && (best < 0 || r < best)) best = r, at = k;
    }
    if (best < 0) return starts;
    starts.erase(starts.begin() + static_cast<long>(at) + 1);
  }
}

TEST(BytePairMerge, SameAsTiktokensRescanningLoop) {
  std::mt19937 rng(5);
  for (int table = 0; table < 50; ++table) {
    // Random ranks for random strings of up to 4 letters of {a, b, c}: ties between equal strings at
    // several places, and merges that strand a pair ranked earlier.
    std::map<std::string, int64_t> ranks;
    for (int k = 0; k < 40; ++k) {
      std::string t(1 + rng() % 4, 'a');
      for (char& c : t) c = static_cast<char>('a' + rng() % 3);
      if (t.size() > 1) ranks.emplace(t, static_cast<int64_t>(rng() % 1000));
    }
    const ByteRank rank = [&](std::string_view b) {
      auto it = ranks.find(std::string(b));
      return it == ranks.end() ? int64_t{-1} : it->second;
    };
    for (int n = 0; n < 40; ++n) {
      std::string piece(rng() % 24, 'a');
      for (char& c : piece) c = static_cast<char>('a' + rng() % 3);
      EXPECT_EQ(byte_pair_merge(piece, rank), rescanning_merge(piece, rank)) << piece;
    }
  }
  EXPECT_TRUE(byte_pair_merge("", [](std::string_view) { return int64_t{0}; }).empty());
}

// OpenAI's tokenizer (tiktoken): a word the vocabulary lacks is byte-pair merged by rank. Expected ids
// from tiktoken's merge loop run over OpenAI's gpt2.tiktoken (whisper/assets) and its regex; a
// greedy longest match (whisper.cpp's) gives " Kub|ern|etes|s" and " XD|NA" here instead.
TEST(Tokenizer, PromptIsTiktokensBytePairEncoding) {
  auto model = test_model();
  Tokenizer tok(model->vocab());
  EXPECT_EQ(tok.encode(" Glossary: Kubernetes, Nvidia, Ryzen, XDNA, GStreamer."),
            (std::vector<int>{45970, 560, 25, 12554, 527, 3262, 274, 11, 27699, 11, 45042, 11, 1395, 28886, 11, 402,
                              28696, 13}));
  EXPECT_EQ(tok.encode(" PyTorch and whisper on my blog"), (std::vector<int>{9485, 15884, 354, 290, 31992, 319, 616, 4130}));
  EXPECT_EQ(tok.encode(" नमस्ते"), (std::vector<int>{28225, 101, 11976, 106, 11976, 116, 24231, 235, 11976, 97, 24231, 229}));
}

// A long run of one character is one pre-token; the merge must stay fast and exact on it.
TEST(Tokenizer, LongRunsMergeInLinearithmicTime) {
  auto model = test_model();
  Tokenizer tok(model->vocab());
  const std::string dashes(200000, '-');
  const std::vector<int> ids = tok.encode(dashes);
  EXPECT_EQ(tok.decode(ids), dashes);
  EXPECT_LT(ids.size(), dashes.size() / 8);  // GPT-2 holds runs of 16 and 32 dashes
}

// OpenAI's Tokenizer.decode (the text a compression ratio is taken of): timestamps dropped, other
// special tokens written as tiktoken names them.
TEST(Tokenizer, DecodeWithSpecialsNamesThemAsTiktoken) {
  auto model = test_model();
  const Vocab& v = model->vocab();
  Tokenizer tok(v);
  const std::vector<int> hello = tok.encode(" hello");
  std::vector<int> ids = {v.timestamp_begin()};
  ids.insert(ids.end(), hello.begin(), hello.end());
  ids.push_back(v.language_token("ja"));
  ids.push_back(v.no_timestamps());
  ids.insert(ids.end(), hello.begin(), hello.end());
  ids.push_back(v.timestamp_begin() + 50);
  ids.push_back(v.eot());
  EXPECT_EQ(tok.decode_with_specials(ids), " hello<|ja|><|notimestamps|> hello<|endoftext|>");
  EXPECT_EQ(tok.decode(ids), " hello hello");
  EXPECT_EQ(tok.special_name(v.sot()), "<|startoftranscript|>");
  EXPECT_EQ(tok.special_name(v.start_of_prev()), "<|startofprev|>");
  EXPECT_EQ(tok.special_name(v.no_speech()), "<|nospeech|>");
  EXPECT_EQ(tok.special_name(v.transcribe()), "<|transcribe|>");
  EXPECT_EQ(tok.special_name(hello.front()), "");
  EXPECT_EQ(tok.special_name(v.timestamp_begin()), "");
}

TEST(Tokenizer, EncodesEmptyTextToNothing) {
  auto model = test_model();
  Tokenizer tok(model->vocab());
  EXPECT_TRUE(tok.encode("").empty());
  EXPECT_EQ(tok.decode(std::vector<int>{}), "");
}

}  // namespace
}  // namespace npw
