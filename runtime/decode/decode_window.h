// One decoding of one 30 s window at one temperature: OpenAI's DecodingTask.run after the encoder.
// Feeds the initial tokens, reads the no-speech probability at the SOT position, then repeats
// "filter the logits, choose tokens" with the greedy/sampling or beam-search rule until every
// candidate ends or the length limits are hit, and returns the best-ranked candidate.
#pragma once

#include <atomic>
#include <vector>

#include "decode/logit_filters.h"
#include "decode/token_search.h"
#include "util/aligned_buffer.h"

namespace npw {

class LogitSource;
class ThreadPool;

struct DecodeSettings {
  std::vector<int> initial_tokens;  // [sot_prev, prompt...] + SOT sequence (+ <|notimestamps|>)
  int sot_index = 0;                // position of <|startoftranscript|> in initial_tokens
  int sample_len = 224;             // at most this many steps (OpenAI: n_text_ctx / 2)
  int n_ctx = 448;                  // stop once the whole sequence is longer than this
  int eot = 0;
  int no_speech = -1;               // <|nospeech|>, or -1: no_speech_prob is then 0
  float temperature = 0.0f;
  int beam_size = 0;                // > 0: beam search (OpenAI uses it only at temperature 0)
  double patience = 1.0;
  int best_of = 1;                  // independent candidates when not beam searching
  float length_penalty = -1.0f;     // < 0: rank by sum / length
  bool suppress_blank = true;
  std::vector<int> blank_tokens;
  std::vector<int> suppress_tokens;  // empty: no SuppressTokens filter
  bool timestamps = true;            // apply the timestamp rules
  TimestampRules rules;
  const std::atomic<bool>* cancel = nullptr;  // polled before every step (util/cancel.h)
  // Not owned, may be null: the hypotheses' rows are filtered and normalised side by side on it
  // (each row is computed the same on any thread, so the tokens do not depend on it).
  ThreadPool* pool = nullptr;
};

struct DecodeOutcome {
  std::vector<int> tokens;          // sampled text and timestamp tokens, EOT excluded
  std::vector<float> token_probs;   // exp(log-probability) of each when it was chosen
  float sum_logprob = 0.0f;
  float avg_logprob = 0.0f;         // sum / (tokens + 1), as OpenAI (the +1 counts EOT)
  float no_speech_prob = 0.0f;      // softmax at the SOT position, before any filter
  float temperature = 0.0f;
};

// Applies the filters of `s` (SuppressBlank, SuppressTokens, ApplyTimestampRules, in OpenAI's order)
// to one sequence's logits in place.
void apply_filters(float* logits, int n_vocab, const std::vector<int>& sampled, const DecodeSettings& s);

// The rows a decoding works in, kept by a caller that decodes window after window: every beam's or
// sample's logits (1 MiB for 5 rows of 51,865), allocated once and counted as the stream's in the
// memory ledger, instead of allocated and freed by every call.
struct DecodeWorkspace {
  AlignedBuffer<float> logits{MemoryLabel{"decoding: the logits of each beam or sample"}};
  AlignedBuffer<float> sot_logits{MemoryLabel{"decoding: the logits at the start of transcript (no-speech probability)"}};
};

// Runs the decoding. `rng` is drawn from only at temperature > 0. `ws` may be null (rows allocated
// for this call).
DecodeOutcome decode_window(LogitSource& source, const DecodeSettings& s, Rng& rng, DecodeWorkspace* ws = nullptr);

}  // namespace npw
