// Stage loops of npuwhisper-bench. The timed loops store into vectors reserved beforehand, so the
// benchmark itself adds nothing to the allocation counts it reports.
#include "bench_stages.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "alloc_counter.h"
#include "audio/mel.h"
#include "backend/backend.h"
#include "bench_ceilings.h"
#include "bench_timer.h"
#include "decode/alignment_heads.h"
#include "decode/options.h"
#include "decode/transcriber.h"
#include "model/model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "util/aligned_buffer.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

std::vector<double> reserved(int n) {
  std::vector<double> v;
  v.reserve(static_cast<std::size_t>(n));
  return v;
}

}  // namespace

std::vector<float> window_signal(const std::vector<float>& audio) {
  std::vector<float> out(static_cast<std::size_t>(kMelWindowSamples));
  const bool usable = std::any_of(audio.begin(), audio.end(), [](float x) { return x != 0.0f && std::isfinite(x); });
  if (usable) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = audio[i % audio.size()];
  } else {
    uint32_t state = 12345u;  // LCG noise at about -20 dBFS
    for (float& x : out) {
      state = state * 1664525u + 1013904223u;
      x = (static_cast<float>(state >> 8) / 16777216.0f - 0.5f) * 0.2f;
    }
  }
  return out;
}

StageRig::StageRig(const Model& m, const std::string& backend_name, int threads) : model(m) {
  pool = std::make_shared<ThreadPool>(threads);
  BackendSettings settings;
  settings.n_threads = threads;
  settings.pool = pool;
  backend = make_backend(backend_name, settings, nullptr);
  mel = std::make_unique<MelSpectrogram>(m.mel_filters().data(), m.hparams().n_mels, pool.get());
  encoder = std::make_unique<Encoder>(m, *backend, *pool);
  decoder = std::make_unique<Decoder>(m, *backend, *pool, 1);
  // The word-timing bench aligns on this decoder's windows: the heads' layers keep float keys, as in
  // a transcription with word timestamps.
  std::vector<bool> f32_keys(static_cast<std::size_t>(m.hparams().n_text_layer), false);
  for (const AlignmentHead& h : resolve_alignment_heads("auto", m.hparams())) f32_keys[static_cast<std::size_t>(h.layer)] = true;
  decoder->keep_f32_cross_keys(f32_keys);
}

StageRig::~StageRig() = default;

MelTiming time_mel_single_thread(const Model& model, const std::vector<float>& signal, int repeat) {
  MelSpectrogram mel(model.mel_filters().data(), model.hparams().n_mels, nullptr);
  AlignedBuffer<float> out(static_cast<std::size_t>(model.hparams().n_mels) * kMelWindowFrames);
  const int64_t n = static_cast<int64_t>(signal.size());
  mel.compute_window_mel(signal.data(), n, out.data());
  std::vector<double> ms = reserved(repeat);
  const long long a0 = npw_alloc_count();
  for (int r = 0; r < repeat; ++r) {
    Stopwatch t;
    mel.compute_window_mel(signal.data(), n, out.data());
    ms.push_back(t.ms());
  }
  MelTiming m;
  m.allocs = static_cast<double>(npw_alloc_count() - a0) / repeat;
  m.ms = summarize(ms);
  return m;
}

