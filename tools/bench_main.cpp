// npuwhisper-bench: the truth-teller for issue 5. Runs each stage of the runtime on a model, next to
// the ceilings of the machine it runs on (measured in the same run), and reports medians with
// spreads, fractions of the ceilings, peak RSS and steady-state heap allocations, as a table or JSON.
// Order: model stages first, then peak RSS, then the ceilings, whose large copy buffers would
// otherwise dominate the peak.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>

#include "alloc_counter.h"
#include "audio/wav.h"
#include "backend/backend.h"
#include "bench_decoding.h"
#include "bench_encoder_pair.h"
#include "bench_memory.h"
#include "bench_live.h"
#include "bench_model.h"
#include "bench_options.h"
#include "bench_peaks.h"
#include "bench_report.h"
#include "bench_stages.h"
#include "bench_words.h"
#include "model/model.h"
#include "audio/mel.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "util/aligned_buffer.h"
#include "util/error.h"

namespace npw {
namespace {

// Text tokens of the window whose word timing is measured: about 10 s of speech.
constexpr int kWordTimingTextTokens = 32;

// Where --dims takes its vocabulary: the bundled test model (set by the build).
constexpr const char* kVocabModel = NPW_DEFAULT_VOCAB_MODEL;

// Far larger than any last-level cache the tool will meet (32 MiB per CCD on Zen 3).
constexpr std::size_t kCopyBufferBytes = std::size_t{256} << 20;

int run(const BenchOptions& o) {
  if (!npw_alloc_counter_active()) {
    std::fprintf(stderr, "npuwhisper-bench: warning: allocation counting is off in this build (sanitizer)\n");
  }
  // Every backend made below (the rig's, the end-to-end transcriber's) reads the kernel directory
  // from the environment.
  if (!o.kernel_dir.empty()) setenv("NPW_KERNEL_DIR", o.kernel_dir.c_str(), 1);
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
  if (o.encoder_pair) {
    std::vector<float> audio;
    if (!o.audio.empty()) audio = read_wav(o.audio).samples;
    const EncoderPairBench b = time_encoder_pair(*model, window_signal(audio), o.threads, o.repeat);
    const std::string name = o.dims.empty() ? o.model : "generated " + o.dims + " " + o.type;
    write_encoder_pair(b, machine_info(), name, o.threads, o.json, stdout);
    return 0;
  }
  if (o.word_timing_only) {
    StageRig rig(*model, o.backend, o.threads);
    // A real window's encoder output (of --audio, or the bench's noise), as the full bench has: the
    // cost depends on the values too. Over constant frames every position attends alike, each
    // head's normalised matrix is 0 / 0, and the median filter takes its slow path for NaN rows;
    // that inflated this figure by about 3 ms on tiny.
    std::vector<float> audio;
    if (!o.audio.empty()) audio = read_wav(o.audio).samples;
    const std::vector<float> signal = window_signal(audio);
    AlignedBuffer<float> mel(static_cast<std::size_t>(model->hparams().n_mels) * kMelWindowFrames);
    rig.mel->compute_window_mel(signal.data(), static_cast<int64_t>(signal.size()), mel.data());
    rig.decoder->set_audio(rig.encoder->encode(mel.data()));
    const int text_tokens = std::min(o.tokens, model->hparams().n_text_ctx - 8);
    const WordTimingBench w = time_word_timing(rig, text_tokens, o.repeat);
    const std::string name = o.dims.empty() ? o.model : "generated " + o.dims + " " + o.type;
    write_word_timing_only(w, machine_info(), name, o.threads, o.json, stdout);
    return 0;
  }
  BenchResults r;
  r.memory.model_file_mb = static_cast<double>(model->file_size()) / (1 << 20);
  r.memory.rss_after_load_mb = current_rss_mb();
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
    r.cross_attention = rig.decoder->int8_cross_attention()                ? "int8"
                        : rig.backend->reduced_precision_attention() ? "f16"
                                                                     : "f32";
    r.memory.rss_after_pack_mb = current_rss_mb();
    r.token_cost = decoder_token_cost(*model, *rig.backend, o.context);
    const HParams& hp = model->hparams();
    const std::vector<GemmShape> shapes = encoder_gemm_shapes(hp.n_audio_ctx, hp.n_audio_state);
    ProductProbe probe(shapes[1], *rig.backend);
    CeilingSampler sampler(shapes);
    r.paired_shape = probe.shape();
    r.window = time_windows(rig, signal, o.repeat, r.encoder_cost.total(), &probe, &sampler, o.threads);
    r.attention = time_encoder_attention(model->hparams(), *rig.backend, *rig.pool, o.repeat);
    r.token = time_tokens(rig, o.context, o.tokens, o.repeat);
    r.step_cost = decoder_token_cost(*model, *rig.backend, 128);
    {
      // Per prompt position: every per-token weight but the tied embedding (logits are taken at the
      // last position only), and the attention products over 128 own keys and the window's frames.
      const HParams& h = model->hparams();
      const double d = h.n_text_state, emb = static_cast<double>(h.n_vocab) * d;
      r.prompt_flops_per_token = 2.0 * (r.step_cost.weight_params - emb) +
                                 h.n_text_layer * 4.0 * d * (128.0 + h.n_audio_ctx);
    }
    r.decoding = time_decoding(rig, signal.data(), static_cast<long>(signal.size()), o.repeat);
    r.memory.rss_after_window_mb = current_rss_mb();
    r.memory.peak_after_window_mb = peak_rss_mb();
    r.memory.after_window = memory_report({o.model});
    r.words = time_word_timing(rig, kWordTimingTextTokens, o.repeat);
    r.words_window = time_word_timing(rig, kWindowBeamSteps, o.repeat);
  }
  if (!audio.empty() && o.e2e_repeat > 0) {
    for (bool greedy : {false, true}) {
      r.end_to_end.push_back(time_end_to_end(model, o.backend, o.threads, audio, greedy, o.e2e_repeat));
    }
  }
  if (o.backend.rfind("npu-emulator", 0) == 0) r.device = measure_device_windows(*model, signal, o.threads, o.repeat);
  r.peak_rss_mb = peak_rss_mb();

  const HParams& hp = model->hparams();
  {
    // After the peak RSS is taken: these buffers are the bench's, not the runtime's.
    std::unique_ptr<Backend> backend = make_backend(o.backend, o.threads);
    r.sgemm = measure_sgemm(encoder_gemm_shapes(hp.n_audio_ctx, hp.n_audio_state), o.threads, o.repeat, backend.get());
  }
  r.copy_buffer_mb = static_cast<double>(kCopyBufferBytes) / (1 << 20);
  r.copy_gbps = measure_copy_gbps(kCopyBufferBytes, o.threads, std::max(o.repeat, 10));
  r.peaks = measure_peaks(o.threads, std::max(o.repeat, 5), kCopyBufferBytes);

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
