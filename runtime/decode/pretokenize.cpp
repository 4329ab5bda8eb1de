// Scanner for GPT-2's pre-tokenisation regex (see the header for the pattern and its classes).
#include "decode/pretokenize.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace npw {

namespace {

enum class Cls { Letter, Number, Space, Other };

struct Char {
  uint32_t cp;       // code point; invalid bytes keep their byte value with `valid` false
  bool valid;
  std::size_t begin; // byte offset in the text
  std::size_t end;
};

// Decodes one character at `i`; an ill-formed byte is returned alone, marked invalid.
Char next_char(const std::string& s, std::size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size();
  unsigned char b = p[i];
  auto cont = [&](std::size_t k) { return i + k < n && (p[i + k] & 0xC0) == 0x80; };
  if (b < 0x80) return {b, true, i, i + 1};
  if (b >= 0xC2 && b <= 0xDF && cont(1)) return {uint32_t(b & 0x1F) << 6 | (p[i + 1] & 0x3F), true, i, i + 2};
  if (b >= 0xE0 && b <= 0xEF && cont(1) && cont(2)) {
    uint32_t cp = uint32_t(b & 0x0F) << 12 | uint32_t(p[i + 1] & 0x3F) << 6 | (p[i + 2] & 0x3F);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) return {cp, true, i, i + 3};
  }
  if (b >= 0xF0 && b <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    uint32_t cp = uint32_t(b & 0x07) << 18 | uint32_t(p[i + 1] & 0x3F) << 12 | uint32_t(p[i + 2] & 0x3F) << 6 |
                  (p[i + 3] & 0x3F);
    if (cp >= 0x10000 && cp <= 0x10FFFF) return {cp, true, i, i + 4};
  }
  return {b, false, i, i + 1};
}

bool is_white_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

#include "decode/unicode_classes.inc"

template <std::size_t N>
bool in_ranges(const uint32_t (&ranges)[N][2], uint32_t c) {
  const auto* it = std::upper_bound(std::begin(ranges), std::end(ranges), c,
                                    [](uint32_t v, const uint32_t (&r)[2]) { return v < r[0]; });
  return it != std::begin(ranges) && c <= (*(it - 1))[1];
}

// \p{L}, \p{N} and \s as tiktoken's regex engine reads them: Unicode's General Categories L and N
// (not glibc's iswalpha, which also counts the combining marks of Indic scripts as letters) and the
// White_Space property.
Cls classify(const Char& ch) {
  if (!ch.valid) return Cls::Other;
  const uint32_t c = ch.cp;
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return Cls::Letter;
    if (c >= '0' && c <= '9') return Cls::Number;
    return is_white_space(c) ? Cls::Space : Cls::Other;
  }
  if (is_white_space(c)) return Cls::Space;
  if (in_ranges(kLetterRanges, c)) return Cls::Letter;
  if (in_ranges(kNumberRanges, c)) return Cls::Number;
  return Cls::Other;
}

}  // namespace

std::vector<std::string> gpt2_pretokenize(const std::string& text) {
  std::vector<Char> chars;
  std::vector<Cls> cls;
  for (std::size_t i = 0; i < text.size();) {
    Char ch = next_char(text, i);
    chars.push_back(ch);
    cls.push_back(classify(ch));
    i = ch.end;
  }
  const std::size_t n = chars.size();
  std::vector<std::string> words;
  auto emit = [&](std::size_t from, std::size_t to) {  // characters [from, to)
    words.push_back(text.substr(chars[from].begin, chars[to - 1].end - chars[from].begin));
  };
  auto is_ascii = [&](std::size_t k, char c) { return k < n && chars[k].valid && chars[k].cp == uint32_t(c); };

  std::size_t i = 0;
  while (i < n) {
    // 's 't 're 've 'm 'll 'd
    if (is_ascii(i, '\'')) {
      if (is_ascii(i + 1, 's') || is_ascii(i + 1, 't') || is_ascii(i + 1, 'm') || is_ascii(i + 1, 'd')) {
        emit(i, i + 2);
        i += 2;
        continue;
      }
      if ((is_ascii(i + 1, 'r') && is_ascii(i + 2, 'e')) || (is_ascii(i + 1, 'v') && is_ascii(i + 2, 'e')) ||
          (is_ascii(i + 1, 'l') && is_ascii(i + 2, 'l'))) {
        emit(i, i + 3);
        i += 3;
        continue;
      }
    }
    // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional literal space, then a run of one class.
    std::size_t start = i + (is_ascii(i, ' ') && i + 1 < n && cls[i + 1] != Cls::Space ? 1 : 0);
    if (cls[start] != Cls::Space) {
      Cls c = cls[start];
      std::size_t j = start + 1;
      while (j < n && cls[j] == c) ++j;
      emit(i, j);
      i = j;
      continue;
    }
    // "\s+(?!\S)" then "\s+": a whitespace run leaves its last character to the word that follows.
    std::size_t j = i;
    while (j < n && cls[j] == Cls::Space) ++j;
    if (j < n && j - i >= 2) --j;
    emit(i, j);
    i = j;
  }
  return words;
}

}  // namespace npw
