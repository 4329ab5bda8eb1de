// Greedy, sampling and beam search through decode_window() on a hand-made "language model" whose
// next-token probabilities depend on the sampled prefix, so the best sequence is known by hand; the
// beams' token selection against a full sort.
// Vocabulary: A = 0, B = 1, C = 2, EOT = 3.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "decode/decode_window.h"
#include "decode/logit_source.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

constexpr int A = 0, B = 1, C = 2, EOT = 3, kV = 4;

using Table = std::map<std::vector<int>, std::vector<double>>;  // sampled prefix -> probabilities

// Tracks each sequence itself, so a wrong reorder() by the search shows up as wrong logits.
class TableSource : public LogitSource {
 public:
  TableSource(Table t, int prefix_len) : table_(std::move(t)), prefix_len_(prefix_len) {}
  int n_vocab() const override { return kV; }
  void begin(const std::vector<int>& prefix, int n_seq, int sot_index, float* sot_logits, float* last) override {
    ASSERT_EQ(static_cast<int>(prefix.size()), prefix_len_);
    seqs_.assign(static_cast<std::size_t>(n_seq), {});
    for (int i = 0; i < kV; ++i) sot_logits[i] = i == sot_index ? 2.0f : 0.0f;
    fill({}, last);
  }
  void step(const std::vector<int>& tokens, float* logits) override {
    ++steps;
    for (std::size_t i = 0; i < seqs_.size(); ++i) {
      seqs_[i].push_back(tokens[i]);
      fill(seqs_[i], logits + i * kV);
    }
  }
  void reorder(const std::vector<int>& source) override {
    std::vector<std::vector<int>> next;
    for (int s : source) next.push_back(seqs_[static_cast<std::size_t>(s)]);
    seqs_ = next;
  }
  int steps = 0;

 private:
  void fill(const std::vector<int>& seq, float* out) const {
    const auto it = table_.find(seq);
    // Unlisted prefixes end at once.
    const std::vector<double> p = it != table_.end() ? it->second : std::vector<double>{0.01, 0.01, 0.01, 0.97};
    for (int i = 0; i < kV; ++i) out[i] = static_cast<float>(std::log(p[static_cast<std::size_t>(i)]));
  }
  Table table_;
  int prefix_len_;
  std::vector<std::vector<int>> seqs_;
};

Table known_table() {
  return {
      {{}, {0.6, 0.3999, 0.00005, 0.00005}},
      {{A}, {0.5, 0.3, 0.0, 0.2}},
      {{B}, {0.05, 0.05, 0.0, 0.9}},
      {{A, A}, {0.8, 0.12, 0.0, 0.08}},
      {{A, B}, {0.005, 0.005, 0.0, 0.99}},
      {{A, A, A}, {0.05, 0.05, 0.0, 0.9}},
  };
}

DecodeSettings plain_settings() {
  DecodeSettings s;
  s.initial_tokens = {9, 9};  // the fake ignores their values
  s.sot_index = 0;
  s.eot = EOT;
  s.no_speech = 1;
  s.suppress_blank = false;
  s.timestamps = false;
  return s;
}

// round(beam_size * patience) as Python computes it: the product in double, halves to even.
TEST(BeamSearch, MaxCandidatesRoundLikePython) {
  EXPECT_EQ(BeamSearch::max_candidates(5, 1.0), 5);
  EXPECT_EQ(BeamSearch::max_candidates(5, 0.5), 2);   // 2.5 -> 2
  EXPECT_EQ(BeamSearch::max_candidates(5, 0.7), 4);   // 3.5 -> 4 (0.7f would give 3.4999998 -> 3)
  EXPECT_EQ(BeamSearch::max_candidates(3, 1.5), 4);   // 4.5 -> 4
  EXPECT_EQ(BeamSearch::max_candidates(5, 2.5), 12);  // 12.5 -> 12
  EXPECT_EQ(BeamSearch::max_candidates(5, 0.1), 0);   // refused: no candidate would ever finish
  EXPECT_THROW(BeamSearch(5, 0.1, 50256), Error);
}

