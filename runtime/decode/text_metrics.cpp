// Compression ratio and Python-compatible strip; see text_metrics.h for why each exists.
#include "decode/text_metrics.h"

#include <zlib.h>

#include <cstdint>
#include <vector>

#include "util/error.h"

namespace npw {

float compression_ratio(const std::string& utf8_text) {
  const uLong n = static_cast<uLong>(utf8_text.size());
  uLongf cap = compressBound(n);
  std::vector<Bytef> out(cap);
  // compress2 with Z_DEFAULT_COMPRESSION uses deflateInit's defaults (window 15, memLevel 8),
  // the same stream parameters as Python's zlib.compress(data), so the lengths agree exactly.
  const int rc = compress2(out.data(), &cap, reinterpret_cast<const Bytef*>(utf8_text.data()), n,
                           Z_DEFAULT_COMPRESSION);
  if (rc != Z_OK) throw Error(ErrorKind::Internal, "zlib compress2 failed with code " + std::to_string(rc));
  return static_cast<float>(static_cast<double>(n) / static_cast<double>(cap));
}

namespace {

bool is_python_space(uint32_t cp) {
  if (cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F)) return true;
  if (cp == 0x85 || cp == 0xA0 || cp == 0x1680) return true;
  if (cp >= 0x2000 && cp <= 0x200A) return true;
  return cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Decodes the code point starting at s[i] (valid UTF-8 assumed; a stray byte counts as itself).
uint32_t code_point_at(const std::string& s, std::size_t i, std::size_t* len) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (i + n > s.size()) n = 1;
  uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *len = n;
  return cp;
}

}  // namespace

std::string python_strip(const std::string& s) {
  std::size_t begin = 0;
  while (begin < s.size()) {
    std::size_t len = 0;
    if (!is_python_space(code_point_at(s, begin, &len))) break;
    begin += len;
  }
  // Walk forward to find the end of the last non-space code point (UTF-8 is not safely walked back
  // without re-validating, and segment texts are short).
  std::size_t end = begin;
  for (std::size_t i = begin; i < s.size();) {
    std::size_t len = 0;
    const bool space = is_python_space(code_point_at(s, i, &len));
    i += len;
    if (!space) end = i;
  }
  return s.substr(begin, end - begin);
}

}  // namespace npw
