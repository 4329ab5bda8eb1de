// GPT-2's pre-tokenisation: the split of text into "words" that its byte-level BPE never merges
// across. It is the regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (OpenAI's tiktoken "gpt2" pattern, which Whisper's tokenizer uses), re-implemented as a scanner so
// that no regex engine with Unicode classes is needed. \p{L} and \p{N} are Unicode's General
// Categories L and N (tables generated from UnicodeData.txt: unicode_classes.inc), \s its White_Space
// list, as in the Rust regex engine tiktoken runs the pattern with. Bytes that are not valid UTF-8
// count as punctuation, one byte each, so every input byte lands in exactly one word.
#pragma once

#include <string>
#include <vector>

namespace npw {

// The words of `text`, in order; their concatenation is `text`.
std::vector<std::string> gpt2_pretokenize(const std::string& text);

}  // namespace npw