TEST(DecodeWindow, GreedyFollowsArgmax) {
  TableSource src(known_table(), 2);
  Rng rng(0);
  const DecodeOutcome out = decode_window(src, plain_settings(), rng);
  EXPECT_EQ(out.tokens, (std::vector<int>{A, A, A}));
  const double sum = std::log(0.6) + std::log(0.5) + std::log(0.8) + std::log(0.9);
  EXPECT_NEAR(out.sum_logprob, sum, 1e-4);
  EXPECT_NEAR(out.avg_logprob, sum / 4.0, 1e-4);  // 3 tokens + EOT
  ASSERT_EQ(out.token_probs.size(), 3u);
  EXPECT_NEAR(out.token_probs[1], 0.5, 1e-5);
  // no-speech: softmax of the SOT-position logits {2, 0, 0, 0} at token 1, before any filter.
  EXPECT_NEAR(out.no_speech_prob, 1.0 / (std::exp(2.0) + 3.0), 1e-6);
}

TEST(DecodeWindow, BeamSearchFindsLengthNormalisedBest) {
  // By hand (beam 2): step 1 keeps AA, AB and finishes B.EOT (-1.022); step 2 finishes AB.EOT
  // (-1.715) and the search completes with 2 finished. Scored by sum / length:
  // [B] -1.022 / 1 vs [A, B] -1.715 / 2 = -0.858 -> [A, B]. Greedy says [A, A, A].
  TableSource src(known_table(), 2);
  DecodeSettings s = plain_settings();
  s.beam_size = 2;
  Rng rng(0);
  const DecodeOutcome out = decode_window(src, s, rng);
  EXPECT_EQ(out.tokens, (std::vector<int>{A, B}));
  EXPECT_NEAR(out.sum_logprob, std::log(0.6) + std::log(0.3) + std::log(0.99), 1e-4);
  EXPECT_EQ(src.steps, 2);  // completed after the third choice without feeding it
}

TEST(DecodeWindow, BeamSearchGoogleLengthPenalty) {
  // alpha = 1: [B] -1.022 / (6/6) beats [A, B] -1.725 / (7/6) = -1.479.
  TableSource src(known_table(), 2);
  DecodeSettings s = plain_settings();
  s.beam_size = 2;
  s.length_penalty = 1.0f;
  Rng rng(0);
  EXPECT_EQ(decode_window(src, s, rng).tokens, (std::vector<int>{B}));
}

TEST(BeamSearch, PatienceCollectsMoreFinished) {
  // patience 2 -> 4 finished candidates before completion; OpenAI keeps searching after 2.
  BeamSearch bs(2, 2.0f, EOT);
  EXPECT_EQ(bs.max_candidates(), 4);
  std::vector<Hypothesis> beams(2);
  // Both beams identical: the first step proposes each sequence once.
  const float lp[2 * kV] = {std::log(0.5f), std::log(0.2f), std::log(0.1f), std::log(0.2f),
                            std::log(0.5f), std::log(0.2f), std::log(0.1f), std::log(0.2f)};
  std::vector<int> source;
  EXPECT_FALSE(bs.update(beams, lp, kV, source));
  ASSERT_EQ(beams.size(), 2u);
  EXPECT_EQ(beams[0].tokens, std::vector<int>{A});
  EXPECT_EQ(beams[1].tokens, std::vector<int>{B});  // B and EOT tie at 0.2: B was proposed first
  EXPECT_EQ(source, (std::vector<int>{1, 1}));      // the later identical beam is the source
  // Nothing finished (EOT ranked after the second kept beam): finalize tops up with live beams.
  const std::vector<Hypothesis> fin = bs.finalize(beams);
  ASSERT_EQ(fin.size(), 2u);
  EXPECT_EQ(fin[0].tokens, (std::vector<int>{A, EOT}));
  EXPECT_EQ(fin[1].tokens, (std::vector<int>{B, EOT}));
}

