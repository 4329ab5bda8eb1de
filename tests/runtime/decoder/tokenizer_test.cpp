// Tokens are bytes: characters split over tokens must come out whole, bytes that never form a
// character must become U+FFFD, and prompt text must survive text -> tokens -> text. Checked against
// the real GPT-2 vocabulary of the test model.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

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

TEST(Tokenizer, EncodesEmptyTextToNothing) {
  auto model = test_model();
  Tokenizer tok(model->vocab());
  EXPECT_TRUE(tok.encode("").empty());
  EXPECT_EQ(tok.decode(std::vector<int>{}), "");
}

}  // namespace
}  // namespace npw
