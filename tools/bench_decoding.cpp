// Decoding loops of npuwhisper-bench (see bench_decoding.h). Every repetition times whole passes and
// keeps one value per pass, so medians and spreads are over passes, not over single steps that a
// shared machine's scheduler can make arbitrarily noisy.
#include "bench_decoding.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "alloc_counter.h"
#include "audio/mel.h"
#include "bench_stages.h"
#include "bench_timer.h"
#include "model/model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "util/aligned_buffer.h"
#include "util/error.h"

namespace npw {

namespace {

// Start of transcript, then ordinary token ids spread over the vocabulary: a step's cost does not
// depend on which tokens, but the embedding rows read should not all be one cache line.
std::vector<int> token_ids(const Model& model, int n_vocab, int n) {
  std::vector<int> ids(static_cast<std::size_t>(n));
  ids[0] = model.vocab().sot();
  for (std::size_t i = 1; i < ids.size(); ++i) ids[i] = static_cast<int>((220 + 37 * i) % static_cast<std::size_t>(n_vocab));
  return ids;
}

}  // namespace

DecodingTiming time_decoding(StageRig& rig, const float* signal, long n_samples, int repeat) {
  const Model& model = rig.model;
  Decoder d(model, *rig.backend, *rig.pool, kWindowBeams);
  const int need = std::max(kStepContexts, std::max(kPromptTokens, kWindowPromptTokens + kWindowBeamSteps));
  if (need > d.n_ctx()) {
    throw Error(ErrorKind::InvalidArgument, "the decoding figures need " + std::to_string(need) +
                                                " text positions; the model has " + std::to_string(d.n_ctx()));
  }
  const std::vector<int> ids = token_ids(model, d.n_vocab(), need);
  AlignedBuffer<float> mel(static_cast<std::size_t>(model.hparams().n_mels) * kMelWindowFrames);
  rig.mel->compute_window_mel(signal, n_samples, mel.data());
  // Staged in the encoder's idle activations, as a Transcriber's stream does.
  d.set_audio(rig.encoder->encode(mel.data()), rig.encoder->idle_scratch(), rig.encoder->idle_scratch_floats());

  std::vector<int> beam_tokens(static_cast<std::size_t>(kWindowBeams) * kWindowBeamSteps);
  for (std::size_t i = 0; i < beam_tokens.size(); ++i) beam_tokens[i] = ids[(i * 7 + 3) % ids.size()];
  const std::vector<int> to_beams(static_cast<std::size_t>(kWindowBeams), 0);

  // One pass of each figure; returns its per-unit time in ms.
  auto token_steps = [&] {
    d.reset(1);
    Stopwatch t;
    for (int i = 0; i < kStepContexts; ++i) d.decode_next(&ids[static_cast<std::size_t>(i)]);
    return t.ms() / kStepContexts;
  };
  auto batch5 = [&] {
    d.reset(kWindowBeams);
    Stopwatch t;
    for (int i = 0; i < kBatchSteps; ++i) d.decode_next(&beam_tokens[static_cast<std::size_t>(i) * kWindowBeams]);
    return t.ms() / kBatchSteps;
  };
  auto prompt = [&] {
    d.reset(1);
    const TokenSpan span{ids.data(), kPromptTokens};
    Stopwatch t;
    d.decode(&span, 1);
    return t.ms() / kPromptTokens;
  };
  double decoder_ms = 0.0;
  auto window = [&] {
    Stopwatch t;
    rig.mel->compute_window_mel(signal, n_samples, mel.data());
    d.set_audio(rig.encoder->encode(mel.data()), rig.encoder->idle_scratch(), rig.encoder->idle_scratch_floats());
    Stopwatch td;
    d.reset(1);
    const TokenSpan span{ids.data(), kWindowPromptTokens};
    d.decode(&span, 1);
    d.reorder(to_beams);
    for (int i = 0; i < kWindowBeamSteps; ++i) d.decode_next(&beam_tokens[static_cast<std::size_t>(i) * kWindowBeams]);
    decoder_ms = td.ms();
    return t.ms();
  };

  // Warm-up of each (first touch of every cache row and scratch buffer), then the timed passes,
  // the four figures interleaved so that a change of machine load falls on all of them.
  token_steps();
  batch5();
  prompt();
  window();
  std::vector<double> steps, b5, pr, win, dec;
  steps.reserve(static_cast<std::size_t>(repeat));
  b5.reserve(static_cast<std::size_t>(repeat));
  pr.reserve(static_cast<std::size_t>(repeat));
  win.reserve(static_cast<std::size_t>(repeat));
  dec.reserve(static_cast<std::size_t>(repeat));
  long long allocs[4] = {0, 0, 0, 0};
  for (int r = 0; r < repeat; ++r) {
    long long a = npw_alloc_count();
    steps.push_back(token_steps());
    allocs[0] += npw_alloc_count() - a;
    a = npw_alloc_count();
    b5.push_back(batch5());
    allocs[1] += npw_alloc_count() - a;
    a = npw_alloc_count();
    pr.push_back(prompt());
    allocs[2] += npw_alloc_count() - a;
    a = npw_alloc_count();
    win.push_back(window());
    allocs[3] += npw_alloc_count() - a;
    dec.push_back(decoder_ms);
  }
  DecodingTiming out;
  out.token_steps_ms = summarize(steps);
  out.batch5_step_ms = summarize(b5);
  std::vector<double> ratio(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) ratio[i] = b5[i] / steps[i];
  out.batch5_over_token_paired = summarize(ratio);
  out.prompt256_ms = summarize(pr);
  out.window_ms = summarize(win);
  out.window_decoder_ms = summarize(dec).median;
  const double n = repeat;
  out.token_steps_allocs = static_cast<double>(allocs[0]) / (n * kStepContexts);
  out.batch5_allocs = static_cast<double>(allocs[1]) / (n * kBatchSteps);
  out.prompt_allocs = static_cast<double>(allocs[2]) / n;
  out.window_allocs = static_cast<double>(allocs[3]) / n;
  return out;
}

}  // namespace npw
