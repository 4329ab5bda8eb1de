// Greedy/sampling steps, OpenAI's beam search bookkeeping and candidate ranking; see token_search.h.
#include "decode/token_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "util/error.h"
#include "util/exp_sum.h"

namespace npw {

int argmax(const float* logits, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return best;
}

int sample_token(const float* logits, int n, float temperature, double u) {
  const double mx = largest_value(logits, n);
  if (!std::isfinite(mx)) throw Error(ErrorKind::Internal, "sampling from a distribution with every token forbidden");
  const double total = exp_sum(logits, n, mx, temperature);
  const double target = u * total;
  // The weights again, a block at a time, only up to the one that reaches the target (each weight is
  // the term exp_sum() added, whatever its position in a block).
  constexpr int kBlock = 64;
  double w[kBlock];
  double acc = 0.0;
  int last_possible = 0;
  for (int b = 0; b < n; b += kBlock) {
    const int m = std::min(kBlock, n - b);
    exp_values(logits + b, m, mx, temperature, w);
    for (int j = 0; j < m; ++j) {
      if (w[j] <= 0.0) continue;
      acc += w[j];
      last_possible = b + j;
      if (acc > target) return b + j;
    }
  }
  return last_possible;  // rounding left target at the very top of the range
}

int greedy_choice(const float* logits, int n_vocab, float temperature, double u) {
  return temperature == 0.0f ? argmax(logits, n_vocab) : sample_token(logits, n_vocab, temperature, u);
}

void append_token(Hypothesis& h, int token, const float* logprobs) {
  h.tokens.push_back(token);
  h.logprobs.push_back(logprobs[token]);
  h.sum_logprob += logprobs[token];
}

void greedy_step(Hypothesis& h, const float* logits, const float* logprobs, int n_vocab, float temperature, int eot,
                 Rng& rng) {
  if (h.finished(eot)) return;
  const double u = temperature == 0.0f ? 0.0 : rng.uniform();
  append_token(h, greedy_choice(logits, n_vocab, temperature, u), logprobs);
}

int BeamSearch::max_candidates(int beam_size, double patience) {
  const double n = std::nearbyint(beam_size * patience);  // the default rounding mode: to nearest even
  return n >= 1.0 && n <= 1e9 ? static_cast<int>(n) : 0;
}

BeamSearch::BeamSearch(int beam_size, double patience, int eot)
    : beam_size_(beam_size), max_candidates_(max_candidates(beam_size, patience)), eot_(eot) {
  if (beam_size_ < 1 || max_candidates_ < 1) {
    throw Error(ErrorKind::InvalidArgument, "beam search needs beam_size >= 1 and beam_size * patience >= 1");
  }
}

namespace {

struct Candidate {
  int source;  // beam it extends
  int token;
  float logprob;
  float score;
};

}  // namespace

void top_tokens(const float* logprobs, int n, int k, int* tokens) {
  // tokens[0, filled) sorted; a later index never beats an equal value, so once k are held only a
  // value strictly above the k-th enters.
  int filled = 0;
  auto insert = [&](int j) {
    const float v = logprobs[j];
    int at = filled < k ? filled++ : k - 1;
    while (at > 0 && logprobs[tokens[at - 1]] < v) {
      tokens[at] = tokens[at - 1];
      --at;
    }
    tokens[at] = j;
  };
  int j = 0;
  for (; j < n && filled < k; ++j) {
    if (!std::isnan(logprobs[j])) insert(j);
  }
  // Fewer than k numbers in the row (a model giving NaN): its NaN entries follow, lowest index first.
  for (int i = 0; filled < k && i < n; ++i) {
    if (std::isnan(logprobs[i])) tokens[filled++] = i;
  }
  // Blocks whose largest value (vectorised, NaN passed over) is not above the k-th best, nearly all
  // of them after the first few, are skipped whole.
  constexpr int kBlock = 64;
  while (j < n) {
    const int end = std::min(n, j + kBlock);
    if (largest_value(logprobs + j, end - j) > static_cast<double>(logprobs[tokens[k - 1]])) {
      for (; j < end; ++j) {
        if (logprobs[j] > logprobs[tokens[k - 1]]) insert(j);
      }
    }
    j = end;
  }
}

bool BeamSearch::update(std::vector<Hypothesis>& beams, const float* logprobs, int n_vocab, std::vector<int>& source) {
  const int k = candidates_per_beam(n_vocab);
  std::vector<int> top(static_cast<std::size_t>(beam_size_) * static_cast<std::size_t>(k));
  for (int j = 0; j < beam_size_; ++j) {
    top_tokens(logprobs + static_cast<std::size_t>(j) * static_cast<std::size_t>(n_vocab), n_vocab, k,
               top.data() + static_cast<std::size_t>(j) * static_cast<std::size_t>(k));
  }
  return update(beams, logprobs, n_vocab, top.data(), source);
}

bool BeamSearch::update(std::vector<Hypothesis>& beams, const float* logprobs, int n_vocab, const int* top,
                        std::vector<int>& source) {
  if (static_cast<int>(beams.size()) != beam_size_) {
    throw Error(ErrorKind::Internal, "beam search got " + std::to_string(beams.size()) + " beams, expected " +
                                         std::to_string(beam_size_));
  }
  const int k = candidates_per_beam(n_vocab);
  std::vector<Candidate> cands;
  for (int j = 0; j < beam_size_; ++j) {
    const float* lp = logprobs + static_cast<std::size_t>(j) * static_cast<std::size_t>(n_vocab);
    for (int t = 0; t < k; ++t) {
      const int token = top[static_cast<std::size_t>(j) * static_cast<std::size_t>(k) + static_cast<std::size_t>(t)];
      const float score = beams[static_cast<std::size_t>(j)].sum_logprob + lp[token];
      // OpenAI keys candidates by the whole sequence: identical beams (all of them at the first
      // step) propose the same sequences once; the later beam becomes the source, the first
      // insertion keeps its place.
      bool merged = false;
      for (Candidate& c : cands) {
        if (c.token == token && beams[static_cast<std::size_t>(c.source)].tokens == beams[static_cast<std::size_t>(j)].tokens) {
          c.score = score;
          c.logprob = lp[token];
          c.source = j;
          merged = true;
          break;
        }
      }
      if (!merged) cands.push_back({j, token, lp[token], score});
    }
  }
  std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });

  std::vector<Hypothesis> next;
  std::vector<Hypothesis> newly_finished;
  source.clear();
  for (const Candidate& c : cands) {
    Hypothesis h = beams[static_cast<std::size_t>(c.source)];
    h.tokens.push_back(c.token);
    h.logprobs.push_back(c.logprob);
    h.sum_logprob = c.score;
    if (c.token == eot_) {
      newly_finished.push_back(std::move(h));
    } else {
      next.push_back(std::move(h));
      source.push_back(c.source);
      if (static_cast<int>(next.size()) == beam_size_) break;
    }
  }
  if (static_cast<int>(next.size()) != beam_size_) {
    throw Error(ErrorKind::Internal, "beam search found fewer live candidates than beams (vocabulary too small)");
  }
  beams = std::move(next);
  // newly_finished is already best first (stable), the order OpenAI adds them in.
  for (Hypothesis& h : newly_finished) {
    if (static_cast<int>(finished_.size()) >= max_candidates_) break;
    finished_.push_back(std::move(h));
  }
  return static_cast<int>(finished_.size()) >= max_candidates_;
}

