// The voice-activity gate in front of live decoding: WebRTC VAD decisions per 10 ms frame smoothed
// by hysteresis, so a click does not start an utterance and a pause between words does not end one.
// The gate never drops or adds audio: it hands every sample back, in order, labelled speech or
// silence, holding back at most start + padding while closed so the speech start keeps its padding.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

#include "stream/webrtc_vad.h"

namespace npw {

struct GateSettings {
  int start_ms = 150;    // speech this long (consecutive frames) opens the gate
  int end_ms = 500;      // silence this long closes it (that silence goes out as speech: the tail padding)
  int padding_ms = 200;  // audio before the speech start that goes out as speech
  int aggressiveness = 2;
  // Throws npw::Error(InvalidArgument) naming the setting out of range (start 10-1000, end 100-5000,
  // padding 0-1000, aggressiveness 0-3).
  void validate() const;
};

struct GateChunk {
  bool speech = false;
  bool utterance_end = false;  // set on the first silence chunk after speech
  std::vector<float> samples;
};

// Frame decisions -> gate state; separated from the VAD so the hysteresis is tested on exact sequences.
class Hysteresis {
 public:
  Hysteresis(int start_frames, int end_frames) : start_(start_frames), end_(end_frames) {}
  // Returns the state after this frame's decision.
  bool update(bool frame_is_speech);
  bool open() const { return open_; }
  void reset() { open_ = false, run_ = 0; }

 private:
  int start_, end_;
  bool open_ = false;
  int run_ = 0;  // consecutive frames against the current state
};

class VoiceGate {
 public:
  static constexpr std::size_t kFrame = 160;  // 10 ms at 16 kHz

  explicit VoiceGate(GateSettings settings);

  // Audio in; labelled audio out (appended to `out`, adjacent chunks of one kind merged).
  void push(const float* samples, std::size_t n, std::vector<GateChunk>& out);
  // Everything held back goes out (end of stream); the gate closes.
  void drain(std::vector<GateChunk>& out);
  void reset();

  bool open() const { return hysteresis_.open(); }
  std::size_t held() const { return held_.size() + partial_.size(); }
  void set_aggressiveness(int a) { vad_.set_aggressiveness(a); }

 private:
  void emit(bool speech, const float* s, std::size_t n, std::vector<GateChunk>& out);
  void on_frame(const float* frame, std::vector<GateChunk>& out);

  GateSettings s_;
  WebRtcVad vad_;
  Hysteresis hysteresis_;
  std::size_t hold_frames_;        // start + padding while closed
  std::deque<float> held_;         // closed: the last hold_frames_ frames
  std::vector<float> partial_;     // less than a frame
  bool was_open_ = false;
};

}  // namespace npw
