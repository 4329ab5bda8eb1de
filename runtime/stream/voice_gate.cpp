// See voice_gate.h.
#include "stream/voice_gate.h"

#include <string>

#include "util/error.h"

namespace npw {

namespace {

void check_range(const char* name, int v, int lo, int hi) {
  if (v < lo || v > hi)
    throw Error(ErrorKind::InvalidArgument, std::string("voice gate: ") + name + " " + std::to_string(v) +
                                                " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
}

int frames(int ms) { return std::max(1, ms / 10); }

}  // namespace

void GateSettings::validate() const {
  check_range("start_ms", start_ms, 10, 1000);
  check_range("end_ms", end_ms, 100, 5000);
  check_range("padding_ms", padding_ms, 0, 1000);
  check_range("aggressiveness", aggressiveness, 0, 3);
}

bool Hysteresis::update(bool frame_is_speech) {
  if (frame_is_speech != open_) {
    if (++run_ >= (open_ ? end_ : start_)) {
      open_ = !open_;
      run_ = 0;
    }
  } else {
    run_ = 0;
  }
  return open_;
}

VoiceGate::VoiceGate(GateSettings settings)
    : s_((settings.validate(), settings)),
      vad_(settings.aggressiveness),
      hysteresis_(frames(settings.start_ms), frames(settings.end_ms)),
      hold_frames_(static_cast<std::size_t>(frames(settings.start_ms) + settings.padding_ms / 10)) {}

void VoiceGate::reset() {
  hysteresis_.reset();
  held_.clear();
  partial_.clear();
  was_open_ = false;
}

void VoiceGate::emit(bool speech, const float* s, std::size_t n, std::vector<GateChunk>& out) {
  if (n == 0) return;
  if (out.empty() || out.back().speech != speech) out.push_back(GateChunk{speech, false, {}});
  out.back().samples.insert(out.back().samples.end(), s, s + n);
}

void VoiceGate::on_frame(const float* frame, std::vector<GateChunk>& out) {
  const bool now = hysteresis_.update(vad_.is_speech(frame, kFrame));
  if (was_open_ && now) {
    emit(true, frame, kFrame, out);
  } else if (!was_open_ && now) {
    // The padding and the frames that proved the speech go out as speech, ahead of this frame.
    std::vector<float> before(held_.begin(), held_.end());
    held_.clear();
    emit(true, before.data(), before.size(), out);
    emit(true, frame, kFrame, out);
  } else {
    if (was_open_) out.push_back(GateChunk{false, true, {}});  // the utterance ended with this frame
    held_.insert(held_.end(), frame, frame + kFrame);
    while (held_.size() > hold_frames_ * kFrame) {
      float f[kFrame];
      for (float& v : f) {
        v = held_.front();
        held_.pop_front();
      }
      emit(false, f, kFrame, out);
    }
  }
  was_open_ = now;
}

void VoiceGate::push(const float* samples, std::size_t n, std::vector<GateChunk>& out) {
  std::size_t i = 0;
  if (!partial_.empty()) {
    const std::size_t take = std::min(n, kFrame - partial_.size());
    partial_.insert(partial_.end(), samples, samples + take);
    i = take;
    if (partial_.size() < kFrame) return;
    const std::vector<float> frame = std::move(partial_);
    partial_.clear();
    on_frame(frame.data(), out);
  }
  for (; i + kFrame <= n; i += kFrame) on_frame(samples + i, out);
  partial_.insert(partial_.end(), samples + i, samples + n);
}

void VoiceGate::drain(std::vector<GateChunk>& out) {
  std::vector<float> rest(held_.begin(), held_.end());
  rest.insert(rest.end(), partial_.begin(), partial_.end());
  emit(was_open_, rest.data(), rest.size(), out);
  if (was_open_) out.push_back(GateChunk{false, true, {}});
  reset();
}

}  // namespace npw