std::vector<Hypothesis> BeamSearch::finalize(const std::vector<Hypothesis>& beams) const {
  std::vector<Hypothesis> out = finished_;
  if (static_cast<int>(out.size()) < beam_size_) {
    std::vector<int> idx(beams.size());
    std::iota(idx.begin(), idx.end(), 0);
    // np.argsort(...)[::-1]: best first, and among equal sums the later beam first.
    std::sort(idx.begin(), idx.end(), [&beams](int a, int b) {
      const float sa = beams[static_cast<std::size_t>(a)].sum_logprob;
      const float sb = beams[static_cast<std::size_t>(b)].sum_logprob;
      return sa > sb || (sa == sb && a > b);
    });
    for (int j : idx) {
      Hypothesis h = beams[static_cast<std::size_t>(j)];
      h.tokens.push_back(eot_);
      h.logprobs.push_back(0.0f);  // never scored; it is cut off with everything after the text
      out.push_back(std::move(h));
      if (static_cast<int>(out.size()) >= beam_size_) break;
    }
  }
  return out;
}

std::size_t text_length(const Hypothesis& h, int eot) {
  const auto it = std::find(h.tokens.begin(), h.tokens.end(), eot);
  return static_cast<std::size_t>(it - h.tokens.begin());
}

int rank_hypotheses(const std::vector<Hypothesis>& candidates, float length_penalty, int eot) {
  if (candidates.empty()) throw Error(ErrorKind::Internal, "ranking an empty candidate list");
  int best = 0;
  double best_score = 0.0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const double length = static_cast<double>(text_length(candidates[i], eot));
    const double penalty = length_penalty < 0.0f ? std::max(length, 1.0)
                                                 : std::pow((5.0 + length) / 6.0, static_cast<double>(length_penalty));
    const double score = static_cast<double>(candidates[i].sum_logprob) / penalty;
    if (i == 0 || score > best_score) {
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  return best;
}

}  // namespace npw
