// Language spellings -> Whisper codes; see language.h.
#include "decode/language.h"

#include <cctype>
#include <cstring>

#include "model/vocab.h"
#include "util/error.h"

namespace npw {

namespace {

std::string lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// OpenAI's TO_LANGUAGE_CODE aliases that are not the language's own name.
struct Alias {
  const char* name;
  const char* code;
};
constexpr Alias kAliases[] = {
    {"burmese", "my"},   {"valencian", "ca"}, {"flemish", "nl"},   {"haitian", "ht"},
    {"letzeburgesch", "lb"}, {"pushto", "ps"}, {"panjabi", "pa"},  {"moldavian", "ro"},
    {"moldovan", "ro"},  {"sinhalese", "si"}, {"castilian", "es"}, {"mandarin", "zh"},
};

}  // namespace

std::string canonical_language(const std::string& value) {
  std::string v = lower(value);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(v.begin());
  if (v.empty() || v == "auto") return "auto";
  const auto& langs = whisper_languages();
  for (const auto& l : langs) {
    if (v == l.code || v == l.name) return l.code;
  }
  for (const auto& a : kAliases) {
    if (v == a.name) return a.code;
  }
  const std::size_t sep = v.find_first_of("-_");
  if (sep != std::string::npos && sep > 0) {
    const std::string primary = v.substr(0, sep);
    for (const auto& l : langs) {
      if (primary == l.code) return l.code;
    }
  }
  throw Error(ErrorKind::InvalidArgument,
              "language '" + value + "' is not one Whisper knows (use \"auto\", a code like \"en\" or a name like \"english\")");
}

}  // namespace npw
