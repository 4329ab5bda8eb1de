// What the decoding policy needs from a language model, and nothing more: feed a shared prefix to a
// group of sequences, extend each sequence by one token, and reorder the group (beam search keeps
// the continuations of some beams and drops others). The real implementation wraps the Whisper
// decoder and its KV caches; tests use small hand-made scoring functions with a known best answer.
#pragma once

#include <vector>

namespace npw {

class LogitSource {
 public:
  virtual ~LogitSource() = default;

  virtual int n_vocab() const = 0;

  // Starts n_seq sequences that all begin with `prefix` (every position fed in one pass). Writes the
  // logits predicted at position `sot_index` (read for the no-speech probability, before any filter)
  // to sot_logits[n_vocab] and those at the last position to last_logits[n_vocab].
  virtual void begin(const std::vector<int>& prefix, int n_seq, int sot_index, float* sot_logits,
                     float* last_logits) = 0;

  // Appends tokens[i] to sequence i for i < n_seq; writes the next-token logits to
  // logits[n_seq][n_vocab].
  virtual void step(const std::vector<int>& tokens, float* logits) = 0;

  // From now on sequence i continues what sequence source[i] was (source.size() == n_seq).
  virtual void reorder(const std::vector<int>& source) = 0;
};

}  // namespace npw
