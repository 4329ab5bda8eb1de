// find_alignment of whisper/timing.py; see find_alignment.h.
#include "decode/find_alignment.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "decode/column_norm.h"
#include "decode/median_filter.h"
#include "decode/word_split.h"
#include "nn/ops.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {

WordAligner::WordAligner(std::vector<AlignmentHead> heads, int medfilt_width, float qk_scale, ThreadPool* pool)
    : heads_(std::move(heads)), medfilt_width_(medfilt_width), qk_scale_(qk_scale), pool_(pool) {
  if (heads_.empty()) throw Error(ErrorKind::InvalidArgument, "word timestamps: no alignment heads");
  if (medfilt_width_ < 1 || medfilt_width_ % 2 == 0 || medfilt_width_ > 63)
    throw Error(ErrorKind::InvalidArgument,
                "word timestamps: median filter width " + std::to_string(medfilt_width_) + " is not odd in 1..63");
}

void WordAligner::filtered_head(AlignmentSource& source, const AlignmentHead& h, int N, int S, int F,
                                HeadScratch& w) const {
  // Every position's attention enters each frame's mean and spread, but only the rows from
  // <|notimestamps|> to the last text token reach the DTW: only those are normalised and filtered
  // (the filter works along a row, so the rows cut never touch the ones kept).
  const std::size_t NF = static_cast<std::size_t>(N) * F;
  w.scores.resize(NF);
  w.kept.resize(static_cast<std::size_t>(rows_) * F);
  w.filter.resize(static_cast<std::size_t>(F) + static_cast<std::size_t>(medfilt_width_));
  w.mean.resize(static_cast<std::size_t>(F));
  w.inv_std.resize(static_cast<std::size_t>(F));
  source.scores(h, F, w.scores.data(), F);
  // softmax(qk * qk_scale) over the cropped frames, per position
  if (qk_scale_ != 1.0f)
    for (float& x : w.scores) x *= qk_scale_;
  softmax_rows(w.scores.data(), N, F, F);
  // (w - mean) / std over the positions, per frame (population std, as unbiased=False)
  normalize_columns(w.scores.data(), N, F, F, S, rows_, w.kept.data(), F, w.mean.data(), w.inv_std.data());
  median_filter_rows(w.kept.data(), rows_, F, F, medfilt_width_, w.filter.data());
}

