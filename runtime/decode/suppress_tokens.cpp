// Suppressed-token sets resolved against a vocabulary; see suppress_tokens.h.
#include "decode/suppress_tokens.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>

#include "model/vocab.h"
#include "util/error.h"

namespace npw {

std::vector<int> parse_suppress_tokens(const std::string& spec) {
  std::vector<int> ids;
  bool all_blank = true;
  for (char c : spec) all_blank = all_blank && std::isspace(static_cast<unsigned char>(c));
  if (all_blank) return ids;
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', pos), spec.size());
    std::string item = spec.substr(pos, comma - pos);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.pop_back();
    std::size_t b = 0;
    while (b < item.size() && std::isspace(static_cast<unsigned char>(item[b]))) ++b;
    item = item.substr(b);
    errno = 0;
    char* end = nullptr;
    const long v = item.empty() ? 0 : std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || errno == ERANGE || v < -1 || v > 0x7fffffff) {
      throw Error(ErrorKind::InvalidArgument, "suppress_tokens: '" + item +
                                                  "' is not a token id (expected comma-separated integers >= 0, "
                                                  "or -1 for the non-speech symbol set)");
    }
    ids.push_back(static_cast<int>(v));
    pos = comma + 1;
  }
  return ids;
}

namespace {

// bytes -> id for a few strings and their prefixes among the text tokens (ids below eot), the only
// ones a symbol can encode to. Only the strings asked about are indexed: a map of the whole
// vocabulary (50k strings, ~4 MiB) was built and dropped by every transcriber, and its freed pages
// stayed resident in the malloc heap.
class TextIndex {
 public:
  TextIndex(const Vocab& vocab, const std::vector<std::string>& strings) {
    for (const std::string& text : strings) {
      for (std::size_t n = 1; n <= text.size(); ++n) ids_.emplace(text.substr(0, n), -1);
    }
    for (int id = 0; id < vocab.eot(); ++id) {
      const auto it = ids_.find(vocab.bytes(id));
      // The first id wins for duplicated byte strings, as a BPE vocabulary maps each string once.
      if (it != ids_.end() && it->second < 0) it->second = id;
    }
  }
  // `bytes` must be one of the indexed strings or a prefix of one (anything else is not found).
  int exact(const std::string& bytes) const {
    const auto it = ids_.find(bytes);
    return it == ids_.end() ? -1 : it->second;
  }
  int longest_prefix(const std::string& bytes) const {
    for (std::size_t n = bytes.size(); n > 0; --n) {
      const int id = exact(bytes.substr(0, n));
      if (id >= 0) return id;
    }
    return -1;
  }

 private:
  std::map<std::string, int, std::less<>> ids_;  // transparent: looked up with the vocabulary's views
};

}  // namespace

std::vector<int> non_speech_tokens(const Vocab& vocab) {
  static const char* const kSymbols[] = {
      "\"", "#", "(", ")", "*", "+", "/", ":", ";", "<", "=", ">", "@", "[", "\\", "]", "^", "_", "`",
      "{", "|", "}", "~", "\u300c", "\u300d", "\u300e", "\u300f",
      "<<", ">>", "<<<", ">>>", "--", "---", "-(", "-[", "('", "(\"", "((", "))", "(((", ")))", "[[", "]]",
      "{{", "}}", "\u266a\u266a", "\u266a\u266a\u266a"};
  // U+2640..U+267F symbols: when they take several tokens, the first one is suppressed (OpenAI notes
  // it is shared by the whole block, so suppressing it is safe).
  static const char* const kMiscellaneous[] = {"\u2669", "\u266a", "\u266b", "\u266c", "\u266d", "\u266e", "\u266f"};

  std::vector<std::string> asked{" -", " '"};
  for (const char* sym : kSymbols) asked.insert(asked.end(), {sym, " " + std::string(sym)});
  for (const char* sym : kMiscellaneous) asked.insert(asked.end(), {sym, " " + std::string(sym)});
  const TextIndex index(vocab, asked);

  std::set<int> result;
  // Hyphens and single quotes stay allowed inside words but not at a word's start.
  for (const char* s : {" -", " '"}) {
    const int id = index.longest_prefix(s);
    if (id >= 0) result.insert(id);
  }
  for (const char* sym : kSymbols) {
    for (const std::string& text : {std::string(sym), " " + std::string(sym)}) {
      const int id = index.exact(text);
      if (id >= 0) result.insert(id);
    }
  }
  for (const char* sym : kMiscellaneous) {
    for (const std::string& text : {std::string(sym), " " + std::string(sym)}) {
      const int id = index.longest_prefix(text);
      if (id >= 0) result.insert(id);
    }
  }
  return std::vector<int>(result.begin(), result.end());
}

std::vector<int> suppress_token_ids(const std::string& spec, const Vocab& vocab) {
  const std::vector<int> parsed = parse_suppress_tokens(spec);
  if (parsed.empty()) return {};
  std::set<int> ids;
  bool non_speech = false;
  for (int id : parsed) {
    if (id == -1) {
      non_speech = true;
      continue;
    }
    if (id >= vocab.n_vocab()) {
      throw Error(ErrorKind::InvalidArgument, "suppress_tokens: id " + std::to_string(id) +
                                                  " is outside the model's vocabulary of " +
                                                  std::to_string(vocab.n_vocab()) + " tokens");
    }
    ids.insert(id);
  }
  if (non_speech) {
    for (int id : non_speech_tokens(vocab)) ids.insert(id);
  }
  for (int id : {vocab.transcribe(), vocab.translate(), vocab.sot(), vocab.start_of_prev(), vocab.start_of_lm(),
                 vocab.no_speech()}) {
    ids.insert(id);
  }
  return std::vector<int>(ids.begin(), ids.end());
}

std::vector<int> blank_tokens(const Vocab& vocab) {
  const TextIndex index(vocab, {" "});
  const int id = index.longest_prefix(" ");
  if (id < 0) throw Error(ErrorKind::Format, "the vocabulary has no token for a space");
  return {id};
}

}  // namespace npw
