// OpenAI's split_tokens_on_unicode / split_tokens_on_spaces over the GGML vocabulary; see word_split.h.
#include "decode/word_split.h"

#include <cstdint>

#include "decode/text_metrics.h"
#include "decode/tokenizer.h"
#include "decode/utf8_assembler.h"
#include "model/vocab.h"

namespace npw {

namespace {

constexpr uint32_t kReplacement = 0xFFFD;

// Code points of valid UTF-8 (what utf8_sanitize produces).
std::vector<uint32_t> code_points(const std::string& s) {
  std::vector<uint32_t> cps;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    int n = b < 0x80 ? 0 : b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
    uint32_t cp = n == 0 ? b : n == 1 ? (b & 0x1Fu) : n == 2 ? (b & 0x0Fu) : (b & 0x07u);
    for (int k = 1; k <= n && i + static_cast<std::size_t>(k) < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3Fu);
    cps.push_back(cp);
    i += static_cast<std::size_t>(n) + 1;
  }
  return cps;
}

// The number of code points of valid UTF-8 and the index of the first U+FFFD (the count if none),
// without building the code points (this runs once per token).
void scan_code_points(const std::string& s, std::size_t* count, std::size_t* first_bad) {
  std::size_t n = 0, bad = static_cast<std::size_t>(-1);
  for (std::size_t i = 0; i < s.size(); ++n) {
    const auto b = static_cast<unsigned char>(s[i]);
    const int extra = b < 0x80 ? 0 : b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
    // U+FFFD is EF BF BD.
    if (bad == static_cast<std::size_t>(-1) && extra == 2 && i + 2 < s.size() &&
        static_cast<unsigned char>(s[i + 1]) == 0xBF && static_cast<unsigned char>(s[i + 2]) == 0xBD && b == 0xEF)
      bad = n;
    i += static_cast<std::size_t>(extra) + 1;
  }
  *count = n;
  *first_bad = bad == static_cast<std::size_t>(-1) ? n : bad;
}

// tiktoken's decode_with_timestamps: the bytes of every token (specials included) decoded at once
// with errors="replace".
std::string decode_all(const Tokenizer& tokenizer, const int* ids, std::size_t n) {
  std::string bytes;
  for (std::size_t i = 0; i < n; ++i) bytes += tokenizer.vocab().bytes(ids[i]);
  return utf8_sanitize(bytes);
}

const char kPythonPunctuation[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

}  // namespace

bool splits_on_unicode(const std::string& language) {
  return language == "zh" || language == "ja" || language == "th" || language == "lo" || language == "my" ||
         language == "yue";
}

std::vector<WordTokens> split_tokens_on_unicode(const Tokenizer& tokenizer, const std::vector<int>& tokens) {
  const std::vector<uint32_t> full = code_points(decode_all(tokenizer, tokens.data(), tokens.size()));
  std::vector<WordTokens> words;
  words.reserve(tokens.size());
  WordTokens current;
  std::size_t unicode_offset = 0;
  std::size_t run_begin = 0;
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    current.tokens.push_back(tokens[t]);
    std::string decoded = decode_all(tokenizer, tokens.data() + run_begin, t + 1 - run_begin);
    std::size_t n_cps = 0, first_bad = 0;
    scan_code_points(decoded, &n_cps, &first_bad);
    const bool whole = first_bad == n_cps;
    const std::size_t at = unicode_offset + first_bad;
    if (whole || (at < full.size() && full[at] == kReplacement)) {
      current.word = std::move(decoded);
      unicode_offset += n_cps;
      words.push_back(std::move(current));
      current = WordTokens{};
      run_begin = t + 1;
    }
  }
  // A trailing run that never completed is dropped, as the reference drops current_tokens.
  return words;
}

std::vector<WordTokens> split_tokens_on_spaces(const Tokenizer& tokenizer, const std::vector<int>& tokens) {
  static const std::string punctuation_chars(kPythonPunctuation);
  const int eot = tokenizer.vocab().eot();
  std::vector<WordTokens> words;
  words.reserve(tokens.size());
  for (WordTokens& sub : split_tokens_on_unicode(tokenizer, tokens)) {
    const bool special = sub.tokens.front() >= eot;
    const bool with_space = !sub.word.empty() && sub.word[0] == ' ';
    const bool punctuation = punctuation_chars.find(python_strip(sub.word)) != std::string::npos;
    if (special || with_space || punctuation || words.empty()) {
      words.push_back(std::move(sub));
    } else {
      words.back().word += sub.word;
      words.back().tokens.insert(words.back().tokens.end(), sub.tokens.begin(), sub.tokens.end());
    }
  }
  return words;
}

std::vector<WordTokens> split_to_word_tokens(const Tokenizer& tokenizer, const std::vector<int>& tokens,
                                             const std::string& language) {
  return splits_on_unicode(language) ? split_tokens_on_unicode(tokenizer, tokens)
                                     : split_tokens_on_spaces(tokenizer, tokens);
}

}  // namespace npw
