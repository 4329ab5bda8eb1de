// The neural half of a window as the transcription loop sees it: encode one 30 s mel window, then
// decode against it through a LogitSource. The Transcriber plugs in the real encoder and decoder
// (nn_window_model.h); tests of the loop plug in small fakes.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "audio/mel.h"

#include "decode/alignment_source.h"
#include "decode/logit_source.h"

namespace npw {

class WindowModel {
 public:
  virtual ~WindowModel() = default;
  // Encodes mel[n_mels][3000] into out[n_audio_ctx][n_audio_state] (the stream's pooled encoder
  // buffer, 64-byte aligned); decoding then attends to this window until the next encode().
  virtual void encode(const float* mel, float* out) = 0;
  // Decoding over the last encoded window (begin() starts fresh sequences).
  virtual LogitSource& logits() = 0;
  // Word timing over the last encoded window (nullptr: this model cannot give word timestamps).
  virtual AlignmentSource* alignment() { return nullptr; }
  // The log-mel as products on this model's accelerator (filters [n_mels][201]); nullptr when the
  // backend has no accelerator.
  virtual std::unique_ptr<LogMelFrontEnd> device_mel(const float* filters, int n_mels) {
    (void)filters;
    (void)n_mels;
    return nullptr;
  }
  // Kind of the backend doing the work ("cpu", ...), for statistics.
  virtual std::string backend_kind() const = 0;
  // A stop flag (util/cancel.h) the encoding and decoding poll between their steps; nullptr: none.
  virtual void set_cancel(const std::atomic<bool>* flag) { (void)flag; }
};

}  // namespace npw
