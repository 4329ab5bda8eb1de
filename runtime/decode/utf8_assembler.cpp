// Streaming UTF-8 validation per RFC 3629 (no overlongs, no surrogates, nothing above U+10FFFF).
#include "decode/utf8_assembler.h"

namespace npw {

namespace {

const char kReplacement[] = "\xEF\xBF\xBD";

// Length of the character a lead byte starts, or 0 when it cannot start one.
int lead_length(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

// Whether `b` may follow `lead` as the second byte; the narrowed ranges exclude overlongs,
// surrogates and code points past U+10FFFF.
bool valid_second(unsigned char lead, unsigned char b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
  }
}

}  // namespace

void Utf8Assembler::push_byte(unsigned char b, std::string& out) {
  if (n_pending_ > 0) {
    bool ok = n_pending_ == 1 ? valid_second(pending_[0], b) : (b >= 0x80 && b <= 0xBF);
    if (ok) {
      pending_[n_pending_++] = b;
      if (n_pending_ == n_expected_) {
        out.append(reinterpret_cast<const char*>(pending_), n_pending_);
        n_pending_ = 0;
      }
      return;
    }
    // The held bytes are a maximal ill-formed subpart; `b` starts afresh.
    out += kReplacement;
    n_pending_ = 0;
  }
  int len = lead_length(b);
  if (len == 1) {
    out += static_cast<char>(b);
  } else if (len == 0) {
    out += kReplacement;
  } else {
    pending_[0] = b;
    n_pending_ = 1;
    n_expected_ = len;
  }
}

void Utf8Assembler::push(const char* bytes, std::size_t n, std::string& out) {
  for (std::size_t i = 0; i < n; ++i) push_byte(static_cast<unsigned char>(bytes[i]), out);
}

void Utf8Assembler::finish(std::string& out) {
  if (n_pending_ > 0) out += kReplacement;
  n_pending_ = 0;
}

std::string utf8_sanitize(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  Utf8Assembler a;
  a.push(bytes, out);
  a.finish(out);
  return out;
}

}  // namespace npw
