// The Whisper text decoder as an AlignmentSource: the alignment pass reuses the window's
// cross-attention keys and the decoder's buffers (see Decoder::alignment_pass).
#pragma once

#include <vector>

#include "decode/alignment_source.h"

namespace npw {

class Decoder;

class DecoderAlignmentSource : public AlignmentSource {
 public:
  explicit DecoderAlignmentSource(Decoder& decoder);
  // The heads' layers keep their cross-attention keys as floats (Decoder::keep_f32_cross_keys).
  void use_heads(const std::vector<AlignmentHead>& heads) override;
  void run(const std::vector<int>& tokens, const std::vector<AlignmentHead>& heads) override;
  void scores(const AlignmentHead& head, int n_frames, float* out, int ld) override;
  void token_probs(int first, const int* targets, int n, int n_ids, float* probs) override;

 private:
  Decoder& decoder_;
  bool keep_[64] = {};  // per decoder layer; Whisper's largest decoder has 32
  std::vector<bool> f32_layers_;  // use_heads' layers, sized once
};

}  // namespace npw
