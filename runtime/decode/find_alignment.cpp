// find_alignment of whisper/timing.py; see find_alignment.h.
#include "decode/find_alignment.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "decode/median_filter.h"
#include "decode/word_split.h"
#include "util/error.h"

namespace npw {

WordAligner::WordAligner(std::vector<AlignmentHead> heads, int medfilt_width, float qk_scale)
    : heads_(std::move(heads)), medfilt_width_(medfilt_width), qk_scale_(qk_scale) {
  if (heads_.empty()) throw Error(ErrorKind::InvalidArgument, "word timestamps: no alignment heads");
  if (medfilt_width_ < 1 || medfilt_width_ % 2 == 0 || medfilt_width_ > 63)
    throw Error(ErrorKind::InvalidArgument,
                "word timestamps: median filter width " + std::to_string(medfilt_width_) + " is not odd in 1..63");
}

std::vector<Word> WordAligner::find_alignment(AlignmentSource& source, const Tokenizer& tokenizer,
                                              const AlignmentTokens& t, const std::vector<int>& text_tokens,
                                              int num_frames) {
  rows_ = cols_ = 0;
  matrix_.clear();
  jumps_.clear();
  if (text_tokens.empty()) return {};
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
  const std::size_t NF = static_cast<std::size_t>(N) * F;
  head_.resize(NF);
  acc_.assign(NF, 0.0f);
  filter_scratch_.resize(static_cast<std::size_t>(F) + static_cast<std::size_t>(medfilt_width_));
  mean_.resize(static_cast<std::size_t>(F));
  inv_std_.resize(static_cast<std::size_t>(F));
  for (const AlignmentHead& h : heads_) {
    source.scores(h, F, head_.data(), F);
    // softmax(qk * qk_scale) over the cropped frames, per position
    for (int r = 0; r < N; ++r) {
      float* row = head_.data() + static_cast<std::size_t>(r) * F;
      float mx = -INFINITY;
      for (int j = 0; j < F; ++j) {
        row[j] *= qk_scale_;
        mx = std::max(mx, row[j]);
      }
      double sum = 0.0;
      for (int j = 0; j < F; ++j) {
        row[j] = std::exp(row[j] - mx);
        sum += row[j];
      }
      const float inv = static_cast<float>(1.0 / sum);
      for (int j = 0; j < F; ++j) row[j] *= inv;
    }
    // (w - mean) / std over the positions, per frame (population std, as unbiased=False)
    std::fill(mean_.begin(), mean_.end(), 0.0);
    std::fill(inv_std_.begin(), inv_std_.end(), 0.0);
    for (int r = 0; r < N; ++r)
      for (int j = 0; j < F; ++j) mean_[j] += head_[static_cast<std::size_t>(r) * F + j];
    for (int j = 0; j < F; ++j) mean_[j] /= N;
    for (int r = 0; r < N; ++r)
      for (int j = 0; j < F; ++j) {
        const double d = head_[static_cast<std::size_t>(r) * F + j] - mean_[j];
        inv_std_[j] += d * d;
      }
    for (int j = 0; j < F; ++j) inv_std_[j] = 1.0 / std::sqrt(inv_std_[j] / N);
    for (int r = 0; r < N; ++r)
      for (int j = 0; j < F; ++j) {
        float& w = head_[static_cast<std::size_t>(r) * F + j];
        w = static_cast<float>((w - mean_[j]) * inv_std_[j]);
      }
    median_filter_rows(head_.data(), N, F, F, medfilt_width_, filter_scratch_.data());
    for (std::size_t i = 0; i < NF; ++i) acc_[i] += head_[i];
  }
  // Mean over heads; rows S .. N - 2 (<|notimestamps|> and the text tokens).
  rows_ = T + 1;
  cols_ = F;
  matrix_.resize(static_cast<std::size_t>(rows_) * F);
  cost_.resize(matrix_.size());
  const float n_heads = static_cast<float>(heads_.size());
  for (int r = 0; r < rows_; ++r)
    for (int j = 0; j < F; ++j) {
      const std::size_t i = static_cast<std::size_t>(r) * F + j;
      const float m = acc_[static_cast<std::size_t>(S + r) * F + j] / n_heads;
      matrix_[i] = m;
      // A frame where every position attends alike has no spread (0 / 0): it says nothing about the
      // alignment, so it costs nothing rather than poisoning the DTW with NaN.
      cost_[i] = std::isfinite(m) ? -static_cast<double>(m) : 0.0;
    }
  dtw(cost_.data(), rows_, F, path_, dtw_);

  std::vector<int> split_input(text_tokens);
  split_input.push_back(t.eot);
  std::vector<WordTokens> words = split_to_word_tokens(tokenizer, split_input, t.language);
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
