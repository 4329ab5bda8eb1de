// Token ids <-> bytes and the special tokens of the three Whisper vocabularies (English-only 51864,
// multilingual 51865, large-v3 51866). Special ids are derived from n_vocab, as whisper.cpp and
// OpenAI's tokenizer agree, never from one fixed table. Ids past the stored vocabulary are given the
// same synthetic names whisper.cpp gives them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace npw {

struct Language {
  const char* code;  // "en"
  const char* name;  // "english"
};
// Whisper's language list in token order (100 entries; models with 99 languages use the first 99).
const std::vector<Language>& whisper_languages();

class Vocab {
 public:
  // `stored` are the byte strings the file holds (ids 0..stored.size()-1); n_vocab is from the header.
  Vocab(std::vector<std::string> stored, int32_t n_vocab);

  int32_t n_vocab() const { return n_vocab_; }
  bool is_multilingual() const { return n_vocab_ >= 51865; }
  int num_languages() const { return num_languages_; }

  // Raw bytes of a token (may be a fragment of a UTF-8 character), valid as long as the Vocab.
  // Throws for ids out of range.
  std::string_view bytes(int32_t id) const;

  int32_t eot() const { return eot_; }
  int32_t sot() const { return sot_; }
  int32_t translate() const { return translate_; }
  int32_t transcribe() const { return transcribe_; }
  int32_t start_of_lm() const { return solm_; }
  int32_t start_of_prev() const { return prev_; }
  int32_t no_speech() const { return nosp_; }
  int32_t no_timestamps() const { return not_; }
  int32_t timestamp_begin() const { return beg_; }
  bool is_timestamp(int32_t id) const { return id >= beg_ && id < n_vocab_; }
  bool is_special(int32_t id) const { return id >= eot_; }

  // Token of a language code ("en"); -1 when the model has no such language.
  int32_t language_token(const std::string& code) const;
  // Code of a language token; nullptr when `id` is not one.
  const char* language_code(int32_t id) const;

 private:
  void add(const char* bytes, std::size_t n);

  // Every token's bytes back to back, token i at [starts_[i], starts_[i + 1]): one std::string a
  // token (32 bytes each, 1.7 MiB for 51,865) held three times what the bytes need.
  std::string text_;
  std::vector<uint32_t> starts_;
  int32_t n_vocab_;
  int num_languages_;
  int32_t eot_, sot_, translate_, transcribe_, solm_, prev_, nosp_, not_, beg_;
};

}  // namespace npw
