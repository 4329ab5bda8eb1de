// The cost of word timestamps in npuwhisper-bench: OpenAI's find_alignment for one window (the
// extra decoder pass over sot + <|notimestamps|> + text + eot, the alignment heads' scores, the
// normalisation, median filter and DTW) next to decoding the same text greedily one token at a time
// (the cheapest way a window gets decoded) and with 5 hypotheses (OpenAI's default beam search), so
// the fractions reported bound what word timing adds to a window's decoding. The alignment is also
// split into its parts (the forward pass, the token probabilities, the heads with DTW), so that a
// regression names its culprit.
#pragma once

#include <cstdio>
#include <string>

#include "bench_machine.h"
#include "bench_stats.h"

namespace npw {

struct StageRig;

struct WordTimingBench {
  int text_tokens = 0;
  std::string heads;       // the alignment heads used ("L:H,...")
  Summary align_ms;        // per window
  Summary decode_ms;       // greedy decoding of the same tokens, per window
  Summary beam_decode_ms;  // the same steps with 5 hypotheses (beam_size 5, OpenAI's default)
  // The parts of align_ms: the decoder's forward pass over the sequence, the text tokens'
  // probabilities (their logits and softmax), and what remains: the alignment heads (q.k scores,
  // softmax over frames, normalisation, median filter; side by side on the pool), DTW, the words.
  Summary forward_ms, probs_ms, rest_ms;
  double allocs = 0.0;     // heap allocations per alignment, steady state
};

// Needs set_audio on the rig's decoder first (time_windows does it).
WordTimingBench time_word_timing(StageRig& rig, int text_tokens, int repeat);

// `npuwhisper-bench --word-timing-only`: the figures above alone, as JSON (the full run's word keys
// plus the machine) or as text.
void write_word_timing_only(const WordTimingBench& w, const MachineInfo& machine, const std::string& model,
                            int threads, bool json, std::FILE* out);

}  // namespace npw
