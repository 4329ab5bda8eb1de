// Which decoder cross-attention heads word timing reads. OpenAI ships, per official checkpoint, the
// heads that follow the speech best (the base85+gzip bitmasks of whisper/__init__.py, decoded here
// once and stored as lists); a GGML file does not say which checkpoint it holds, so the preset is
// chosen from the hyper-parameters where they identify one, and OpenAI's default (every head of the
// last half of the decoder layers) is used otherwise. Users can name a preset or list heads.
#pragma once

#include <string>
#include <vector>

#include "model/hparams.h"

namespace npw {

struct AlignmentHead {
  int layer = 0;  // decoder block
  int head = 0;   // cross-attention head within it
  bool operator==(const AlignmentHead& o) const { return layer == o.layer && head == o.head; }
};

// Names of OpenAI's presets: tiny.en, tiny, base.en, base, small.en, small, medium.en, medium,
// large-v1, large-v2, large-v3, large-v3-turbo (and the aliases large = large-v3, turbo =
// large-v3-turbo).
std::vector<std::string> alignment_preset_names();

// The preset the dimensions identify, or "" (large-v1 and large-v2 share their dimensions, and any
// other model): n_text_layer/n_text_state/n_text_head give the size, n_vocab 51864 the English-only
// models, n_mels 128 with n_vocab 51866 large-v3 and its turbo (4 decoder layers).
std::string alignment_preset_for(const HParams& hp);

// OpenAI's default: every head of decoder layers n_text_layer / 2 .. n_text_layer - 1.
std::vector<AlignmentHead> default_alignment_heads(const HParams& hp);

// Resolves a setting: "auto" (the preset the dimensions identify, else the default), "default",
// a preset name, or an explicit list "LAYER:HEAD,LAYER:HEAD,...". Throws npw::Error(InvalidArgument)
// naming the setting and the reason: an unknown name, a malformed item, a head outside the model,
// a preset made for other dimensions, a repeated head.
std::vector<AlignmentHead> resolve_alignment_heads(const std::string& setting, const HParams& hp);

// "L:H,L:H" for messages and reports.
std::string format_alignment_heads(const std::vector<AlignmentHead>& heads);

}  // namespace npw
