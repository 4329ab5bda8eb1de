// JSON and table rendering of a benchmark run. The JSON is written by hand (flat keys, a few nested
// objects) to keep the tool free of a JSON dependency; strings are escaped per RFC 8259.
#include "bench_report.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "audio/mel.h"
#include "bench_json.h"

namespace npw {

namespace {

// One reported figure: its median and spread (already in the figure's unit) and, when it has one,
// its ceiling and the name of that ceiling.
struct Figure {
  std::string key, label, unit;
  Summary s;
  double ceiling = 0.0;        // 0: none
  std::string ceiling_name;
  bool spread = true;          // false for counts, which have no repetition spread

  Figure(std::string k, std::string l, std::string u, const Summary& sum, double c = 0.0, std::string cn = "",
         bool sp = true)
      : key(std::move(k)), label(std::move(l)), unit(std::move(u)), s(sum), ceiling(c), ceiling_name(std::move(cn)),
        spread(sp) {}
};

double sgemm_ceiling(const BenchResults& r) {
  double best = 0.0;
  for (const GemmCeiling& g : r.sgemm) best = std::max(best, g.gflops.median);
  return best;
}

Summary scalar(double v) {
  Summary s;
  s.median = s.min = s.q1 = s.q3 = s.max = v;
  s.n = 1;
  return s;
}

std::vector<Figure> figures(const BenchResults& r) {
  std::vector<Figure> f;
  const double sgemm = sgemm_ceiling(r), copy = r.copy_gbps.median;
  const double window_ms = 1000.0 * static_cast<double>(kMelWindowSamples) / kMelSampleRate;
  f.emplace_back(Figure{"mel_ms_per_30s", "log-mel per 30 s, 1 thread", "ms", r.mel_single.ms});
  f.emplace_back(Figure{"mel_realtime", "log-mel realtime factor, 1 thread", "x",
               map_summary(r.mel_single.ms, [&](double ms) { return window_ms / ms; }, true), kTargetMelRealtime,
               "target 3000x"});
  f.emplace_back(Figure{"mel_pool_ms_per_30s", "log-mel per 30 s, pool", "ms", r.window.mel_ms});
  f.emplace_back(Figure{"encoder_ms", "encoder per window", "ms", r.window.encoder_ms});
  const double flops = r.encoder_cost.total();
  f.emplace_back(Figure{"encoder_gflops", "encoder achieved", "GFLOP/s",
               map_summary(r.window.encoder_ms, [&](double ms) { return flops / ms * 1e-6; }, true), sgemm,
               "SGEMM ceiling"});
  const AttentionTiming& at = r.attention;
  auto att_gflops = [&](const Summary& ms) { return map_summary(ms, [&](double v) { return at.gflop / v * 1e3; }, true); };
  if (at.simd_ms.n > 0) {
    f.emplace_back(Figure{"attention_simd_ms", std::string("attention/layer, tiled ") + at.simd_level, "ms", at.simd_ms});
    f.emplace_back(Figure{"attention_simd_gflops", std::string("attention/layer, tiled ") + at.simd_level, "GFLOP/s",
                 att_gflops(at.simd_ms), sgemm, "SGEMM ceiling"});
  }
  if (at.avx2_ms.n > 0) {
    f.emplace_back(Figure{"attention_avx2_ms", "attention/layer, tiled avx2", "ms", at.avx2_ms});
  }
  if (at.bf16_ms.n > 0) {
    f.emplace_back(Figure{"attention_bf16_ms", "attention/layer, bf16 (int8 path)", "ms", at.bf16_ms});
  }
  if (at.int8_f32_ms.n > 0) {
    f.emplace_back(Figure{"attention_int8_f32_ms", "attention/layer, int8 scores + f32 values (int8 path)", "ms",
                          at.int8_f32_ms});
  }
  if (at.int8_ms.n > 0) {
    f.emplace_back(Figure{"attention_int8_ms", "attention/layer, int8 scores + int8 values (int8 path)", "ms",
                          at.int8_ms});
  }
  if (at.sharp_simd_ms.n > 0) {
    f.emplace_back(Figure{"attention_sharp_simd_ms", std::string("attention/layer, peaked scores, tiled ") + at.simd_level,
                          "ms", at.sharp_simd_ms});
  }
  if (at.sharp_reduced_ms.n > 0) {
    f.emplace_back(Figure{"attention_sharp_reduced_ms", "attention/layer, peaked scores, int8 path", "ms",
                          at.sharp_reduced_ms});
  }
  f.emplace_back(Figure{"attention_portable_ms", "attention/layer, tiled portable", "ms", at.portable_ms});
  f.emplace_back(Figure{"attention_materialised_ms", "attention/layer, full score matrix", "ms", at.materialised_ms});
  f.emplace_back(Figure{"cross_kv_ms", "cross-attention K/V per window", "ms", r.window.cross_kv_ms});
  f.emplace_back(Figure{"token_ms", "decoder per token @ context " + std::to_string(r.context), "ms", r.token.ms});
  const double wbytes = r.token_cost.weight_bytes;
  f.emplace_back(Figure{"token_gbps", "decoder weight bytes read", "GB/s",
               map_summary(r.token.ms, [&](double ms) { return wbytes / ms * 1e-6; }, true), copy, "copy bandwidth"});
  const double all_bytes = wbytes + r.token_cost.cross_kv_bytes + r.token_cost.self_kv_bytes;
  f.emplace_back(Figure{"token_total_gbps", "decoder weights + K/V read", "GB/s",
               map_summary(r.token.ms, [&](double ms) { return all_bytes / ms * 1e-6; }, true), copy,
               "copy bandwidth"});
  // Issue 14: whisper.cpp's decoding figures, the realistic window, and the machine's own peaks.
  const DecodingTiming& dt = r.decoding;
  const double read = r.peaks.read_gbps.median, fma = r.peaks.fma_gflops.median;
  const double step_bytes = r.step_cost.weight_bytes + r.step_cost.cross_kv_bytes + r.step_cost.self_kv_bytes;
  f.emplace_back(Figure{"token_steps_ms", "decoder step, context 0..255, mean", "ms", dt.token_steps_ms});
  f.emplace_back(Figure{"token_steps_read_gbps", "decoder step weights + K/V read", "GB/s",
               map_summary(dt.token_steps_ms, [&](double ms) { return step_bytes / ms * 1e-6; }, true), read,
               "read bandwidth"});
  f.emplace_back(Figure{"batch5_step_ms", "5 sequences x 1 token, per step", "ms", dt.batch5_step_ms});
  f.emplace_back(Figure{"prompt256_ms", "256-token prompt, per token", "ms", dt.prompt256_ms});
  f.emplace_back(Figure{"prompt256_gflops", "256-token prompt products", "GFLOP/s",
               map_summary(dt.prompt256_ms, [&](double ms) { return r.prompt_flops_per_token / ms * 1e-6; }, true),
               fma, "FMA peak"});
  f.emplace_back(Figure{"window_ms", "window: mel+enc+224 prompt+100x5 beams", "ms", dt.window_ms});
  f.emplace_back(Figure{"window_realtime", "window realtime factor (30 s dense)", "x",
               map_summary(dt.window_ms, [&](double ms) { return window_ms / ms; }, true)});
  f.emplace_back(Figure{"fma_peak_gflops", "f32 FMA peak, registers only (" + r.peaks.fma_path + ")", "GFLOP/s",
               r.peaks.fma_gflops});
  f.emplace_back(Figure{"int8_peak_gops", "int8 dot peak, registers only (" + r.peaks.int8_path + ")", "GOP/s",
               r.peaks.int8_gops});
  f.emplace_back(Figure{"read_gbps", "read-only streaming bandwidth", "GB/s", r.peaks.read_gbps});
  for (const EndToEndTiming& e : r.end_to_end) {
    const std::string key = e.mode == "default" ? "rtf" : "rtf_" + e.mode;
    f.emplace_back(Figure{key, "end-to-end (" + e.mode + "), audio s / wall s", "x",
                 map_summary(e.wall_s, [&](double s) { return e.audio_s / s; }, true)});
  }
  f.emplace_back(Figure{"peak_rss_mb", "peak RSS", "MiB", scalar(r.peak_rss_mb), 0.0, "", false});
  f.emplace_back(Figure{"allocs_per_window", "heap allocations per window", "", scalar(r.window.allocs()), 0.0, "", false});
  f.emplace_back(Figure{"allocs_per_token", "heap allocations per token", "", scalar(r.token.allocs), 0.0, "", false});
  return f;
}

// {"what": resident MiB, ...}: the split of one resident-memory figure.
std::string memory_uses_json(const std::vector<MemoryUse>& uses) {
  std::string o = "{";
  for (const MemoryUse& u : uses) {
    if (o.size() > 1) o += ", ";
    o += "\"" + json_escape(u.what) + "\": " + json_number(static_cast<double>(u.resident_bytes) / (1 << 20));
  }
  return o + "}";
}

}  // namespace

void write_json(const BenchResults& r, std::FILE* out) {
  const std::vector<Figure> figs = figures(r);
  const double sgemm = sgemm_ceiling(r);
  std::vector<std::pair<std::string, std::string>> kv;
  kv.emplace_back("model", "\"" + json_escape(r.model_name) + "\"");
  kv.emplace_back("model_path", "\"" + json_escape(r.model_path) + "\"");
  kv.emplace_back("backend", "\"" + json_escape(r.backend) + "\"");
  kv.emplace_back("threads", std::to_string(r.threads));
  kv.emplace_back("repeat", std::to_string(r.repeat));
  kv.emplace_back("context", std::to_string(r.context));
  kv.emplace_back("signal", "\"" + json_escape(r.signal) + "\"");
  kv.emplace_back("decoder_cross_attention", "\"" + json_escape(r.cross_attention) + "\"");
  kv.emplace_back("sgemm_gflops", json_number(sgemm));
  kv.emplace_back("copy_gbps", json_number(r.copy_gbps.median));
  for (const Figure& f : figs) kv.emplace_back(f.key, json_number(f.s.median));
  const auto fig = [&](const std::string& key) -> const Figure* {
    for (const Figure& f : figs)
      if (f.key == key) return &f;
    return nullptr;
  };
  // The strict figure: the encoder's median over the best median of OpenBLAS's own threaded SGEMM.
  // Next to it, the paired one: per window, the encoder over its own kind of product (the MLP's
  // shape through Backend::linear) right after it, on the same machine state.
  kv.emplace_back("encoder_fraction_of_sgemm", json_number(fig("encoder_gflops")->s.median / sgemm));
  if (r.window.paired_encoder_fraction.n > 0) {
    kv.emplace_back("encoder_fraction_of_backend_product_paired", json_number(r.window.paired_encoder_fraction.median));
    kv.emplace_back("backend_product_gflops_paired", json_number(r.window.paired_product_gflops.median));
  }
  // The strict ceiling sampled between windows instead of in a phase of its own: the same ratio, with
  // the host's load changes falling on both sides of it.
  if (r.window.interleaved_encoder_fraction.n > 0) {
    kv.emplace_back("encoder_fraction_of_sgemm_interleaved", json_number(r.window.interleaved_encoder_fraction.median));
    kv.emplace_back("sgemm_gflops_interleaved", json_number(r.window.interleaved_sgemm_gflops.median));
  }
  kv.emplace_back("token_fraction_of_copy", json_number(fig("token_gbps")->s.median / r.copy_gbps.median));
  kv.emplace_back("token_total_fraction_of_copy", json_number(fig("token_total_gbps")->s.median / r.copy_gbps.median));
  {
    const DecodingTiming& dt = r.decoding;
    const double enc_gflops = fig("encoder_gflops")->s.median;
    kv.emplace_back("token_fraction_of_read", json_number(fig("token_steps_read_gbps")->s.median / r.peaks.read_gbps.median));
    kv.emplace_back("encoder_fraction_of_fma_peak", json_number(enc_gflops / r.peaks.fma_gflops.median));
    kv.emplace_back("encoder_fraction_of_int8_peak", json_number(enc_gflops / r.peaks.int8_gops.median));
    kv.emplace_back("batch5_over_token", json_number(dt.batch5_step_ms.median / dt.token_steps_ms.median));
    kv.emplace_back("batch5_over_token_paired", summary_json(dt.batch5_over_token_paired));
    kv.emplace_back("prompt_fraction_of_encoder_rate", json_number(fig("prompt256_gflops")->s.median / enc_gflops));
    kv.emplace_back("prompt_flops_per_token", json_number(r.prompt_flops_per_token));
    kv.emplace_back("token_step_bytes", json_number(r.step_cost.weight_bytes + r.step_cost.cross_kv_bytes + r.step_cost.self_kv_bytes));
    kv.emplace_back("window_decoder_ms", json_number(dt.window_decoder_ms));
    kv.emplace_back("fma_path", "\"" + json_escape(r.peaks.fma_path) + "\"");
    kv.emplace_back("int8_path", "\"" + json_escape(r.peaks.int8_path) + "\"");
    kv.emplace_back("model_file_mb", json_number(r.memory.model_file_mb));
    kv.emplace_back("rss_after_load_mb", json_number(r.memory.rss_after_load_mb));
    kv.emplace_back("rss_after_pack_mb", json_number(r.memory.rss_after_pack_mb));
    kv.emplace_back("rss_after_window_mb", json_number(r.memory.rss_after_window_mb));
    kv.emplace_back("peak_rss_over_model_file", json_number(r.peak_rss_mb / r.memory.model_file_mb));
    kv.emplace_back("rss_after_window_by_buffer_mb", memory_uses_json(r.memory.after_window.buffers));
    kv.emplace_back("rss_after_window_by_mapping_mb", memory_uses_json(r.memory.after_window.process));
    kv.emplace_back("allocs_per_batch5_step", json_number(dt.batch5_allocs));
    kv.emplace_back("allocs_per_prompt256", json_number(dt.prompt_allocs));
    kv.emplace_back("allocs_per_decoding_window", json_number(dt.window_allocs));
  }
  kv.emplace_back("mel_fraction_of_target", json_number(fig("mel_realtime")->s.median / kTargetMelRealtime));
  kv.emplace_back("encoder_gflop_per_window", json_number(r.encoder_cost.total() * 1e-9));
  kv.emplace_back("token_weight_bytes", json_number(r.token_cost.weight_bytes));
  kv.emplace_back("token_weight_params", json_number(r.token_cost.weight_params));
  kv.emplace_back("token_cross_kv_bytes", json_number(r.token_cost.cross_kv_bytes));
  kv.emplace_back("token_self_kv_bytes", json_number(r.token_cost.self_kv_bytes));
  kv.emplace_back("allocs_mel_single_thread", json_number(r.mel_single.allocs));
  kv.emplace_back("allocs_per_window_mel", json_number(r.window.mel_allocs));
  kv.emplace_back("allocs_per_window_encoder", json_number(r.window.encoder_allocs));
  kv.emplace_back("allocs_per_window_cross_kv", json_number(r.window.cross_kv_allocs));
  kv.emplace_back("allocs_per_prompt", json_number(r.token.prompt_allocs));
  kv.emplace_back("copy_buffer_mb", json_number(r.copy_buffer_mb));
  const EncoderProfile& st = r.window.encoder_stages;
  const double nw = st.windows > 0 ? st.windows : 1;
  kv.emplace_back("encoder_stages_ms", "{\"conv\": " + json_number(st.conv_ms / nw) + ", \"projections\": " +
                                           json_number(st.projection_ms / nw) + ", \"attention\": " + json_number(st.attention_ms / nw) +
                                           ", \"mlp\": " + json_number(st.mlp_ms / nw) + ", \"norms\": " + json_number(st.norm_ms / nw) + "}");

  std::string spreads = "{";
  for (const Figure& f : figs) {
    if (!f.spread) continue;
    if (spreads.size() > 1) spreads += ", ";
    spreads += "\"" + f.key + "\": " + summary_json(f.s);
  }
  spreads += ", \"copy_gbps\": " + summary_json(r.copy_gbps) + "}";
  kv.emplace_back("spread", spreads);

  std::string shapes = "[";
  for (const GemmCeiling& g : r.sgemm) {
    if (shapes.size() > 1) shapes += ", ";
    shapes += "{\"name\": \"" + g.shape.name + "\", \"M\": " + std::to_string(g.shape.M) +
              ", \"N\": " + std::to_string(g.shape.N) + ", \"K\": " + std::to_string(g.shape.K) +
              ", \"gflops\": " + summary_json(g.gflops) +
              (g.backend_gflops.n > 0 ? ", \"backend_gflops\": " + summary_json(g.backend_gflops) +
                                            ", \"sgemm_alternating_gflops\": " + summary_json(g.sgemm_alternating_gflops)
                                      : std::string()) +
              "}";
  }
  kv.emplace_back("sgemm_shapes", shapes + "]");

  std::string e2e = "[";
  for (const EndToEndTiming& e : r.end_to_end) {
    if (e2e.size() > 1) e2e += ", ";
    e2e += "{\"mode\": \"" + e.mode + "\", \"audio_s\": " + json_number(e.audio_s) + ", \"wall_s\": " +
           summary_json(e.wall_s) + ", \"windows\": " + json_number(e.windows) + ", \"output_tokens\": " + json_number(e.tokens) +
           ", \"allocs\": " + json_number(e.allocs) + "}";
  }
  kv.emplace_back("end_to_end", e2e + "]");
  kv.emplace_back("word_timing_ms_per_window", json_number(r.words.align_ms.median));
  kv.emplace_back("word_timing_decode_ms_per_window", json_number(r.words.decode_ms.median));
  kv.emplace_back("word_timing_fraction_of_decode", json_number(r.words.align_ms.median / r.words.decode_ms.median));
  kv.emplace_back("word_timing_fraction_of_beam5_decode", json_number(r.words.align_ms.median / r.words.beam_decode_ms.median));
  kv.emplace_back("word_timing_window_text_tokens", json_number(r.words_window.text_tokens));
  kv.emplace_back("word_timing_window_ms", json_number(r.words_window.align_ms.median));
  kv.emplace_back("word_timing_fraction_of_window_decode", json_number(r.words_window.align_ms.median / r.decoding.window_decoder_ms));
  kv.emplace_back("word_timing_window_fraction_of_beam5_decode",
                  json_number(r.words_window.align_ms.median / r.words_window.beam_decode_ms.median));
  kv.emplace_back("word_timing", "{\"text_tokens\": " + std::to_string(r.words.text_tokens) + ", \"heads\": \"" +
                                     r.words.heads + "\", \"align_ms\": " + summary_json(r.words.align_ms) +
                                     ", \"greedy_decode_ms\": " + summary_json(r.words.decode_ms) +
                                     ", \"beam5_decode_ms\": " + summary_json(r.words.beam_decode_ms) +
                                     ", \"forward_ms\": " + summary_json(r.words.forward_ms) +
                                     ", \"token_probs_ms\": " + summary_json(r.words.probs_ms) +
                                     ", \"heads_dtw_ms\": " + summary_json(r.words.rest_ms) +
                                     ", \"allocs_per_alignment\": " + json_number(r.words.allocs) + ", \"target_fraction\": " +
                                     json_number(kTargetWordTimingOfDecode) + "}");

  if (r.device.present) {
    // The emulated NPU (issue 11's keys): per steady-state window, the npu1 device's books, and the
    // modelled device time on each generation (cost model in runtime/backend/npu/cost_model.h).
    const DeviceFigures& d = r.device;
    kv.emplace_back("device_launches_per_window", json_number(d.launches));
    kv.emplace_back("device_batches_per_window", json_number(d.batches));
    kv.emplace_back("device_bytes_to_device_per_window", json_number(d.bytes_to_device));
    kv.emplace_back("device_bytes_from_device_per_window", json_number(d.bytes_from_device));
    kv.emplace_back("device_buffers_allocated_per_window", json_number(d.buffers_allocated));
    std::string gens = "[";
    for (const DeviceGeneration& g : d.generations) {
      kv.emplace_back("device_ms_per_window_" + g.name, json_number(g.device_ms.median));
      if (gens.size() > 1) gens += ", ";
      gens += "{\"generation\": \"" + g.name + "\", \"cost_model\": \"" + json_escape(g.cost_model) +
              "\", \"device_ms_per_window\": " + summary_json(g.device_ms) +
              ", \"encoder_device_ms\": " + summary_json(g.encoder_device_ms) +
              ", \"encoder_host_ms\": " + summary_json(g.encoder_host_ms) +
              ", \"modelled_encoder_ms\": " + summary_json(g.encoder_ms) +
              ", \"modelled_window_ms\": " + summary_json(g.window_ms) +
              ", \"modelled_encoder_realtime\": " + json_number(30000.0 / g.encoder_ms.median) +
              ", \"modelled_window_realtime\": " + json_number(30000.0 / g.window_ms.median) + "}";
    }
    kv.emplace_back("device_generations", gens + "]");
    kv.emplace_back("device_products_per_window", json_number(d.products_on_device));
  }

  kv.emplace_back("machine", "{\"nproc\": " + std::to_string(r.machine.nproc) + ", \"cpu_model\": \"" +
                                 json_escape(r.machine.cpu_model) + "\", \"blas_config\": \"" +
                                 json_escape(r.machine.blas_config) + "\", \"blas_core\": \"" +
                                 json_escape(r.machine.blas_core) + "\"}");

  std::fprintf(out, "{\n");
  for (std::size_t i = 0; i < kv.size(); ++i) {
    std::fprintf(out, "  \"%s\": %s%s\n", kv[i].first.c_str(), kv[i].second.c_str(), i + 1 < kv.size() ? "," : "");
  }
  std::fprintf(out, "}\n");
}

void write_table(const BenchResults& r, std::FILE* out) {
  std::fprintf(out, "npuwhisper-bench: %s (%s), backend %s, %d thread(s), %d repetitions\n", r.model_name.c_str(),
               r.model_path.c_str(), r.backend.c_str(), r.threads, r.repeat);
  std::fprintf(out, "machine: %s, %d CPUs online; OpenBLAS %s (%s)\n", r.machine.cpu_model.c_str(), r.machine.nproc,
               r.machine.blas_config.c_str(), r.machine.blas_core.c_str());
  std::fprintf(out, "stage signal: %s\n\n", r.signal.c_str());

  std::fprintf(out, "ceilings (same run)\n");
  for (const GemmCeiling& g : r.sgemm) {
    std::fprintf(out, "  SGEMM %-5s M=%d N=%d K=%d: %8.1f GFLOP/s  [min %.1f, IQR %.1f..%.1f, max %.1f]\n",
                 g.shape.name.c_str(), g.shape.M, g.shape.N, g.shape.K, g.gflops.median, g.gflops.min, g.gflops.q1,
                 g.gflops.q3, g.gflops.max);
    if (g.backend_gflops.n > 0) {
      std::fprintf(out, "        the backend's own product there, alternating with SGEMM: %.1f vs %.1f GFLOP/s (%.0f%%)\n",
                   g.backend_gflops.median, g.sgemm_alternating_gflops.median,
                   100.0 * g.backend_gflops.median / g.sgemm_alternating_gflops.median);
    }
  }
  std::fprintf(out, "  copy (%.0f MiB, read+write bytes): %6.2f GB/s  [min %.2f, IQR %.2f..%.2f, max %.2f]\n\n",
               r.copy_buffer_mb, r.copy_gbps.median, r.copy_gbps.min, r.copy_gbps.q1, r.copy_gbps.q3,
               r.copy_gbps.max);

  // One sampled ceiling and the encoder's per-window fraction of it.
  auto sampled = [&](const char* what, const Summary& g, const Summary& f) {
    if (f.n == 0) return;
    std::fprintf(out, "  %s: %6.1f GFLOP/s  [min %.1f, max %.1f]\n"
                 "          encoder / that sample, median over windows: %5.1f%%  [min %.1f%%, IQR %.1f%%..%.1f%%, max %.1f%%]\n\n",
                 what, g.median, g.min, g.max, 100 * f.median, 100 * f.min, 100 * f.q1, 100 * f.q3, 100 * f.max);
  };
  const std::string paired = "paired: the encoder's own product (Backend::linear) " + r.paired_shape.name + " M=" + std::to_string(r.paired_shape.M) + " N=" +
                             std::to_string(r.paired_shape.N) + " K=" + std::to_string(r.paired_shape.K) +
                             " after each encoder window";
  sampled(paired.c_str(), r.window.paired_product_gflops, r.window.paired_encoder_fraction);
  sampled("interleaved: OpenBLAS's threaded SGEMM, best of the encoder's shapes, after each encoder window",
          r.window.interleaved_sgemm_gflops, r.window.interleaved_encoder_fraction);
  std::fprintf(out, "%-42s %12s %-9s %-36s %s\n", "figure", "median", "unit", "spread [min, IQR, max]",
               "of ceiling");
  for (const Figure& f : figures(r)) {
    char spread[96] = "";
    if (f.spread) {
      std::snprintf(spread, sizeof spread, "[%.4g, %.4g..%.4g, %.4g]", f.s.min, f.s.q1, f.s.q3, f.s.max);
    }
    char frac[96] = "";
    if (f.ceiling > 0) std::snprintf(frac, sizeof frac, "%5.1f%% of %s", 100.0 * f.s.median / f.ceiling, f.ceiling_name.c_str());
    std::fprintf(out, "%-42s %12.4g %-9s %-36s %s\n", f.label.c_str(), f.s.median, f.unit.c_str(), spread, frac);
  }
  std::fprintf(out, "\nwork counted: encoder %.2f GFLOP per window (convs %.2f, projections %.2f, attention %.2f, "
               "MLP %.2f); decoder %.1f MB of weights per token (%.1f M params), plus %.1f MB cross K/V and %.1f MB "
               "self K/V\n",
               r.encoder_cost.total() * 1e-9, r.encoder_cost.conv_flops * 1e-9, r.encoder_cost.projection_flops * 1e-9,
               r.encoder_cost.attention_flops * 1e-9, r.encoder_cost.mlp_flops * 1e-9, r.token_cost.weight_bytes * 1e-6,
               r.token_cost.weight_params * 1e-6, r.token_cost.cross_kv_bytes * 1e-6, r.token_cost.self_kv_bytes * 1e-6);
  const EncoderProfile& st = r.window.encoder_stages;
  if (st.windows > 0) {
    const double c = r.encoder_cost.conv_flops, pr = r.encoder_cost.projection_flops,
                 at = r.encoder_cost.attention_flops, ml = r.encoder_cost.mlp_flops, nw = st.windows;
    std::fprintf(out, "encoder stages (mean ms per window, GFLOP/s): convs %.1f (%.0f), projections %.1f (%.0f), "
                 "attention %.1f (%.0f), MLP %.1f (%.0f), norms+residuals %.1f\n",
                 st.conv_ms / nw, c / (st.conv_ms / nw) * 1e-6, st.projection_ms / nw, pr / (st.projection_ms / nw) * 1e-6,
                 st.attention_ms / nw, at / (st.attention_ms / nw) * 1e-6, st.mlp_ms / nw, ml / (st.mlp_ms / nw) * 1e-6,
                 st.norm_ms / nw);
  }
  std::fprintf(out, "allocations: mel (1 thread) %.2f, window = mel %.2f + encoder %.2f + cross K/V %.2f; prompt %.2f; "
               "token %.2f\n",
               r.mel_single.allocs, r.window.mel_allocs, r.window.encoder_allocs, r.window.cross_kv_allocs,
               r.token.prompt_allocs, r.token.allocs);
  std::fprintf(out, "decoding: a 5-sequence step is %.2fx a one-token step (per repetition, each against its own: "
               "median %.2fx, %.2f-%.2f); a prompt position runs at %.0f%% of the "
               "encoder's GFLOP/s; window decoder part %.1f ms; allocations per 5-sequence step %.2f, per 256-token "
               "prompt %.2f, per window %.2f\n",
               r.decoding.batch5_step_ms.median / r.decoding.token_steps_ms.median,
               r.decoding.batch5_over_token_paired.median, r.decoding.batch5_over_token_paired.min,
               r.decoding.batch5_over_token_paired.max,
               100.0 * (r.prompt_flops_per_token / r.decoding.prompt256_ms.median * 1e-6) /
                   (r.encoder_cost.total() / r.window.encoder_ms.median * 1e-6),
               r.decoding.window_decoder_ms, r.decoding.batch5_allocs, r.decoding.prompt_allocs,
               r.decoding.window_allocs);
  std::fprintf(out, "memory: model file %.1f MiB; RSS after load %.1f, after packing %.1f, after a window %.1f MiB; "
               "peak %.1f MiB (%.2fx the file)\n",
               r.memory.model_file_mb, r.memory.rss_after_load_mb, r.memory.rss_after_pack_mb,
               r.memory.rss_after_window_mb, r.peak_rss_mb, r.peak_rss_mb / r.memory.model_file_mb);
  std::fputs(format_memory_report(r.memory.after_window).c_str(), out);
  std::fprintf(out, "word timing: %.2f ms per window (%d text tokens, heads %s) vs %.2f ms greedy decoding of them "
               "(%.1f %%) and %.2f ms with 5 beams (%.1f %%; target < %.0f %%); %.0f allocations per alignment (its "
               "word list)\n",
               r.words.align_ms.median, r.words.text_tokens, r.words.heads.c_str(), r.words.decode_ms.median,
               100.0 * r.words.align_ms.median / r.words.decode_ms.median, r.words.beam_decode_ms.median,
               100.0 * r.words.align_ms.median / r.words.beam_decode_ms.median, 100.0 * kTargetWordTimingOfDecode,
               r.words.allocs);
  std::fprintf(out, "word timing of a window's %d text tokens: %.2f ms = %.1f %% of the realistic window's decoding "
               "(%d-token prompt + %d five-beam steps, %.2f ms) and %.1f %% of 5-beam decoding of the same tokens "
               "without a prompt (%.2f ms)\n",
               r.words_window.text_tokens, r.words_window.align_ms.median,
               100.0 * r.words_window.align_ms.median / r.decoding.window_decoder_ms, kWindowPromptTokens, kWindowBeamSteps,
               r.decoding.window_decoder_ms, 100.0 * r.words_window.align_ms.median / r.words_window.beam_decode_ms.median,
               r.words_window.beam_decode_ms.median);
  if (r.device.present) {
    const DeviceFigures& d = r.device;
    std::fprintf(out, "\nNPU (emulated; device time modelled, host time measured here) per window: %.0f launches "
                 "in %.0f runs (%.0f products on the device, %.0f on the CPU), %.2f MB to the device, %.2f MB back, %.0f device "
                 "buffers allocated\n",
                 d.launches, d.batches, d.products_on_device, d.products_on_cpu, d.bytes_to_device * 1e-6,
                 d.bytes_from_device * 1e-6, d.buffers_allocated);
    for (const DeviceGeneration& g : d.generations) {
      std::fprintf(out, "  %s: device %.2f ms per window (encoder %.2f); host %.1f ms (encoder %.1f); modelled encoder "
                   "%.1f ms = %.0fx realtime, window (mel + encoder + cross K/V) %.1f ms = %.0fx realtime\n"
                   "        %s\n",
                   g.name.c_str(), g.device_ms.median, g.encoder_device_ms.median, g.window_host_ms.median,
                   g.encoder_host_ms.median, g.encoder_ms.median, 30000.0 / g.encoder_ms.median, g.window_ms.median,
                   30000.0 / g.window_ms.median, g.cost_model.c_str());
    }
  }
  for (const EndToEndTiming& e : r.end_to_end) {
    std::fprintf(out, "end-to-end %s: %.2f s of audio in %.3f s (median of %zu), %.1f windows, %.1f output tokens, "
                 "%.0f allocations per transcription\n",
                 e.mode.c_str(), e.audio_s, e.wall_s.median, e.wall_s.n, e.windows, e.tokens, e.allocs);
  }
}

}  // namespace npw
