// How the next token of each sequence is chosen, as OpenAI's GreedyDecoder and BeamSearchDecoder,
// and how the finished candidates are ranked (MaximumLikelihoodRanker). Pure bookkeeping over
// log-probabilities: the loop that produces them lives in decode_window.h.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace npw {

// One candidate: the tokens sampled after the initial tokens (EOT included once finished), the
// log-probability of each when it was chosen, and their float32 sum (OpenAI accumulates in float32).
struct Hypothesis {
  std::vector<int> tokens;
  std::vector<float> logprobs;
  float sum_logprob = 0.0f;
  bool finished(int eot) const { return !tokens.empty() && tokens.back() == eot; }
};

// Deterministic sampling source: the same seed gives the same draws on every platform (the
// conversion to [0, 1) is ours, not the standard library's distribution).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }
  void seed(uint64_t s) { engine_.seed(s); }

 private:
  std::mt19937_64 engine_;
};

// Lowest index of the largest logit (torch.argmax's choice among ties).
int argmax(const float* logits, int n);

// Categorical(logits / temperature).sample() for the uniform draw u in [0, 1): the index where the
// running sum of softmax(logits / T) first exceeds u. Taking the draw rather than the generator lets
// rows be sampled side by side once their draws were taken in order.
int sample_token(const float* logits, int n, float temperature, double u);

// GreedyDecoder.update for one sequence: at temperature 0 the argmax, otherwise a sample; the
// log-probability recorded is that of the unscaled (filtered) logits. `logprobs` = log_softmax of
// the filtered logits. A finished sequence is left as it is (and draws nothing).
void greedy_step(Hypothesis& h, const float* logits, const float* logprobs, int n_vocab, float temperature, int eot,
                 Rng& rng);
// The same in two halves: the token greedy_step would choose for the draw u (unused at temperature
// 0), and its recording.
int greedy_choice(const float* logits, int n_vocab, float temperature, double u);
void append_token(Hypothesis& h, int token, const float* logprobs);

// The k highest of n log-probabilities, best first, equal values by the lower index: the order a
// sort by (value descending, index ascending) gives; NaN ranks below every number (k <= n). One
// pass, nearly every value rejected by one comparison with the k-th best so far.
void top_tokens(const float* logprobs, int n, int k, int* tokens);

// OpenAI's BeamSearchDecoder for one audio: keeps beam_size live beams, collects finished
// sequences up to round(beam_size * patience), and completes when that many have finished.
class BeamSearch {
 public:
  BeamSearch(int beam_size, double patience, int eot);

  // OpenAI's max_candidates: round(beam_size * patience) in double, halves to even as Python's round.
  static int max_candidates(int beam_size, double patience);

  // One step. beams.size() == beam_size; logprobs[beam][n_vocab] (log-softmax of each beam's
  // filtered logits). Replaces beams by the new live beams; source[i] is the old beam that new beam
  // i extends (for the KV caches). Returns true when enough sequences have finished.
  bool update(std::vector<Hypothesis>& beams, const float* logprobs, int n_vocab, std::vector<int>& source);
  // The same with each beam's best candidates_per_beam() tokens already chosen (top_tokens(), k per
  // beam in `top`): the rows' selections can then run side by side.
  bool update(std::vector<Hypothesis>& beams, const float* logprobs, int n_vocab, const int* top,
              std::vector<int>& source);
  // Tokens each beam proposes: beam_size + 1, as OpenAI's topk (at most the vocabulary).
  int candidates_per_beam(int n_vocab) const { return beam_size_ + 1 < n_vocab ? beam_size_ + 1 : n_vocab; }

  // The finished sequences, topped up with the best live beams (EOT appended) while fewer than
  // beam_size have finished; in OpenAI's order.
  std::vector<Hypothesis> finalize(const std::vector<Hypothesis>& beams) const;

  int max_candidates() const { return max_candidates_; }

 private:
  int beam_size_;
  int max_candidates_;
  int eot_;
  std::vector<Hypothesis> finished_;  // in insertion order, as OpenAI's dict
};

// MaximumLikelihoodRanker: index of the best candidate by sum_logprob / penalty, where penalty is
// the text length (tokens before the first EOT) when length_penalty < 0, else ((5 + len) / 6)^alpha.
// The first of equal scores wins. A zero-length candidate is scored as length 1 (OpenAI would divide
// by zero).
int rank_hypotheses(const std::vector<Hypothesis>& candidates, float length_penalty, int eot);

// Tokens of a candidate before its first EOT.
std::size_t text_length(const Hypothesis& h, int eot);

}  // namespace npw
