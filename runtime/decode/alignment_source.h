// What word timing needs from the decoder, and nothing more: one forward pass over a token
// sequence on the current window's audio, then the raw cross-attention scores of chosen heads and
// the probability of each text token. The real implementation wraps the Whisper decoder
// (decoder_alignment_source.h); tests can plug in matrices with a known alignment.
#pragma once

#include <vector>

#include "decode/alignment_heads.h"

namespace npw {

class AlignmentSource {
 public:
  virtual ~AlignmentSource() = default;

  // The heads that windows encoded from now on will be aligned with (empty: no word timing), told
  // before those windows are encoded: a source that keeps the audio side in reduced precision keeps
  // these heads' exact (the Whisper decoder's cross-attention keys). Must not allocate once made.
  // A source wrapping another must pass this on, or the inner one's scores() may refuse those heads.
  virtual void use_heads(const std::vector<AlignmentHead>& heads) { (void)heads; }
  // Runs `tokens` (one sequence from an empty cache) over the last encoded window, keeping what
  // scores() needs for `heads`.
  virtual void run(const std::vector<int>& tokens, const std::vector<AlignmentHead>& heads) = 0;
  // q.k / sqrt(d_head) of `head` for every position of the last run over audio positions
  // [0, n_frames): out[n_positions][ld]. Called for several heads at once from different threads
  // (WordAligner spreads the heads over its pool) after run(): must not write shared state.
  virtual void scores(const AlignmentHead& head, int n_frames, float* out, int ld) = 0;
  // probs[i] = softmax over ids [0, n_ids) of the logits at position first + i, at targets[i].
  virtual void token_probs(int first, const int* targets, int n, int n_ids, float* probs) = 0;
};

}  // namespace npw
