// The eleven header integers of a whisper.cpp GGML file, in file order.
#pragma once

#include <cstdint>

namespace npw {

struct HParams {
  int32_t n_vocab = 0;
  int32_t n_audio_ctx = 0;
  int32_t n_audio_state = 0;
  int32_t n_audio_head = 0;
  int32_t n_audio_layer = 0;
  int32_t n_text_ctx = 0;
  int32_t n_text_state = 0;
  int32_t n_text_head = 0;
  int32_t n_text_layer = 0;
  int32_t n_mels = 0;
  int32_t ftype = 0;      // header ftype with the quantisation version removed
  int32_t qntvr = 0;      // quantisation version (ftype / 1000 in the file)
};

}  // namespace npw
