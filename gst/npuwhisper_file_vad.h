// The voice gate in file mode (vad=true with mode=file): incoming audio is labelled speech or
// silence so the stream puts only speech into its window and skips the silent stretches (no
// encoder runs on them; the stream moves its clock on and covers them with GAP events). Glue only:
// the conversion is the window accumulator's, the decisions runtime/stream's VoiceGate.
#pragma once

#include <gst/audio/audio.h>
#include <gst/gst.h>

#include <cstddef>
#include <vector>

#include "npuwhisper_window.h"
#include "stream/voice_gate.h"

namespace npwgst {

class FileVad {
 public:
  // Throws npw::Error for settings out of range or a VAD that cannot start.
  explicit FileVad(const npw::GateSettings& settings);

  void set_format(GstAudioFormat format) { in_.set_format(format); }
  // Takes ownership of `buffer`; every sample comes back in `out`, in order, labelled.
  void push(GstBuffer* buffer, std::vector<npw::GateChunk>& out);
  // Whatever the gate holds back goes out (end of a stretch or of the stream).
  void drain(std::vector<npw::GateChunk>& out) { gate_.drain(out); }
  void reset();
  // Samples received and not handed back yet.
  std::size_t held() const { return gate_.held(); }

 private:
  WindowAccumulator in_;
  npw::VoiceGate gate_;
  std::vector<float> scratch_;
};

// An F32LE buffer holding `samples` (for the stream's window, whose format is then F32LE).
GstBuffer* f32_buffer(const std::vector<float>& samples);

}  // namespace npwgst
