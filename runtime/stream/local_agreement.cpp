// See local_agreement.h. Written after the HypothesisBuffer of ufal/whisper_streaming, with matching
// by time as well as text so that a repeated word ("no, no") is not agreed with its twin.
#include "stream/local_agreement.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

namespace npw {

namespace {

constexpr double kStartSlack = 0.1;  // word times wobble this much between hypotheses
constexpr std::size_t kNgramMemory = 16;  // committed words remembered for the n-gram check

bool is_edge_char(unsigned char c) { return std::isspace(c) || std::ispunct(c); }

}  // namespace

std::string comparable_word(const std::string& word) {
  std::size_t b = 0, e = word.size();
  while (b < e && is_edge_char(static_cast<unsigned char>(word[b]))) ++b;
  while (e > b && is_edge_char(static_cast<unsigned char>(word[e - 1]))) --e;
  std::string out = word.substr(b, e - b);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool LocalAgreement::same(const Word& a, const Word& b) const {
  return comparable_word(a.word) == comparable_word(b.word) && std::fabs(a.start - b.start) <= s_.time_tolerance_s;
}

void LocalAgreement::insert(std::vector<Word> hypothesis) {
  incoming_.clear();
  for (Word& w : hypothesis) {
    if (comparable_word(w.word).empty()) continue;  // punctuation alone carries nothing to agree on
    // Before the committed end, or inside the committed span (a re-hearing of committed audio; with
    // degenerate zero-length timing this is what stops the same words coming back every step).
    if (any_committed_ && (w.start < last_end_ - kStartSlack || w.end <= last_end_)) continue;
    incoming_.push_back(std::move(w));
  }
  if (incoming_.empty() || committed_.empty()) return;
  if (std::fabs(incoming_.front().start - last_end_) >= s_.ngram_window_s) return;
  const std::size_t limit = std::min({committed_.size(), incoming_.size(), static_cast<std::size_t>(s_.max_ngram)});
  for (std::size_t n = limit; n >= 1; --n) {
    bool equal = true;
    for (std::size_t j = 0; j < n && equal; ++j)
      equal = comparable_word(committed_[committed_.size() - n + j].word) == comparable_word(incoming_[j].word);
    if (equal) {
      incoming_.erase(incoming_.begin(), incoming_.begin() + static_cast<std::ptrdiff_t>(n));
      return;
    }
  }
}

void LocalAgreement::record(const Word& w, std::vector<Word>& out) {
  out.push_back(w);
  committed_.push_back(w);
  if (committed_.size() > kNgramMemory) committed_.erase(committed_.begin());
  last_end_ = std::max(last_end_, w.end);
  any_committed_ = true;
}

std::vector<Word> LocalAgreement::flush() {
  std::vector<Word> out;
  std::size_t i = 0;
  while (i < incoming_.size() && i < tentative_.size() && same(incoming_[i], tentative_[i])) {
    record(incoming_[i], out);
    ++i;
  }
  if (s_.commit_confident) {
    // Never the hypothesis' last word: the audio may cut it in half.
    while (i + 1 < incoming_.size() && incoming_[i].probability >= s_.confident_probability) {
      record(incoming_[i], out);
      ++i;
    }
  }
  tentative_.assign(incoming_.begin() + static_cast<std::ptrdiff_t>(i), incoming_.end());
  incoming_.clear();
  return out;
}

std::vector<Word> LocalAgreement::commit_until(double t) {
  std::vector<Word> out;
  std::size_t i = 0;
  while (i < tentative_.size() && tentative_[i].start < t) {
    record(tentative_[i], out);
    ++i;
  }
  tentative_.erase(tentative_.begin(), tentative_.begin() + static_cast<std::ptrdiff_t>(i));
  return out;
}

void LocalAgreement::reset() {
  incoming_.clear();
  tentative_.clear();
  committed_.clear();
  last_end_ = 0.0;
  any_committed_ = false;
}

}  // namespace npw
