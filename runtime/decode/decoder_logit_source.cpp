// LogitSource over nn/decoder.h; see decoder_logit_source.h.
#include "decode/decoder_logit_source.h"

#include <algorithm>

#include "nn/decoder.h"
#include "util/error.h"

namespace npw {

int DecoderLogitSource::n_vocab() const { return decoder_.n_vocab(); }

void DecoderLogitSource::begin(const std::vector<int>& prefix, int n_seq, int sot_index, float* sot_logits,
                               float* last_logits) {
  if (n_seq < 1 || n_seq > decoder_.max_batch()) {
    throw Error(ErrorKind::Internal, "decoder batch of " + std::to_string(n_seq) + " exceeds its capacity of " +
                                         std::to_string(decoder_.max_batch()));
  }
  const std::size_t V = static_cast<std::size_t>(decoder_.n_vocab());
  decoder_.reset(1);
  // Up to and including SOT: the last new position is the SOT position.
  TokenSpan head{prefix.data(), sot_index + 1};
  const float* lg = decoder_.decode(&head, 1);
  std::copy(lg, lg + V, sot_logits);
  const int rest = static_cast<int>(prefix.size()) - (sot_index + 1);
  if (rest > 0) {
    TokenSpan tail{prefix.data() + sot_index + 1, rest};
    lg = decoder_.decode(&tail, 1);
  }
  std::copy(lg, lg + V, last_logits);
  if (n_seq > 1) decoder_.reorder(std::vector<int>(static_cast<std::size_t>(n_seq), 0));
}

void DecoderLogitSource::step(const std::vector<int>& tokens, float* logits) {
  const float* lg = decoder_.decode_next(tokens.data());
  std::copy(lg, lg + static_cast<std::size_t>(decoder_.n_seqs()) * static_cast<std::size_t>(decoder_.n_vocab()), logits);
}

void DecoderLogitSource::reorder(const std::vector<int>& source) { decoder_.reorder(source); }

}  // namespace npw
