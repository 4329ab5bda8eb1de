// Temperature fallback and silence skipping, as OpenAI's transcribe(); see fallback.h.
#include "decode/fallback.h"

namespace npw {

namespace {

bool no_speech_enabled(const Options& o) { return o.no_speech_threshold <= 1.0f; }

}  // namespace

bool needs_fallback(const WindowDecode& d, const Options& o) {
  bool fail = false;
  if (o.compression_ratio_threshold > 0.0f && d.compression_ratio > o.compression_ratio_threshold) fail = true;
  if (o.logprob_threshold_enabled && d.outcome.avg_logprob < o.logprob_threshold) fail = true;
  // Silence excuses only an improbable decoding (OpenAI since v20250625): a repetitive one that is
  // probable enough, or any one with the log-probability test off, is decoded again.
  if (no_speech_enabled(o) && d.outcome.no_speech_prob > o.no_speech_threshold && o.logprob_threshold_enabled &&
      d.outcome.avg_logprob < o.logprob_threshold) {
    fail = false;
  }
  return fail;
}

bool should_skip_window(const WindowDecode& d, const Options& o) {
  if (!no_speech_enabled(o)) return false;
  bool skip = d.outcome.no_speech_prob > o.no_speech_threshold;
  if (o.logprob_threshold_enabled && d.outcome.avg_logprob > o.logprob_threshold) skip = false;
  return skip;
}

WindowDecode decode_with_fallback(const Options& o, const std::function<WindowDecode(float)>& decode_at) {
  WindowDecode d;
  for (float t : o.temperatures) {
    d = decode_at(t);
    if (!needs_fallback(d, o)) break;
  }
  return d;
}

}  // namespace npw
