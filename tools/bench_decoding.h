// The decoding figures of npuwhisper-bench with the definitions whisper.cpp's own bench uses, so the
// two can be put side by side, and the cost of a whole realistic window (issue 14):
//  - one-token steps of one sequence from context 0 to 255, mean per token;
//  - a 5-token batch: five sequences one step each, as beam search runs them (per step, not per token);
//  - a 256-token prompt in one call, per token;
//  - a window as OpenAI's defaults decode dense speech: log-mel + encoder + cross K/V, a 224-token
//    prompt of previous text, then 100 steps of 5 beams over a growing context.
#pragma once

#include "bench_stats.h"

namespace npw {

struct StageRig;

struct DecodingTiming {
  Summary token_steps_ms;   // mean one-token step over contexts 0..255, one value per repetition
  Summary batch5_step_ms;   // one step of five sequences (contexts 0..63), mean per step per repetition
  // Each repetition's 5-sequence step over its own one-token step, the two timed one after the other:
  // on a shared machine whose load moves between repetitions, a steadier ratio than the medians'.
  Summary batch5_over_token_paired;
  Summary prompt256_ms;     // a 256-token prompt in one call, per token
  Summary window_ms;        // the realistic window, whole
  double token_steps_allocs = 0.0;  // per step (batch steps and prompts included in the next two)
  double batch5_allocs = 0.0;       // per 5-sequence step
  double prompt_allocs = 0.0;       // per 256-token prompt
  double window_allocs = 0.0;       // per realistic window
  double window_decoder_ms = 0.0;   // median window's prompt + beam steps part
};

// Constants of the realistic window (OpenAI's defaults: a prompt of up to n_text_ctx/2 - 1 = 223
// previous tokens plus the start-of-transcript sequence, five beams; ~100 steps for 30 s of dense
// speech).
constexpr int kWindowPromptTokens = 224;
constexpr int kWindowBeamSteps = 100;
constexpr int kWindowBeams = 5;
constexpr int kStepContexts = 256;
constexpr int kBatchSteps = 64;
constexpr int kPromptTokens = 256;

// Needs a rig; builds its own 5-sequence decoder on the rig's model, backend and pool. `signal` is
// the 30 s the window stage is fed.
DecodingTiming time_decoding(StageRig& rig, const float* signal, long n_samples, int repeat);

}  // namespace npw
