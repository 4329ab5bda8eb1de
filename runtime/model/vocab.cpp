// Vocabulary: stored byte strings, synthesised names for ids the file does not store (the names
// whisper.cpp gives them), and the special token ids derived from n_vocab.
#include "model/vocab.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "util/error.h"

namespace npw {

const std::vector<Language>& whisper_languages() {
  static const std::vector<Language> langs = {
      {"en", "english"},    {"zh", "chinese"},     {"de", "german"},       {"es", "spanish"},
      {"ru", "russian"},    {"ko", "korean"},      {"fr", "french"},       {"ja", "japanese"},
      {"pt", "portuguese"}, {"tr", "turkish"},     {"pl", "polish"},       {"ca", "catalan"},
      {"nl", "dutch"},      {"ar", "arabic"},      {"sv", "swedish"},      {"it", "italian"},
      {"id", "indonesian"}, {"hi", "hindi"},       {"fi", "finnish"},      {"vi", "vietnamese"},
      {"he", "hebrew"},     {"uk", "ukrainian"},   {"el", "greek"},        {"ms", "malay"},
      {"cs", "czech"},      {"ro", "romanian"},    {"da", "danish"},       {"hu", "hungarian"},
      {"ta", "tamil"},      {"no", "norwegian"},   {"th", "thai"},         {"ur", "urdu"},
      {"hr", "croatian"},   {"bg", "bulgarian"},   {"lt", "lithuanian"},   {"la", "latin"},
      {"mi", "maori"},      {"ml", "malayalam"},   {"cy", "welsh"},        {"sk", "slovak"},
      {"te", "telugu"},     {"fa", "persian"},     {"lv", "latvian"},      {"bn", "bengali"},
      {"sr", "serbian"},    {"az", "azerbaijani"}, {"sl", "slovenian"},    {"kn", "kannada"},
      {"et", "estonian"},   {"mk", "macedonian"},  {"br", "breton"},       {"eu", "basque"},
      {"is", "icelandic"},  {"hy", "armenian"},    {"ne", "nepali"},       {"mn", "mongolian"},
      {"bs", "bosnian"},    {"kk", "kazakh"},      {"sq", "albanian"},     {"sw", "swahili"},
      {"gl", "galician"},   {"mr", "marathi"},     {"pa", "punjabi"},      {"si", "sinhala"},
      {"km", "khmer"},      {"sn", "shona"},       {"yo", "yoruba"},       {"so", "somali"},
      {"af", "afrikaans"},  {"oc", "occitan"},     {"ka", "georgian"},     {"be", "belarusian"},
      {"tg", "tajik"},      {"sd", "sindhi"},      {"gu", "gujarati"},     {"am", "amharic"},
      {"yi", "yiddish"},    {"lo", "lao"},         {"uz", "uzbek"},        {"fo", "faroese"},
      {"ht", "haitian creole"}, {"ps", "pashto"},  {"tk", "turkmen"},      {"nn", "nynorsk"},
      {"mt", "maltese"},    {"sa", "sanskrit"},    {"lb", "luxembourgish"}, {"my", "myanmar"},
      {"bo", "tibetan"},    {"tl", "tagalog"},     {"mg", "malagasy"},     {"as", "assamese"},
      {"tt", "tatar"},      {"haw", "hawaiian"},   {"ln", "lingala"},      {"ha", "hausa"},
      {"ba", "bashkir"},    {"jw", "javanese"},    {"su", "sundanese"},    {"yue", "cantonese"},
  };
  return langs;
}

Vocab::Vocab(std::vector<std::string> stored, int32_t n_vocab) : n_vocab_(n_vocab) {
  if (n_vocab_ < 51864) {
    throw Error(ErrorKind::Format, "vocabulary of " + std::to_string(n_vocab_) + " tokens is not a Whisper vocabulary");
  }
  if (static_cast<int32_t>(stored.size()) > n_vocab_) {
    throw Error(ErrorKind::Format, "vocabulary stores more tokens than n_vocab");
  }
  const bool multi = is_multilingual();
  // English-only and the first multilingual vocabularies carry 99 languages, large-v3 adds Cantonese.
  num_languages_ = n_vocab_ - 51765 - (multi ? 1 : 0);
  eot_ = multi ? 50257 : 50256;
  sot_ = eot_ + 1;
  translate_ = sot_ + 1 + num_languages_;
  transcribe_ = translate_ + 1;
  solm_ = transcribe_ + 1;
  prev_ = solm_ + 1;
  nosp_ = prev_ + 1;
  not_ = nosp_ + 1;
  beg_ = not_ + 1;

  std::size_t stored_bytes = 0;
  for (const std::string& t : stored) stored_bytes += t.size();
  // The synthetic names below take at most 24 bytes each.
  text_.reserve(stored_bytes + 24 * static_cast<std::size_t>(n_vocab_ - static_cast<int32_t>(stored.size())));
  starts_.reserve(static_cast<std::size_t>(n_vocab_) + 1);
  starts_.push_back(0);
  for (const std::string& t : stored) add(t.data(), t.size());
  stored = std::vector<std::string>();

  const auto& langs = whisper_languages();
  char name[40];
  auto literal = [&](const char* s) { add(s, std::strlen(s)); };
  auto numbered = [&](const char* fmt, int32_t n) {
    const int len = std::snprintf(name, sizeof name, fmt, static_cast<int>(n));
    add(name, static_cast<std::size_t>(len));
  };
  for (int32_t i = static_cast<int32_t>(starts_.size()) - 1; i < n_vocab_; ++i) {
    if (i > beg_) numbered("[_TT_%d]", i - beg_);
    else if (i == eot_) literal("[_EOT_]");
    else if (i == sot_) literal("[_SOT_]");
    else if (i == translate_) literal("[_TRANSLATE_]");
    else if (i == transcribe_) literal("[_TRANSCRIBE_]");
    else if (i == solm_) literal("[_SOLM_]");
    else if (i == prev_) literal("[_PREV_]");
    else if (i == nosp_) literal("[_NOSP_]");
    else if (i == not_) literal("[_NOT_]");
    else if (i == beg_) literal("[_BEG_]");
    else if (i > sot_ && i <= sot_ + num_languages_) {
      const std::size_t li = static_cast<std::size_t>(i - sot_ - 1);
      const int len = std::snprintf(name, sizeof name, "[_LANG_%s]", li < langs.size() ? langs[li].code : "?");
      add(name, static_cast<std::size_t>(len));
    } else {
      numbered("[_extra_token_%d]", i);
    }
  }
  text_.shrink_to_fit();
}

void Vocab::add(const char* bytes, std::size_t n) {
  text_.append(bytes, n);
  if (text_.size() > UINT32_MAX) throw Error(ErrorKind::Format, "vocabulary of more than 4 GiB of token bytes");
  starts_.push_back(static_cast<uint32_t>(text_.size()));
}

std::string_view Vocab::bytes(int32_t id) const {
  if (id < 0 || id >= n_vocab_) {
    throw Error(ErrorKind::InvalidArgument,
                "token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(n_vocab_) + ")");
  }
  const std::size_t i = static_cast<std::size_t>(id);
  return std::string_view(text_.data() + starts_[i], starts_[i + 1] - starts_[i]);
}

int32_t Vocab::language_token(const std::string& code) const {
  const auto& langs = whisper_languages();
  for (int i = 0; i < num_languages_ && i < static_cast<int>(langs.size()); ++i) {
    if (code == langs[static_cast<std::size_t>(i)].code) return sot_ + 1 + i;
  }
  return -1;
}

const char* Vocab::language_code(int32_t id) const {
  const int i = id - sot_ - 1;
  const auto& langs = whisper_languages();
  if (i < 0 || i >= num_languages_ || i >= static_cast<int>(langs.size())) return nullptr;
  return langs[static_cast<std::size_t>(i)].code;
}

}  // namespace npw
