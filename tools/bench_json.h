// The few JSON writers every npuwhisper-bench report shares (the full run, --word-timing-only,
// --encoder-pair), so that their escaping and number formats cannot drift apart.
#pragma once

#include <string>

#include "bench_stats.h"

namespace npw {

// s with quotes and backslashes escaped and control characters as \uXXXX.
std::string json_escape(const std::string& s);
// %.6g, or null for NaN and infinities (JSON has neither; a zero-time division gives them).
std::string json_number(double v);
// {"median": .., "min": .., "q1": .., "q3": .., "max": .., "n": ..}
std::string summary_json(const Summary& s);

}  // namespace npw
