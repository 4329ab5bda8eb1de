// Scanner for GPT-2's pre-tokenisation regex (see the header for the pattern and its classes).
#include "decode/pretokenize.h"

#include <locale.h>
#include <wctype.h>

#include <cstdint>

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

// \p{N} outside ASCII: the digit and numeral blocks that occur in real text (not all of Unicode).
bool is_number_non_ascii(uint32_t c) {
  static const uint32_t ranges[][2] = {
      {0x00B2, 0x00B3}, {0x00B9, 0x00B9}, {0x00BC, 0x00BE}, {0x0660, 0x0669}, {0x06F0, 0x06F9},
      {0x07C0, 0x07C9}, {0x0966, 0x096F}, {0x09E6, 0x09EF}, {0x0A66, 0x0A6F}, {0x0AE6, 0x0AEF},
      {0x0B66, 0x0B6F}, {0x0BE6, 0x0BF2}, {0x0C66, 0x0C6F}, {0x0CE6, 0x0CEF}, {0x0D66, 0x0D6F},
      {0x0E50, 0x0E59}, {0x0ED0, 0x0ED9}, {0x0F20, 0x0F33}, {0x1040, 0x1049}, {0x17E0, 0x17E9},
      {0x1810, 0x1819}, {0x2070, 0x2070}, {0x2074, 0x2079}, {0x2080, 0x2089}, {0x2150, 0x2189},
      {0x2460, 0x249B}, {0x24EA, 0x24FF}, {0x2776, 0x2793}, {0x3007, 0x3007}, {0x3021, 0x3029},
      {0x3038, 0x303A}, {0x3192, 0x3195}, {0x3220, 0x3229}, {0x3248, 0x324F}, {0x3251, 0x325F},
      {0x3280, 0x3289}, {0x32B1, 0x32BF}, {0xFF10, 0xFF19},
  };
  for (const auto& r : ranges)
    if (c >= r[0] && c <= r[1]) return true;
  return false;
}

// glibc's C.UTF-8 classifies letters by Unicode; looked up once, never through the global locale.
locale_t utf8_locale() {
  static locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return loc;
}

Cls classify(const Char& ch) {
  if (!ch.valid) return Cls::Other;
  uint32_t c = ch.cp;
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return Cls::Letter;
    if (c >= '0' && c <= '9') return Cls::Number;
    return is_white_space(c) ? Cls::Space : Cls::Other;
  }
  if (is_white_space(c)) return Cls::Space;
  if (is_number_non_ascii(c)) return Cls::Number;
  locale_t loc = utf8_locale();
  if (loc != static_cast<locale_t>(nullptr)) return iswalpha_l(static_cast<wint_t>(c), loc) ? Cls::Letter : Cls::Other;
  // Without a UTF-8 locale, scripts are far more often letters than punctuation.
  bool punct_block = (c >= 0x00A1 && c <= 0x00BF) || c == 0x00D7 || c == 0x00F7 || (c >= 0x2010 && c <= 0x2BFF) ||
                     (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0x1F000 && c <= 0x1FAFF);
  return punct_block ? Cls::Other : Cls::Letter;
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
