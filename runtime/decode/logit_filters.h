// OpenAI's three logit filters (whisper/decoding.py: SuppressBlank, SuppressTokens,
// ApplyTimestampRules) as pure functions on one sequence's next-token logits. They decide what the
// decoder may say, so they are reproduced rule for rule; each works in place and sets forbidden
// logits to -inf. `sampled` are the tokens generated so far for this sequence, i.e. OpenAI's
// tokens[sample_begin:] (the prompt and SOT sequence excluded): n_sampled == 0 is the first step.
#pragma once

#include <cstddef>
#include <vector>

namespace npw {

// At the first step only: forbid the blank token(s) and EOT, so a window does not open with nothing.
void suppress_blank(float* logits, int n_vocab, std::size_t n_sampled, const std::vector<int>& blank_tokens, int eot);

// Forbid every listed id (always).
void suppress_tokens(float* logits, int n_vocab, const std::vector<int>& ids);

struct TimestampRules {
  int eot = 0;
  int no_timestamps = -1;             // <|notimestamps|>, or -1 when the vocabulary has none
  int timestamp_begin = 0;            // <|0.00|>
  int max_initial_timestamp_index = -1;  // last allowed first timestamp, in 0.02 s steps; -1: no limit
};

// Index of max_initial_timestamp (seconds) for timestamp steps of `precision` seconds, as OpenAI:
// Python's round (half to even) of seconds / precision; 0 seconds means no limit (-1).
int max_initial_timestamp_index(double seconds, double precision);

// OpenAI's ApplyTimestampRules for one sequence:
//  - <|notimestamps|> is never sampled;
//  - timestamps come in pairs except directly before EOT: after a closing pair (or a lone first
//    timestamp) the next token is text; after text-then-timestamp it is a timestamp or EOT;
//  - timestamps never decrease, and a new segment's opening timestamp is strictly after the last
//    one (the "+1" that keeps every segment non-empty and stops infinite loops);
//  - the first token is a timestamp no later than max_initial_timestamp_index;
//  - if the total probability of all timestamps beats the most likely text token, a timestamp is
//    forced (text logits set to -inf).
void apply_timestamp_rules(float* logits, int n_vocab, const int* sampled, std::size_t n_sampled,
                           const TimestampRules& rules);

// log_softmax over n values (double accumulation; -inf entries stay -inf). out may be logits.
void log_softmax(const float* logits, int n, float* out);

}  // namespace npw
