// LocalAgreement-2, the commit policy of live captions (Machacek et al., whisper_streaming): a word is
// shown once two consecutive hypotheses agree on it, so what reaches the viewer is never taken back.
// Kept apart from audio and decoding so the policy is tested on crafted hypothesis sequences.
// Times are seconds on the stream's own clock (the caller adds the buffer offset before insert()).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "decode/word.h"

namespace npw {

struct AgreementSettings {
  // Two words are "the same word" when their texts match (case, surrounding spaces and punctuation
  // ignored) and their starts are this close: the same text much later is a repetition, not a match.
  double time_tolerance_s = 1.0;
  // An n-gram of 1..max_ngram words at the head of a hypothesis that equals the tail of what was
  // committed is a re-hearing of it when the hypothesis starts within ngram_window_s of the last
  // committed end; it is not emitted twice.
  double ngram_window_s = 1.0;
  int max_ngram = 5;
  // Off by default: a word whose probability reaches confident_probability is committed from a single
  // hypothesis (lower latency, the small risk of showing a word the next hypothesis would revise).
  bool commit_confident = false;
  float confident_probability = 0.95f;
};

// The text two words are compared by: lower case, without surrounding spaces and punctuation.
std::string comparable_word(const std::string& word);

class LocalAgreement {
 public:
  explicit LocalAgreement(AgreementSettings s = {}) : s_(s) {}

  // Offers the newest hypothesis (whole words, in order, absolute times). Words that start before
  // the last committed end (less 0.1 s of alignment slack) or end by it, and a re-heard committed
  // n-gram, are dropped.
  void insert(std::vector<Word> hypothesis);

  // Commits the longest common prefix of the previous and the newest hypothesis (plus confident
  // words when enabled) and returns it; the rest of the newest becomes the tentative tail.
  std::vector<Word> flush();

  // Commits the tentative words that start before `t` (all of them with t = +inf), in order: the end
  // of an utterance, a deadline, or a backlog that cannot wait for agreement.
  std::vector<Word> commit_until(double t);

  // The words of the last hypothesis not committed yet (the unstable partial).
  const std::vector<Word>& tentative() const { return tentative_; }

  // The last committed words (the n-gram memory).
  const std::vector<Word>& recent_committed() const { return committed_; }

  double last_committed_end() const { return last_end_; }
  // Starts over (a new stream): nothing committed, nothing tentative.
  void reset();

 private:
  bool same(const Word& a, const Word& b) const;
  void record(const Word& w, std::vector<Word>& out);

  AgreementSettings s_;
  std::vector<Word> incoming_;   // newest hypothesis, filtered
  std::vector<Word> tentative_;  // previous hypothesis' uncommitted words
  std::vector<Word> committed_;  // committed words still near the buffer (n-gram memory)
  double last_end_ = 0.0;
  bool any_committed_ = false;
};

}  // namespace npw
