// DecoderAlignmentSource; see decoder_alignment_source.h.
#include "decode/decoder_alignment_source.h"

#include <algorithm>
#include <string>

#include "nn/decoder.h"
#include "util/error.h"

namespace npw {

DecoderAlignmentSource::DecoderAlignmentSource(Decoder& decoder) : decoder_(decoder) {
  if (decoder.n_layer() > 64)
    throw Error(ErrorKind::Unsupported, "word timestamps: decoders of more than 64 layers are not supported");
  f32_layers_.assign(static_cast<std::size_t>(decoder.n_layer()), false);
}

void DecoderAlignmentSource::use_heads(const std::vector<AlignmentHead>& heads) {
  std::fill(f32_layers_.begin(), f32_layers_.end(), false);
  for (const AlignmentHead& h : heads) {
    if (h.layer >= 0 && h.layer < decoder_.n_layer()) f32_layers_[static_cast<std::size_t>(h.layer)] = true;
  }
  decoder_.keep_f32_cross_keys(f32_layers_);
}

void DecoderAlignmentSource::run(const std::vector<int>& tokens, const std::vector<AlignmentHead>& heads) {
  for (bool& k : keep_) k = false;
  for (const AlignmentHead& h : heads) {
    if (h.layer < 0 || h.layer >= decoder_.n_layer() || h.head < 0 || h.head >= decoder_.n_head())
      throw Error(ErrorKind::InvalidArgument, "word timestamps: alignment head " + std::to_string(h.layer) + ":" +
                                                  std::to_string(h.head) + " is not in this model's decoder");
    keep_[h.layer] = true;
  }
  decoder_.alignment_pass(tokens.data(), static_cast<int>(tokens.size()), keep_);
}

void DecoderAlignmentSource::scores(const AlignmentHead& head, int n_frames, float* out, int ld) {
  decoder_.alignment_scores(head.layer, head.head, n_frames, out, ld);
}

void DecoderAlignmentSource::token_probs(int first, const int* targets, int n, int n_ids, float* probs) {
  decoder_.alignment_token_probs(first, targets, n, n_ids, probs);
}

}  // namespace npw
