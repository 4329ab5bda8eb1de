// OpenAI transcribe()'s temperature fallback and silence rules: when a decoding looks like a
// failure (too repetitive, or too unlikely) the window is decoded again at the next temperature,
// unless the model says the window is silent; a silent, unlikely window is skipped altogether.
#pragma once

#include <functional>
#include <string>

#include "decode/decode_window.h"
#include "decode/options.h"

namespace npw {

struct WindowDecode {
  DecodeOutcome outcome;
  std::string text;               // tokenizer text of the tokens, Python-stripped (OpenAI's result.text)
  float compression_ratio = 0.0f;  // of `text`
};

// Failure: compression ratio above its threshold (if > 0) or average log-probability below its
// threshold (if enabled) - but not when the window looks silent: no-speech probability above its
// threshold (<= 1) and average log-probability below its (enabled) threshold.
bool needs_fallback(const WindowDecode& d, const Options& o);

// Skip the window as silence: no-speech probability above the threshold, unless the average
// log-probability is above the log-probability threshold.
bool should_skip_window(const WindowDecode& d, const Options& o);

// Decodes at each temperature of o.temperatures in turn until one does not need the fallback (or
// none is left); returns the last decoding made. decode_at(t) performs one decoding at temperature t.
WindowDecode decode_with_fallback(const Options& o, const std::function<WindowDecode(float)>& decode_at);

}  // namespace npw
