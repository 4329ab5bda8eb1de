// GPT-2's pre-tokenisation: the split of text into "words" that its byte-level BPE never merges
// across. It is the regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (OpenAI's tiktoken "gpt2" pattern, which Whisper's tokenizer uses), re-implemented as a scanner so
// that no regex engine with Unicode classes is needed. Letters outside ASCII come from the C library's
// C.UTF-8 classification (glibc knows Unicode letters); numbers outside ASCII from a table of the
// common digit/numeral blocks; whitespace is Unicode's White_Space list. Bytes that are not valid
// UTF-8 count as punctuation, one byte each, so every input byte lands in exactly one word.
#pragma once

#include <string>
#include <vector>

namespace npw {

// The words of `text`, in order; their concatenation is `text`.
std::vector<std::string> gpt2_pretokenize(const std::string& text);

}  // namespace npw
