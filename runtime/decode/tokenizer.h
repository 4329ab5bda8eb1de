// Token ids <-> text for Whisper's byte-level vocabulary.
//
// ids -> text: the bytes of the text tokens (ids below <|endoftext|>) are concatenated and passed
// through a UTF-8 assembler, so a character split over tokens comes out whole and bytes that can
// never form a character become U+FFFD. Special and timestamp tokens carry no text and are skipped
// without interrupting a character that spans them (as OpenAI, which filters them out before decoding).
//
// text -> ids (prompts): OpenAI's tiktoken encoding. The text is split into words exactly as GPT-2's
// regular expression splits it (contractions, letters with their leading space, numbers,
// punctuation runs, whitespace; see pretokenize.h); a word the vocabulary holds is that token, any
// other is byte-pair merged (byte_pair.h) with each byte string's token id as its rank - which is
// what tiktoken's rank files are, and whisper.cpp's GGML files list those byte strings in rank
// order. (whisper.cpp itself cuts words by greedy longest match, which differs for ~4-7 % of words.)
// The bytes always round-trip (decode(encode(t)) == t for valid UTF-8 t), because every single byte
// is a token of the vocabulary.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "decode/utf8_assembler.h"

namespace npw {

class Vocab;

class Tokenizer {
 public:
  // Indexes the text tokens of `vocab`, which must outlive the tokenizer.
  explicit Tokenizer(const Vocab& vocab);

  // Whether `id` is a text token (carries bytes of text).
  bool is_text(int id) const { return id >= 0 && id < n_text_; }

  // Valid UTF-8 text of the tokens; non-text ids are skipped, ill-formed bytes become U+FFFD.
  std::string decode(const int* ids, std::size_t n) const;
  std::string decode(const std::vector<int>& ids) const { return decode(ids.data(), ids.size()); }
  // OpenAI's Tokenizer.decode: timestamps dropped, the other special tokens written as their names
  // ("<|ja|>", "<|endoftext|>") - the text a decoding's compression ratio is taken of.
  std::string decode_with_specials(const std::vector<int>& ids) const;
  // The name tiktoken gives a special token below the timestamps ("<|startoftranscript|>"); empty
  // for any other id.
  std::string special_name(int id) const;

  // Text tokens for `text` (pre-tokenised, then byte-pair merged per word; see above). Throws
  // npw::Error(Format) if the vocabulary lacks a single-byte token that the text needs.
  std::vector<int> encode(const std::string& text) const;

  const Vocab& vocab() const { return vocab_; }

 private:
  // The text token whose bytes are exactly `bytes` (the lowest id), or -1.
  int find_bytes(std::string_view bytes) const;

  const Vocab& vocab_;
  int n_text_;  // ids [0, n_text_) are text
  // The non-empty text tokens ordered by their bytes (then id): 4 bytes a token, where a hash map
  // of the byte strings took ~80 (about 4 MiB per stream for a 51,865-token vocabulary). Made by the
  // first encode(): only a prompt given as text needs it, and a stream without one keeps the 200 KiB.
  void index() const;
  mutable std::once_flag indexed_;
  mutable std::vector<int> by_bytes_;
};

// Text of tokens as they are generated: each push releases the characters completed so far, never
// half a character. Reusable across windows via reset().
class TokenTextStream {
 public:
  explicit TokenTextStream(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  // Appends to `out` the text completed by token `id` (nothing for non-text tokens).
  void push(int id, std::string& out);
  // Ends the text: a character left unfinished becomes U+FFFD.
  void finish(std::string& out) { utf8_.finish(out); }
  void reset() { utf8_.reset(); }
  bool pending() const { return utf8_.pending(); }

 private:
  const Tokenizer& tokenizer_;
  Utf8Assembler utf8_;
};

}  // namespace npw