WindowTiming time_windows(StageRig& rig, const std::vector<float>& signal, int repeat, double encoder_flops,
                          ProductProbe* probe, CeilingSampler* sampler, int sampler_threads) {
  AlignedBuffer<float> mel(static_cast<std::size_t>(rig.model.hparams().n_mels) * kMelWindowFrames);
  const int64_t n = static_cast<int64_t>(signal.size());
  auto window = [&](std::vector<double>* ms, long long* allocs) {
    Stopwatch t;
    long long a = npw_alloc_count();
    rig.mel->compute_window_mel(signal.data(), n, mel.data());
    if (ms) ms[0].push_back(t.ms()), allocs[0] += npw_alloc_count() - a;
    t.restart();
    a = npw_alloc_count();
    const float* enc = rig.encoder->encode(mel.data());
    if (ms) ms[1].push_back(t.ms()), allocs[1] += npw_alloc_count() - a;
    t.restart();
    a = npw_alloc_count();
    rig.decoder->set_audio(enc);
    if (ms) ms[2].push_back(t.ms()), allocs[2] += npw_alloc_count() - a;
  };
  window(nullptr, nullptr);
  std::vector<double> ms[3] = {reserved(repeat), reserved(repeat), reserved(repeat)};
  long long allocs[3] = {0, 0, 0};
  WindowTiming w;
  std::vector<double> probe_gflops = reserved(repeat), fractions = reserved(repeat);
  std::vector<double> blas_gflops = reserved(repeat), blas_fractions = reserved(repeat);
  rig.encoder->set_profile(&w.encoder_stages);
  for (int r = 0; r < repeat; ++r) {
    window(ms, allocs);
    if (probe) {
      rig.encoder->set_profile(nullptr);
      const double g = probe->gflops_once();
      probe_gflops.push_back(g);
      fractions.push_back(encoder_flops / ms[1].back() * 1e-6 / g);
      rig.encoder->set_profile(&w.encoder_stages);
    }
    if (sampler) {
      const double g = sampler->sample(sampler_threads);
      blas_gflops.push_back(g);
      blas_fractions.push_back(encoder_flops / ms[1].back() * 1e-6 / g);
    }
  }
  rig.encoder->set_profile(nullptr);
  w.paired_product_gflops = summarize(probe_gflops);
  w.paired_encoder_fraction = summarize(fractions);
  w.interleaved_sgemm_gflops = summarize(blas_gflops);
  w.interleaved_encoder_fraction = summarize(blas_fractions);
  w.mel_ms = summarize(ms[0]);
  w.encoder_ms = summarize(ms[1]);
  w.cross_kv_ms = summarize(ms[2]);
  w.mel_allocs = static_cast<double>(allocs[0]) / repeat;
  w.encoder_allocs = static_cast<double>(allocs[1]) / repeat;
  w.cross_kv_allocs = static_cast<double>(allocs[2]) / repeat;
  return w;
}

TokenTiming time_tokens(StageRig& rig, int context, int tokens, int repeat) {
  Decoder& d = *rig.decoder;
  if (context + tokens > d.n_ctx()) {
    throw Error(ErrorKind::InvalidArgument, "--context " + std::to_string(context) + " + --tokens " +
                                                std::to_string(tokens) + " exceeds the model's " +
                                                std::to_string(d.n_ctx()) + " text positions");
  }
  // Start of transcript, then ordinary token ids: the cost of a step does not depend on which.
  const int n_vocab = d.n_vocab();
  std::vector<int> ids(static_cast<std::size_t>(context + tokens));
  ids[0] = rig.model.vocab().sot();
  for (std::size_t i = 1; i < ids.size(); ++i) ids[i] = static_cast<int>((220 + 37 * i) % static_cast<std::size_t>(n_vocab));

  std::vector<double> ms = reserved(repeat * tokens);
  long long token_allocs = 0, prompt_allocs = 0;
  auto sequence = [&](bool timed) {
    d.reset(1);
    const TokenSpan prompt{ids.data(), context};
    long long a = npw_alloc_count();
    d.decode(&prompt, 1);
    if (timed) prompt_allocs += npw_alloc_count() - a;
    for (int i = 0; i < tokens; ++i) {
      Stopwatch t;
      a = npw_alloc_count();
      d.decode_next(&ids[static_cast<std::size_t>(context + i)]);
      if (timed) token_allocs += npw_alloc_count() - a, ms.push_back(t.ms());
    }
  };
  sequence(false);
  for (int r = 0; r < repeat; ++r) sequence(true);
  TokenTiming t;
  t.ms = summarize(ms);
  t.allocs = static_cast<double>(token_allocs) / (static_cast<double>(repeat) * tokens);
  t.prompt_allocs = static_cast<double>(prompt_allocs) / repeat;
  return t;
}

EndToEndTiming time_end_to_end(std::shared_ptr<const Model> model, const std::string& backend, int threads,
                               const std::vector<float>& audio, bool greedy, int repeat) {
  Options o;
  o.backend = backend;
  o.n_threads = threads;
  if (greedy) {
    o.beam_size = 0;
    o.best_of = 1;
    o.temperatures = {0.0f};
  }
  Transcriber tr(model, o);
  EndToEndTiming e;
  e.mode = greedy ? "greedy" : "default";
  e.audio_s = static_cast<double>(audio.size()) / kMelSampleRate;
  std::vector<double> wall = reserved(repeat);
  long long allocs = 0;
  const Stats before = tr.stats();
  for (int r = 0; r < repeat; ++r) {
    const long long a = npw_alloc_count();
    Stopwatch t;
    tr.transcribe(audio.data(), audio.size());
    wall.push_back(t.seconds());
    allocs += npw_alloc_count() - a;
  }
  const Stats& after = tr.stats();
  e.wall_s = summarize(wall);
  e.windows = static_cast<double>(after.windows - before.windows) / repeat;
  e.tokens = static_cast<double>(after.tokens - before.tokens) / repeat;
  e.allocs = static_cast<double>(allocs) / repeat;
  return e;
}

}  // namespace npw
