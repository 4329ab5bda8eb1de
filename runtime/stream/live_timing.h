// The timing promise of live captions, in one place for the element (its LATENCY answer, the PTS
// floor, the commit deadline) and the live benchmark: with update step S, a word can need one step
// to be heard, one more for the agreeing hypothesis, and one for the step's own processing, plus
// 1.5 s for the word itself and the last second Whisper gets wrong, plus the voice gate's start
// delay. S is the configured step or, when steps take longer, what they take (StepAllowance: a late
// step covers all the audio that arrived, so steps then follow each other at their processing time).
// Seconds on the stream's clock throughout.
#pragma once

namespace npw {

// The last second of a hypothesis is what Whisper gets wrong most often (a word cut by the buffer
// end): a word starting there is committed only by agreement (or at the end of an utterance), never
// by a deadline or a backlog.
constexpr double kUnreliableTailSeconds = 1.0;

struct LiveTiming {
  double step = 1.0;        // update step
  double gate_start = 0.0;  // voice gate start delay (0 without the gate)

  // What live captions add to upstream's latency (lateness not included).
  double latency() const { return 3.0 * step + 1.5 + gate_start; }
  // With audio up to `arrived` received, a buffer pushed now (at the latest by the end of this step)
  // is on time if its PTS is at least this.
  double floor_now(double arrived) const { return arrived + step - latency(); }
  // Words starting before this must be committed by this step: the next one would be too late.
  double deadline(double arrived) const { return arrived + 2.0 * step - latency(); }
};

}  // namespace npw
