// Tokens to words as OpenAI's Tokenizer.split_to_word_tokens does it. First into the shortest runs
// of tokens that decode to whole characters (split_tokens_on_unicode: a run ends where its text
// has no U+FFFD, or where its first U+FFFD is also in the text of all the tokens, i.e. the bytes
// are really ill-formed rather than unfinished); for zh, ja, th, lo, my and yue those runs are the
// words. Otherwise runs are joined into words: a new word starts at a special token, at a run
// with a leading space, at a run that is punctuation (Python's `run.strip() in
// string.punctuation`, a substring test), and at the first run.
#pragma once

#include <string>
#include <vector>

namespace npw {

class Tokenizer;

struct WordTokens {
  std::string word;         // valid UTF-8 (U+FFFD for ill-formed bytes); specials give their name
  std::vector<int> tokens;
};

// Whether `language` (a code such as "ja") is one OpenAI splits at character boundaries only.
bool splits_on_unicode(const std::string& language);

std::vector<WordTokens> split_tokens_on_unicode(const Tokenizer& tokenizer, const std::vector<int>& tokens);
std::vector<WordTokens> split_tokens_on_spaces(const Tokenizer& tokenizer, const std::vector<int>& tokens);
// The language's rule: on unicode for the languages above, on spaces otherwise.
std::vector<WordTokens> split_to_word_tokens(const Tokenizer& tokenizer, const std::vector<int>& tokens,
                                             const std::string& language);

}  // namespace npw
