// The Whisper text decoder seen as a LogitSource: the shared prefix is run once and its KV cache
// copied to every hypothesis; the SOT-position logits come from splitting the prefix at the SOT
// token, so no logits are computed for positions nobody reads.
#pragma once

#include <vector>

#include "decode/logit_source.h"

namespace npw {

class Decoder;

class DecoderLogitSource : public LogitSource {
 public:
  explicit DecoderLogitSource(Decoder& decoder) : decoder_(decoder) {}

  int n_vocab() const override;
  void begin(const std::vector<int>& prefix, int n_seq, int sot_index, float* sot_logits, float* last_logits) override;
  void step(const std::vector<int>& tokens, float* logits) override;
  void reorder(const std::vector<int>& source) override;

 private:
  Decoder& decoder_;
};

}  // namespace npw
