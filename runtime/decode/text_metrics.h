// The two text measurements OpenAI's fallback and segment rules rely on, reproduced byte for byte:
// the gzip-style compression ratio (len(utf8) / len(zlib.compress(utf8)) at zlib's default level, the
// measure of "too repetitive") and Python's str.strip() (what decides that a segment is empty).
#pragma once

#include <string>

namespace npw {

// len(text) / len(zlib.compress(text)) as Python computes it (zlib default level, 15-bit window).
// The empty string gives 0 (zlib still writes 8 bytes of header and checksum).
float compression_ratio(const std::string& utf8_text);

// Python's str.strip() on valid UTF-8: removes leading and trailing code points that Python counts
// as whitespace (ASCII blanks, U+001C..U+001F, U+0085, U+00A0, and the Unicode space separators).
std::string python_strip(const std::string& utf8_text);

}  // namespace npw
