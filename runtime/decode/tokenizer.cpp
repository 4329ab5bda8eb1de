// Byte-level decoding and greedy longest-match prompt encoding over the stored vocabulary.
#include "decode/tokenizer.h"

#include <algorithm>
#include <cstdio>

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
    max_token_bytes_ = std::max(max_token_bytes_, b.size());
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

std::vector<int> Tokenizer::encode(const std::string& text) const {
  std::call_once(indexed_, [this] { index(); });
  std::vector<int> ids;
  for (const std::string& word : gpt2_pretokenize(text)) {
    std::size_t i = 0;
    while (i < word.size()) {
      std::size_t len = std::min(max_token_bytes_, word.size() - i);
      for (; len > 0; --len) {
        const int id = find_bytes(std::string_view(word).substr(i, len));
        if (id >= 0) {
          ids.push_back(id);
          break;
        }
      }
      if (len == 0) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(word[i]));
        throw Error(ErrorKind::Format,
                    std::string("vocabulary has no token for the byte ") + hex + " (needed to encode the prompt)");
      }
      i += len;
    }
  }
  return ids;
}

void TokenTextStream::push(int id, std::string& out) {
  if (tokenizer_.is_text(id)) utf8_.push(tokenizer_.vocab().bytes(id), out);
}

}  // namespace npw
