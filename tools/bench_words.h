// The cost of word timestamps in npuwhisper-bench: OpenAI's find_alignment for one window (the
// extra decoder pass over sot + <|notimestamps|> + text + eot, the alignment heads' scores, the
// normalisation, median filter and DTW) next to decoding the same text greedily one token at a time
// (the cheapest way a window gets decoded; beam search costs several times more), so the fraction
// reported is an upper bound of what word timing adds to a window's decoding.
#pragma once

#include <string>

#include "bench_stats.h"

namespace npw {

struct StageRig;

struct WordTimingBench {
  int text_tokens = 0;
  std::string heads;       // the alignment heads used ("L:H,...")
  Summary align_ms;        // per window
  Summary decode_ms;       // greedy decoding of the same tokens, per window
  Summary beam_decode_ms;  // the same steps with 5 hypotheses (beam_size 5, OpenAI's default)
  double allocs = 0.0;     // heap allocations per alignment, steady state
};

// Needs set_audio on the rig's decoder first (time_windows does it).
WordTimingBench time_word_timing(StageRig& rig, int text_tokens, int repeat);

}  // namespace npw
