// OpenAI's decoding main loop over a LogitSource; see decode_window.h.
#include "decode/decode_window.h"

#include <cmath>
#include <limits>

#include "decode/logit_source.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/exp_sum.h"
#include "util/thread_pool.h"

namespace npw {

void apply_filters(float* logits, int n_vocab, const std::vector<int>& sampled, const DecodeSettings& s) {
  if (s.suppress_blank) suppress_blank(logits, n_vocab, sampled.size(), s.blank_tokens, s.eot);
  if (!s.suppress_tokens.empty()) suppress_tokens(logits, n_vocab, s.suppress_tokens);
  if (s.timestamps) apply_timestamp_rules(logits, n_vocab, sampled.data(), sampled.size(), s.rules);
}

namespace {

float softmax_at(const float* logits, int n, int index) {
  const double mx = largest_value(logits, n);
  const double sum = exp_sum(logits, n, mx, 1.0);
  return static_cast<float>(std::exp(static_cast<double>(logits[index]) - mx) / sum);
}

}  // namespace

DecodeOutcome decode_window(LogitSource& source, const DecodeSettings& s, Rng& rng, DecodeWorkspace* ws) {
  const int V = source.n_vocab();
  if (s.initial_tokens.empty() || s.sot_index < 0 || s.sot_index >= static_cast<int>(s.initial_tokens.size())) {
    throw Error(ErrorKind::Internal, "decode_window: bad initial tokens or SOT index");
  }
  const bool beam = s.beam_size > 0;
  const int G = beam ? s.beam_size : std::max(1, s.best_of);
  const std::size_t row = static_cast<std::size_t>(V);

  // Each row's log-softmax replaces its logits (a sample is drawn from the logits first): a second
  // array of G rows (1 MiB for 5 rows) stayed in the malloc heap after every window.
  DecodeWorkspace local;
  DecodeWorkspace& w = ws ? *ws : local;
  w.logits.reserve_at_least(static_cast<std::size_t>(G) * row);
  w.sot_logits.reserve_at_least(row);
  AlignedBuffer<float>& logits = w.logits;
  AlignedBuffer<float>& sot_logits = w.sot_logits;
  source.begin(s.initial_tokens, G, s.sot_index, sot_logits.data(), logits.data());
  for (int g = 1; g < G; ++g) std::copy(logits.data(), logits.data() + row, logits.data() + static_cast<std::size_t>(g) * row);

  DecodeOutcome out;
  out.temperature = s.temperature;
  out.no_speech_prob = s.no_speech >= 0 && s.no_speech < V ? softmax_at(sot_logits.data(), V, s.no_speech) : 0.0f;

  std::vector<Hypothesis> hyps(static_cast<std::size_t>(G));
  BeamSearch search(beam ? s.beam_size : 1, beam ? s.patience : 1.0, s.eot);  // patience is the beams' only
  std::vector<int> src;
  std::vector<int> next(static_cast<std::size_t>(G));
  std::vector<double> draws(static_cast<std::size_t>(G));
  const int per_beam = search.candidates_per_beam(V);
  std::vector<int> top(beam ? static_cast<std::size_t>(G) * static_cast<std::size_t>(per_beam) : 0);
  for (int i = 0; i < s.sample_len; ++i) {
    check_cancel(s.cancel, "a decoding step");
    // A row's filters, log-softmax and sample (or best tokens) take ~0.1-0.2 ms over 51,865 logits:
    // five rows a step were a tenth of a small model's step on the calling thread while the pool
    // idled. The sampling draws are taken first, in the hypotheses' order (a finished one draws
    // nothing, as in greedy_step), so each row's token is the same whichever thread samples it.
    if (!beam) {
      for (int g = 0; g < G; ++g) {
        const bool live = !hyps[static_cast<std::size_t>(g)].finished(s.eot);
        draws[static_cast<std::size_t>(g)] = live && s.temperature != 0.0f ? rng.uniform() : 0.0;
      }
    }
    auto policy_rows = [&](int64_t g0, int64_t g1, int) {
      for (int64_t g = g0; g < g1; ++g) {
        const Hypothesis& h = hyps[static_cast<std::size_t>(g)];
        float* lg = logits.data() + static_cast<std::size_t>(g) * row;
        apply_filters(lg, V, h.tokens, s);
        if (!beam && !h.finished(s.eot)) {
          next[static_cast<std::size_t>(g)] = greedy_choice(lg, V, s.temperature, draws[static_cast<std::size_t>(g)]);
        }
        log_softmax(lg, V, lg);
        if (beam) top_tokens(lg, V, per_beam, top.data() + g * per_beam);
      }
    };
    if (s.pool && G > 1) {
      s.pool->parallel_for(G, policy_rows);
    } else {
      policy_rows(0, G, 0);
    }
    bool completed = true;
    if (beam) {
      completed = search.update(hyps, logits.data(), V, top.data(), src);
    } else {
      for (int g = 0; g < G; ++g) {
        Hypothesis& h = hyps[static_cast<std::size_t>(g)];
        if (!h.finished(s.eot)) append_token(h, next[static_cast<std::size_t>(g)], logits.data() + static_cast<std::size_t>(g) * row);
        completed = completed && h.finished(s.eot);
      }
    }
    const std::size_t length = s.initial_tokens.size() + static_cast<std::size_t>(i) + 1;
    if (completed || length > static_cast<std::size_t>(s.n_ctx) || i + 1 == s.sample_len) break;
    if (beam) source.reorder(src);
    for (int g = 0; g < G; ++g) {
      const Hypothesis& h = hyps[static_cast<std::size_t>(g)];
      next[static_cast<std::size_t>(g)] = h.tokens.back();  // a finished greedy sequence keeps feeding EOT
    }
    source.step(next, logits.data());
  }

  const std::vector<Hypothesis> candidates = beam ? search.finalize(hyps) : hyps;
  const Hypothesis& best = candidates[static_cast<std::size_t>(rank_hypotheses(candidates, s.length_penalty, s.eot))];
  const std::size_t n = text_length(best, s.eot);
  out.tokens.assign(best.tokens.begin(), best.tokens.begin() + static_cast<std::ptrdiff_t>(n));
  out.token_probs.reserve(n);
  for (std::size_t k = 0; k < n; ++k) out.token_probs.push_back(std::exp(best.logprobs[k]));
  out.sum_logprob = best.sum_logprob;
  out.avg_logprob = static_cast<float>(static_cast<double>(best.sum_logprob) / static_cast<double>(n + 1));
  return out;
}

}  // namespace npw