std::vector<Word> WordAligner::find_alignment(AlignmentSource& source, const Tokenizer& tokenizer,
                                              const AlignmentTokens& t, const std::vector<int>& text_tokens,
                                              int num_frames) {
  rows_ = cols_ = 0;
  jumps_.clear();
  if (text_tokens.empty()) {
    matrix_.clear();
    return {};
  }
  fed_.clear();
  fed_.insert(fed_.end(), t.sot_sequence.begin(), t.sot_sequence.end());
  fed_.push_back(t.no_timestamps);
  fed_.insert(fed_.end(), text_tokens.begin(), text_tokens.end());
  fed_.push_back(t.eot);
  const int N = static_cast<int>(fed_.size());
  const int T = static_cast<int>(text_tokens.size());
  const int S = static_cast<int>(t.sot_sequence.size());

  source.run(fed_, heads_);
  probs_.resize(static_cast<std::size_t>(T));
  source.token_probs(S, text_tokens.data(), T, t.eot, probs_.data());

  // num_frames // 2 audio positions; at least one, so that a window of under 20 ms still aligns.
  const int F = std::max(1, num_frames / 2);
  rows_ = T + 1;
  cols_ = F;
  const std::size_t RF = static_cast<std::size_t>(rows_) * F;
  acc_.resize(RF);
  matrix_.resize(RF);
  cost_.resize(RF);
  const float n_heads = static_cast<float>(heads_.size());
  // The heads are independent until they are summed: a round takes as many as the pool has threads,
  // each into its own slot, and the slots are then added in head order, so the sum is the same
  // float for float whatever the number of threads. The additions (the first round's onto zeros)
  // are split by rows over the pool, and the last round's pass also forms each cell's mean over the
  // heads (rows S .. N - 2: <|notimestamps|> and the text tokens) and its DTW cost. A frame where
  // every position attends alike has no spread (0 / 0): it says nothing about the alignment, so it
  // costs nothing rather than poisoning the DTW with NaN. The cost is the float -m, which the DTW
  // widens exactly (float64, as the reference's -matrix.double()), at half the bytes. On one thread
  // after each round, with the mean in a pass of its own over float64 costs, this took 0.3-0.4 ms
  // of tiny's 101 x 1500 cells.
  const int n_slots = pool_ ? std::max(1, pool_->size()) : 1;
  if (static_cast<int>(slots_.size()) < n_slots) slots_.resize(static_cast<std::size_t>(n_slots));
  const int n_heads_total = static_cast<int>(heads_.size());
  for (int h0 = 0; h0 < n_heads_total; h0 += n_slots) {
    const int n_round = std::min(n_slots, n_heads_total - h0);
    auto work = [&](int64_t i0, int64_t i1, int) {
      for (int64_t i = i0; i < i1; ++i)
        filtered_head(source, heads_[static_cast<std::size_t>(h0 + i)], N, S, F, slots_[static_cast<std::size_t>(i)]);
    };
    if (pool_ && n_round > 1) {
      pool_->parallel_for(n_round, work);
    } else {
      work(0, n_round, 0);
    }
    const bool first = h0 == 0, last = h0 + n_round >= n_heads_total;
    auto add = [&](int64_t r0, int64_t r1, int) {
      const std::size_t k0 = static_cast<std::size_t>(r0) * F, k1 = static_cast<std::size_t>(r1) * F;
      float* acc = acc_.data();
      for (int i = 0; i < n_round; ++i) {
        const float* kept = slots_[static_cast<std::size_t>(i)].kept.data();
        if (first && i == 0) {
          for (std::size_t k = k0; k < k1; ++k) acc[k] = 0.0f + kept[k];
        } else {
          for (std::size_t k = k0; k < k1; ++k) acc[k] += kept[k];
        }
      }
      if (!last) return;
      float* mat = matrix_.data();
      float* cost = cost_.data();
      for (std::size_t k = k0; k < k1; ++k) {
        const float m = acc[k] / n_heads;
        mat[k] = m;
        cost[k] = m - m == 0.0f ? -m : 0.0f;
      }
    };
    if (pool_) {
      pool_->parallel_for(rows_, add);
    } else {
      add(0, rows_, 0);
    }
  }
  dtw(cost_.data(), rows_, F, path_, dtw_);

  split_input_.assign(text_tokens.begin(), text_tokens.end());
  split_input_.push_back(t.eot);
  std::vector<WordTokens> words = split_to_word_tokens(tokenizer, split_input_, t.language);
  if (words.size() <= 1) return {};
  // The first path point of each row: the audio position where that token starts.
  jumps_.reserve(static_cast<std::size_t>(rows_));
  for (std::size_t p = 0; p < path_.text_index.size(); ++p)
    if (p == 0 || path_.text_index[p] != path_.text_index[p - 1]) jumps_.push_back(std::max(0, path_.time_index[p]));
  std::vector<Word> out;
  out.reserve(words.size() - 1);
  std::size_t boundary = 0;
  for (std::size_t w = 0; w + 1 < words.size(); ++w) {
    const std::size_t next = boundary + words[w].tokens.size();
    Word word;
    word.word = std::move(words[w].word);
    word.tokens = std::move(words[w].tokens);
    const std::size_t last_jump = jumps_.size() - 1;
    word.start = static_cast<double>(jumps_[std::min(boundary, last_jump)]) / kAudioTokensPerSecond;
    word.end = static_cast<double>(jumps_[std::min(next, last_jump)]) / kAudioTokensPerSecond;
    double sum = 0.0;
    for (std::size_t k = boundary; k < next && k < probs_.size(); ++k) sum += probs_[k];
    word.probability = static_cast<float>(sum / static_cast<double>(next - boundary));
    out.push_back(std::move(word));
    boundary = next;
  }
  return out;
}

}  // namespace npw
