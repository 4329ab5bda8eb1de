// tiktoken's byte-pair merge, which OpenAI's tokenizer runs on every pre-tokenised word of a prompt:
// starting from single bytes, the adjacent pair whose concatenation has the lowest rank is merged,
// the leftmost on a tie, until no concatenation has a rank. For Whisper's encodings the rank of a
// byte string is its token id (the GGML vocabulary lists the tiktoken ranks in order), so the
// vocabulary alone gives the true BPE: no merge table is needed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace npw {

// The rank of a byte string, or a negative number when it has none.
using ByteRank = std::function<int64_t(std::string_view)>;

// Byte offsets where the merged parts of `piece` start, ascending, starting with 0 (one entry a
// part; the last part ends at piece.size()). Empty for an empty piece. O(n log n) in the piece's
// length (a heap of candidate pairs checked when taken), so a long run of one character costs no
// more than its length; the result is the same as tiktoken's rescanning loop.
std::vector<std::size_t> byte_pair_merge(std::string_view piece, const ByteRank& rank);

}  // namespace npw