TEST(DecodeWindow, SamplingIsSeededAndRanked) {
  DecodeSettings s = plain_settings();
  s.temperature = 1.0f;
  s.best_of = 5;
  auto run = [&](uint64_t seed) {
    TableSource src(known_table(), 2);
    Rng rng(seed);
    return decode_window(src, s, rng);
  };
  const DecodeOutcome a = run(42), b = run(42);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.sum_logprob, b.sum_logprob);
  EXPECT_EQ(a.temperature, 1.0f);
  // Over seeds, sampling must reach sequences greedy never produces.
  bool saw_other = false;
  for (uint64_t seed = 0; seed < 20 && !saw_other; ++seed) saw_other = run(seed).tokens != std::vector<int>{A, A, A};
  EXPECT_TRUE(saw_other);
}

// The rows' policy runs on the stream's pool when it has one: the candidates must be those of the
// sequential rule, greedy_step's draws taken in the hypotheses' order (a finished one draws none),
// whatever thread samples a row; beams and greedy the same with and without the pool.
std::vector<int> sampled_by_hand(uint64_t seed, int best_of, float temperature) {
  TableSource src(known_table(), 2);
  Rng rng(seed);
  std::vector<float> sot(kV), logits(static_cast<std::size_t>(best_of) * kV), lp(logits.size());
  src.begin({9, 9}, best_of, 0, sot.data(), logits.data());
  for (int g = 1; g < best_of; ++g) std::copy(logits.begin(), logits.begin() + kV, logits.begin() + g * kV);
  std::vector<Hypothesis> hyps(static_cast<std::size_t>(best_of));
  for (int step = 0; step < 224; ++step) {
    bool done = true;
    for (int g = 0; g < best_of; ++g) {
      log_softmax(&logits[static_cast<std::size_t>(g) * kV], kV, &lp[static_cast<std::size_t>(g) * kV]);
      greedy_step(hyps[static_cast<std::size_t>(g)], &logits[static_cast<std::size_t>(g) * kV],
                  &lp[static_cast<std::size_t>(g) * kV], kV, temperature, EOT, rng);
      done = done && hyps[static_cast<std::size_t>(g)].finished(EOT);
    }
    if (done) break;
    std::vector<int> next;
    for (const Hypothesis& h : hyps) next.push_back(h.tokens.back());
    src.step(next, logits.data());
  }
  const Hypothesis& best = hyps[static_cast<std::size_t>(rank_hypotheses(hyps, -1.0f, EOT))];
  return std::vector<int>(best.tokens.begin(), best.tokens.begin() + static_cast<std::ptrdiff_t>(text_length(best, EOT)));
}

TEST(DecodeWindow, PoolGivesTheSequentialCandidates) {
  ThreadPool pool(3);
  int differing_seeds = 0;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    DecodeSettings s = plain_settings();
    s.temperature = 0.7f;
    s.best_of = 2;
    const std::vector<int> expected = sampled_by_hand(seed, 2, 0.7f);
    TableSource plain(known_table(), 2), pooled(known_table(), 2);
    Rng r1(seed), r2(seed);
    const DecodeOutcome a = decode_window(plain, s, r1);
    s.pool = &pool;
    const DecodeOutcome b = decode_window(pooled, s, r2);
    EXPECT_EQ(a.tokens, expected) << "seed " << seed;
    EXPECT_EQ(b.tokens, expected) << "seed " << seed;
    EXPECT_EQ(a.sum_logprob, b.sum_logprob);
    // The draws after this window continue where the sequential rule leaves them.
    EXPECT_EQ(r1.uniform(), r2.uniform());
    if (expected != std::vector<int>{A, A, A}) ++differing_seeds;
  }
  EXPECT_GT(differing_seeds, 0);  // the seeds reach more than greedy's sequence
  for (int beam : {0, 2, 3}) {
    DecodeSettings s = plain_settings();
    s.beam_size = beam;
    TableSource plain(known_table(), 2), pooled(known_table(), 2);
    Rng r1(1), r2(1);
    const DecodeOutcome a = decode_window(plain, s, r1);
    s.pool = &pool;
    const DecodeOutcome b = decode_window(pooled, s, r2);
    EXPECT_EQ(a.tokens, b.tokens) << "beam " << beam;
    EXPECT_EQ(a.sum_logprob, b.sum_logprob) << "beam " << beam;
  }
}

