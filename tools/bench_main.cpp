// npuwhisper-bench: the truth-teller for issue 5. Runs each stage of the runtime on a model, next to
// the ceilings of the machine it runs on (measured in the same run), and reports medians with
// spreads, fractions of the ceilings, peak RSS and steady-state heap allocations, as a table or JSON.
// Order: model stages first, then peak RSS, then the ceilings, whose large copy buffers would
// otherwise dominate the peak.
#include <cstdio>
#include <exception>
#include <memory>
#include <new>

#include "alloc_counter.h"
#include "audio/wav.h"
#include "backend/backend.h"
#include "bench_live.h"
#include "bench_model.h"
#include "bench_options.h"
#include "bench_report.h"
#include "model/model.h"
#include "util/error.h"

namespace npw {
namespace {

// Where --dims takes its vocabulary: the bundled test model (set by the build).
constexpr const char* kVocabModel = NPW_DEFAULT_VOCAB_MODEL;

// Far larger than any last-level cache the tool will meet (32 MiB per CCD on Zen 3).
constexpr std::size_t kCopyBufferBytes = std::size_t{256} << 20;

int run(const BenchOptions& o) {
  if (!npw_alloc_counter_active()) {
    std::fprintf(stderr, "npuwhisper-bench: warning: allocation counting is off in this build (sanitizer)\n");
  }
  std::shared_ptr<const Model> model = o.dims.empty() ? Model::load(o.model) : generated_model(o.dims, o.type, kVocabModel);
  if (o.live) {
    LiveBenchOptions lo;
    lo.latency_ms = o.latency_ms;
    lo.seconds = o.live_seconds;
    lo.threads = o.threads;
    lo.backend = o.backend;
    const std::string name = o.dims.empty() ? model->describe() : "generated " + o.dims + " " + o.type;
    return run_live_bench(model, name, lo, o.json);
  }
  BenchResults r;
  r.machine = machine_info();
  r.model_path = o.dims.empty() ? o.model : "(generated: --dims " + o.dims + " --type " + o.type + ")";
  r.model_name = model->describe();
  r.threads = o.threads;
  r.repeat = o.repeat;
  r.context = o.context;
  r.tokens = o.tokens;

  std::vector<float> audio;
  if (!o.audio.empty()) audio = read_wav(o.audio).samples;
  const std::vector<float> signal = window_signal(audio);
  const bool tiled = signal.size() > 0 && !audio.empty() && signal[0] == audio[0];
  r.signal = tiled ? "'" + o.audio + "' repeated to 30 s" : "30 s of deterministic noise";

  r.encoder_cost = encoder_cost(model->hparams());
  r.mel_single = time_mel_single_thread(*model, signal, std::max(o.repeat, 20));
  {
    StageRig rig(*model, o.backend, o.threads);
    r.backend = rig.backend->kind();
    r.token_cost = decoder_token_cost(*model, *rig.backend, o.context);
    const HParams& hp = model->hparams();
    const std::vector<GemmShape> shapes = encoder_gemm_shapes(hp.n_audio_ctx, hp.n_audio_state);
    ProductProbe probe(shapes[1], *rig.backend);
    CeilingSampler sampler(shapes);
    r.paired_shape = probe.shape();
    r.window = time_windows(rig, signal, o.repeat, r.encoder_cost.total(), &probe, &sampler, o.threads);
    r.attention = time_encoder_attention(model->hparams(), *rig.backend, *rig.pool, o.repeat);
    r.token = time_tokens(rig, o.context, o.tokens, o.repeat);
  }
  if (!audio.empty() && o.e2e_repeat > 0) {
    for (bool greedy : {false, true}) {
      r.end_to_end.push_back(time_end_to_end(model, o.backend, o.threads, audio, greedy, o.e2e_repeat));
    }
  }
  r.peak_rss_mb = peak_rss_mb();

  const HParams& hp = model->hparams();
  {
    // After the peak RSS is taken: these buffers are the bench's, not the runtime's.
    std::unique_ptr<Backend> backend = make_backend(o.backend, o.threads);
    r.sgemm = measure_sgemm(encoder_gemm_shapes(hp.n_audio_ctx, hp.n_audio_state), o.threads, o.repeat, backend.get());
  }
  r.copy_buffer_mb = static_cast<double>(kCopyBufferBytes) / (1 << 20);
  r.copy_gbps = measure_copy_gbps(kCopyBufferBytes, o.threads, std::max(o.repeat, 10));

  if (o.json) {
    write_json(r, stdout);
  } else {
    write_table(r, stdout);
  }
  return 0;
}

}  // namespace
}  // namespace npw

int main(int argc, char** argv) {
  try {
    const npw::BenchOptions o = npw::parse_bench_options(argc, argv);
    if (o.help) {
      std::fputs(o.usage.c_str(), stdout);
      return 0;
    }
    return npw::run(o);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "npuwhisper-bench: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "npuwhisper-bench: %s\n", e.what());
  }
  return 1;
}
