// Byte-level decoding and tiktoken's BPE prompt encoding over the stored vocabulary.
#include "decode/tokenizer.h"

#include <algorithm>
#include <cstdio>

#include "decode/byte_pair.h"
#include "decode/pretokenize.h"
#include "model/vocab.h"
#include "util/error.h"

namespace npw {

Tokenizer::Tokenizer(const Vocab& vocab) : vocab_(vocab), n_text_(vocab.eot()) {}

void Tokenizer::index() const {
  by_bytes_.reserve(static_cast<std::size_t>(n_text_));
  for (int id = 0; id < n_text_; ++id) {
    const std::string_view b = vocab_.bytes(id);
    if (b.empty()) continue;
    by_bytes_.push_back(id);
  }
  // Ids ascending among equal bytes: a lookup finds the lowest id if a byte string repeats. (Not
  // std::stable_sort: g++ 12's temporary buffer frees with a mismatched call under ASan.)
  std::sort(by_bytes_.begin(), by_bytes_.end(), [&](int a, int b) {
    const std::string_view x = vocab_.bytes(a);
    const std::string_view y = vocab_.bytes(b);
    return x != y ? x < y : a < b;
  });
}

int Tokenizer::find_bytes(std::string_view bytes) const {
  auto it = std::lower_bound(by_bytes_.begin(), by_bytes_.end(), bytes,
                             [&](int id, std::string_view b) { return vocab_.bytes(id) < b; });
  return it != by_bytes_.end() && vocab_.bytes(*it) == bytes ? *it : -1;
}

std::string Tokenizer::decode(const int* ids, std::size_t n) const {
  std::string out;
  Utf8Assembler utf8;
  for (std::size_t i = 0; i < n; ++i)
    if (is_text(ids[i])) utf8.push(vocab_.bytes(ids[i]), out);
  utf8.finish(out);
  return out;
}

std::string Tokenizer::special_name(int id) const {
  const Vocab& v = vocab_;
  if (id < v.eot() || id >= v.timestamp_begin()) return "";
  if (id == v.eot()) return "<|endoftext|>";
  if (id == v.sot()) return "<|startoftranscript|>";
  if (const char* code = v.language_code(id)) return std::string("<|") + code + "|>";
  if (id == v.translate()) return "<|translate|>";
  if (id == v.transcribe()) return "<|transcribe|>";
  if (id == v.start_of_lm()) return "<|startoflm|>";
  if (id == v.start_of_prev()) return "<|startofprev|>";
  if (id == v.no_speech()) return "<|nospeech|>";
  if (id == v.no_timestamps()) return "<|notimestamps|>";
  return "";
}

std::string Tokenizer::decode_with_specials(const std::vector<int>& ids) const {
  // Bytes in order, names included, then one UTF-8 decoding with replacement (tiktoken's decode):
  // a name inside a split character breaks it, as there.
  std::string out;
  Utf8Assembler utf8;
  for (int id : ids) {
    if (is_text(id)) {
      utf8.push(vocab_.bytes(id), out);
    } else {
      const std::string name = special_name(id);
      if (!name.empty()) utf8.push(name, out);
    }
  }
  utf8.finish(out);
  return out;
}

std::vector<int> Tokenizer::encode(const std::string& text) const {
  std::call_once(indexed_, [this] { index(); });
  const ByteRank rank = [this](std::string_view bytes) { return static_cast<int64_t>(find_bytes(bytes)); };
  std::vector<int> ids;
  for (const std::string& word : gpt2_pretokenize(text)) {
    // tiktoken takes a word the vocabulary holds whole as it is, and merges the others.
    if (const int whole = find_bytes(word); whole >= 0) {
      ids.push_back(whole);
      continue;
    }
    const std::vector<std::size_t> starts = byte_pair_merge(word, rank);
    for (std::size_t k = 0; k < starts.size(); ++k) {
      const std::size_t from = starts[k], to = k + 1 < starts.size() ? starts[k + 1] : word.size();
      const int id = find_bytes(std::string_view(word).substr(from, to - from));
      if (id < 0) {  // only a single byte can be unknown: merged parts are ranked tokens
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(word[from]));
        throw Error(ErrorKind::Format,
                    std::string("vocabulary has no token for the byte ") + hex + " (needed to encode the prompt)");
      }
      ids.push_back(id);
    }
  }
  return ids;
}

void TokenTextStream::push(int id, std::string& out) {
  if (tokenizer_.is_text(id)) utf8_.push(tokenizer_.vocab().bytes(id), out);
}

}  // namespace npw