// top_tokens against a full sort by (NaN last, value descending, index ascending) on rows with many
// ties, -inf (suppressed tokens) and NaN, over lengths around its block of 16 and k = 1..7.
TEST(TopTokens, MatchesTheSortedOrder) {
  std::mt19937 gen(7);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  int checked = 0;
  for (int n : {1, 2, 6, 15, 16, 17, 31, 33, 100, 1000, 51865}) {
    for (int kind = 0; kind < 4; ++kind) {
      std::vector<float> row(static_cast<std::size_t>(n));
      for (float& v : row) {
        const unsigned r = gen() % 100;
        // kind 0: continuous; 1: five distinct values; 2: mostly -inf; 3: with NaN.
        v = kind == 0 ? -static_cast<float>(gen() % 1000000) * 1e-5f
                      : kind == 1 ? -static_cast<float>(gen() % 5)
                                  : kind == 2 ? (r < 97 ? -inf : -static_cast<float>(gen() % 3))
                                              : (r < 10 ? nan : -static_cast<float>(gen() % 50));
      }
      // The best values late in the row too, where the block filter has to let them through.
      if (n > 40 && kind != 2) row[static_cast<std::size_t>(n - 3)] = 1.0f;
      std::vector<int> order(static_cast<std::size_t>(n));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        const float x = row[static_cast<std::size_t>(a)], y = row[static_cast<std::size_t>(b)];
        if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
        return x > y;
      });
      for (int k = 1; k <= std::min(7, n); ++k) {
        std::vector<int> got(static_cast<std::size_t>(k), -1);
        top_tokens(row.data(), n, k, got.data());
        EXPECT_EQ(got, std::vector<int>(order.begin(), order.begin() + k)) << "n " << n << " kind " << kind << " k " << k;
        ++checked;
      }
    }
  }
  // A row of NaN only (a model producing NaN) still names k tokens, lowest first.
  const std::vector<float> all_nan(20, nan);
  int got[3];
  top_tokens(all_nan.data(), 20, 3, got);
  EXPECT_EQ(std::vector<int>(got, got + 3), (std::vector<int>{0, 1, 2}));
  EXPECT_GT(checked, 200);
}

TEST(DecodeWindow, TimestampRulesApplyInTheLoop) {
  // Vocabulary of 8: text 0..2, EOT 3, notimestamps 4, timestamps 5..7. Flat logits: the first
  // token must be a timestamp (the lowest, by argmax ties), then text.
  class Flat : public LogitSource {
   public:
    int n_vocab() const override { return 8; }
    void begin(const std::vector<int>&, int n, int, float* sot, float* last) override {
      n_ = n;
      for (int i = 0; i < 8; ++i) sot[i] = last[i] = 0.0f;
    }
    void step(const std::vector<int>&, float* l) override {
      for (int i = 0; i < 8 * n_; ++i) l[i] = 0.0f;
    }
    void reorder(const std::vector<int>&) override {}
    int n_ = 1;
  } src;
  DecodeSettings s;
  s.initial_tokens = {0};
  s.eot = 3;
  s.no_speech = -1;
  s.suppress_blank = true;
  s.blank_tokens = {0};
  s.timestamps = true;
  s.rules.eot = 3;
  s.rules.no_timestamps = 4;
  s.rules.timestamp_begin = 5;
  s.sample_len = 6;
  Rng rng(0);
  const DecodeOutcome out = decode_window(src, s, rng);
  // <|0.00|> (first token: a timestamp, lowest of the ties); text; the mass of <|0.02|>,<|0.04|>
  // (log 2) beats every token below timestamp_begin -> <|0.02|>; again (EOT counts as "text" in
  // that rule) -> <|0.02|> closes the pair; text; now only <|0.04|> is left (log 1 = 0, not above
  // the text's 0) -> text, until sample_len.
  EXPECT_EQ(out.tokens, (std::vector<int>{5, 0, 6, 6, 0, 0}));
}

}  // namespace
}  // namespace npw
