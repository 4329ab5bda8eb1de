// Tokens are byte strings, and a UTF-8 character may be split over several tokens (or a model may
// emit bytes that never form a character). This assembler takes bytes as they come and releases only
// whole, valid characters; an ill-formed sequence becomes U+FFFD (one per maximal ill-formed subpart,
// the Unicode-recommended practice, which is also what Python's errors="replace" does), so nothing is
// dropped silently and the output is always valid UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace npw {

class Utf8Assembler {
 public:
  // Appends the complete characters that `n` more bytes finish to `out`; keeps an unfinished tail.
  void push(const char* bytes, std::size_t n, std::string& out);
  void push(std::string_view bytes, std::string& out) { push(bytes.data(), bytes.size(), out); }
  // Ends the stream: an unfinished tail becomes U+FFFD.
  void finish(std::string& out);
  // Forgets an unfinished tail without emitting anything.
  void reset() { n_pending_ = 0; }
  // True while bytes of an unfinished character are held back.
  bool pending() const { return n_pending_ > 0; }

 private:
  void push_byte(unsigned char b, std::string& out);

  unsigned char pending_[4] = {0, 0, 0, 0};
  int n_pending_ = 0;
  int n_expected_ = 0;  // total length of the character being assembled
};

// Whole-string form: `bytes` as valid UTF-8 with ill-formed parts replaced by U+FFFD.
std::string utf8_sanitize(const std::string& bytes);

}  // namespace npw
