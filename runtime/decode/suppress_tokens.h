// Which token ids the decoding policy forbids outright, as OpenAI's DecodingTask builds them: the
// user's comma-separated list (with "-1" standing for the non-speech symbol set), plus the special
// tokens that must never be sampled; and the "blank" tokens SuppressBlank forbids at the first step.
//
// OpenAI finds the non-speech set by running its BPE tokenizer over a list of symbols. A GGML file
// has no merge ranks, so here a symbol counts as "one token" when the vocabulary holds exactly its
// bytes (for byte-level BPE a token's own string always encodes to that token), and "the first token
// of a multi-token encoding" is the longest vocabulary prefix of its bytes.
#pragma once

#include <string>
#include <vector>

namespace npw {

class Vocab;

// Parses "1,2,-1" (spaces allowed around ids; empty -> empty list). Ids must be >= -1. Throws
// npw::Error(InvalidArgument) naming the field "suppress_tokens" and the bad item.
std::vector<int> parse_suppress_tokens(const std::string& spec);

// OpenAI's Tokenizer.non_speech_tokens for this vocabulary, sorted and unique.
std::vector<int> non_speech_tokens(const Vocab& vocab);

// OpenAI's DecodingTask._get_suppress_tokens: the parsed spec ("-1" expands to non_speech_tokens)
// plus transcribe, translate, sot, sot_prev, sot_lm and no_speech; sorted, unique. An empty spec
// gives an empty list: OpenAI then adds no SuppressTokens filter at all, specials included. Throws
// npw::Error(InvalidArgument) for an id outside the vocabulary.
std::vector<int> suppress_token_ids(const std::string& spec, const Vocab& vocab);

// tokenizer.encode(" ") for SuppressBlank: the token(s) of a lone space.
std::vector<int> blank_tokens(const Vocab& vocab);

}  // namespace npw
