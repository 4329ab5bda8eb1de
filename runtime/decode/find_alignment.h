// OpenAI's timing.find_alignment: word times of a window's text from the decoder's cross-attention.
// The sequence sot + <|notimestamps|> + text + eot is run once; each alignment head's scores over
// the frames holding audio (num_frames / 2 audio positions) are softmaxed, normalised over the token
// axis (torch.std_mean(dim=-2, unbiased=False)), median filtered along frames; the heads are
// averaged, the start-sequence rows and the eot row dropped, and DTW on the negated matrix gives each
// text token's first audio position (20 ms each). Tokens become words as OpenAI's tokenizer splits
// them, with the mean probability of their tokens. Buffers are kept between windows (they grow to
// the largest window seen), so a steady state allocates only the small word list it returns.
#pragma once

#include <string>
#include <vector>

#include "decode/alignment_heads.h"
#include "decode/alignment_source.h"
#include "decode/dtw.h"
#include "decode/word.h"

namespace npw {

class ThreadPool;
class Tokenizer;

constexpr int kAudioTokensPerSecond = 50;  // OpenAI's TOKENS_PER_SECOND: 20 ms per audio position

struct AlignmentTokens {
  std::vector<int> sot_sequence;  // sot (+ language + task); no prompt
  int no_timestamps = 0;
  int eot = 0;
  std::string language;  // decides the word splitting (zh, ja, th, lo, my, yue: at characters)
};

class WordAligner {
 public:
  // Throws npw::Error(InvalidArgument) for no heads or an even or non-positive medfilt_width.
  // With a pool, the heads are filtered side by side (the source's scores() is then called from
  // the pool's threads, as the attention calls Backend::matmul); the words are the same either way.
  explicit WordAligner(std::vector<AlignmentHead> heads, int medfilt_width = 7, float qk_scale = 1.0f,
                       ThreadPool* pool = nullptr);

  // Words of `text_tokens` (ids < eot) over a window holding num_frames mel frames of audio, times
  // in seconds from the window start, before punctuation merging. Empty for no text.
  std::vector<Word> find_alignment(AlignmentSource& source, const Tokenizer& tokenizer, const AlignmentTokens& t,
                                   const std::vector<int>& text_tokens, int num_frames);

  // The last DTW input, negated (OpenAI's `matrix`): rows x cols, row-major; for tests and debugging.
  const std::vector<float>& matrix() const { return matrix_; }
  int matrix_rows() const { return rows_; }
  int matrix_cols() const { return cols_; }
  // The first audio position of each matrix row on the DTW path (the reference's jump times x 50).
  const std::vector<int>& jump_frames() const { return jumps_; }
  const std::vector<AlignmentHead>& heads() const { return heads_; }

 private:
  // One head's work: its scores, and its normalised, filtered kept rows.
  struct HeadScratch {
    std::vector<float> scores, kept, filter;
    std::vector<double> mean, inv_std;
  };
  // Head h's attention over the positions 0..N-1 (S of them the start sequence) and F frames,
  // softmaxed, normalised over the positions and median filtered, rows S .. S + rows_ - 1 into w.kept.
  void filtered_head(AlignmentSource& source, const AlignmentHead& h, int N, int S, int F, HeadScratch& w) const;

  std::vector<AlignmentHead> heads_;
  int medfilt_width_;
  float qk_scale_;
  ThreadPool* pool_;
  std::vector<int> fed_;
  std::vector<int> split_input_;  // the text tokens and <|endoftext|>, as the word split takes them
  std::vector<HeadScratch> slots_;
  std::vector<float> acc_, probs_, matrix_, cost_;
  DtwPath path_;
  DtwScratch dtw_;
  std::vector<int> jumps_;
  int rows_ = 0, cols_ = 0;
};

}  // namespace npw
