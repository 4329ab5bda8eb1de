// The WebRTC voice-activity detector (a small Gaussian-mixture model over band energies, no weights
// to download) from Debian's libwebrtc-audio-processing, behind a C++ class: one decision per 10, 20
// or 30 ms frame of 16 kHz audio.
#pragma once

#include <cstddef>

namespace npw {

class WebRtcVad {
 public:
  // aggressiveness 0 (quality: least likely to call speech silence) .. 3 (most likely to call noise
  // silence). Throws npw::Error: InvalidArgument outside that range, Unavailable when the library
  // cannot be opened, Internal if it fails.
  explicit WebRtcVad(int aggressiveness);
  ~WebRtcVad();
  WebRtcVad(const WebRtcVad&) = delete;
  WebRtcVad& operator=(const WebRtcVad&) = delete;

  void set_aggressiveness(int aggressiveness);
  int aggressiveness() const { return mode_; }

  // One frame of 160, 320 or 480 samples in [-1, 1]. Throws InvalidArgument for other lengths.
  bool is_speech(const float* frame, std::size_t n);

 private:
  void* handle_;
  int mode_;
};

}  // namespace npw
