// The timed stages of npuwhisper-bench. Each runs one untimed warm-up first (first touch of every
// buffer, lazily sized scratch, FFTW and OpenBLAS start-up), then the timed repetitions, and counts
// heap allocations over the timed part with npw_alloc_count(): a steady state that allocates shows
// up as a non-zero count per window or per token.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bench_stats.h"
#include "nn/encoder.h"

namespace npw {

class Backend;
class Decoder;
class Encoder;
class MelSpectrogram;
class Model;
class ThreadPool;

// 30 s (480000 samples) of signal for the stage timings: the audio repeated to fill the window, or
// (no audio, or audio of digital silence) deterministic noise, so the mel never takes its
// all-zero-frame shortcut and the figure is the cost of real speech-like input.
std::vector<float> window_signal(const std::vector<float>& audio);

// One stream's objects as the Transcriber wires them: a pool of `threads`, the named backend, the
// mel front end on the pool, the encoder and a one-sequence decoder.
struct StageRig {
  StageRig(const Model& model, const std::string& backend, int threads);
  ~StageRig();
  const Model& model;
  std::unique_ptr<Backend> backend;
  std::shared_ptr<ThreadPool> pool;  // also the backend's
  std::unique_ptr<MelSpectrogram> mel;
  std::unique_ptr<Encoder> encoder;
  std::unique_ptr<Decoder> decoder;
};

struct MelTiming {
  Summary ms;            // per 30 s window
  double allocs = 0.0;   // per window
};

// The log-mel of a 30 s window on the calling thread alone (the target is per thread).
MelTiming time_mel_single_thread(const Model& model, const std::vector<float>& signal, int repeat);

struct WindowTiming {
  Summary mel_ms;        // on the rig's pool
  Summary encoder_ms;
  Summary cross_kv_ms;   // Decoder::set_audio: the cross-attention keys and values of the window
  double mel_allocs = 0.0, encoder_allocs = 0.0, cross_kv_allocs = 0.0;  // per window
  EncoderProfile encoder_stages;  // summed over the timed windows
  // With a probe: the encoder's own kind of product timed right after each window, and the
  // encoder's fraction of it per window (its GFLOP/s over that sample).
  Summary paired_product_gflops;
  Summary paired_encoder_fraction;
  // With a ceiling sampler: the strict SGEMM ceiling (OpenBLAS's own threading, best of the encoder's
  // shapes) sampled after each timed window too, and the encoder's fraction of it per window.
  Summary interleaved_sgemm_gflops;
  Summary interleaved_encoder_fraction;
  double allocs() const { return mel_allocs + encoder_allocs + cross_kv_allocs; }
};

// mel (window clamp, as the element does) -> encoder -> set_audio, `repeat` times.
class ProductProbe;
class CeilingSampler;
WindowTiming time_windows(StageRig& rig, const std::vector<float>& signal, int repeat, double encoder_flops = 0.0,
                          ProductProbe* probe = nullptr, CeilingSampler* sampler = nullptr, int sampler_threads = 0);

struct TokenTiming {
  Summary ms;               // per one-token step, over every timed step of every repetition
  double allocs = 0.0;      // per token
  double prompt_allocs = 0.0;  // per prompt of `context` tokens (one call)
};

// Per repetition: a fresh sequence, a prompt of `context` tokens in one call, then `tokens` timed
// one-token steps (the context grows from `context` to context + tokens - 1). Needs set_audio first.
TokenTiming time_tokens(StageRig& rig, int context, int tokens, int repeat);

struct EndToEndTiming {
  std::string mode;         // "default" (OpenAI's options) or "greedy" (no beam, no fallback)
  Summary wall_s;
  double audio_s = 0.0;
  double windows = 0.0;     // per transcription
  double tokens = 0.0;      // decoded per transcription (random weights decode nonsense, at length)
  double allocs = 0.0;      // per transcription
};

// Transcriber::transcribe over the whole audio, `repeat` times with one Transcriber (made before
// the clock starts).
EndToEndTiming time_end_to_end(std::shared_ptr<const Model> model, const std::string& backend, int threads,
                               const std::vector<float>& audio, bool greedy, int repeat);

}  // namespace npw
