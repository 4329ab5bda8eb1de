// The f32 and int8 encoders alternating on one window (bench_encoder_pair.h).
#include "bench_encoder_pair.h"

#include "audio/mel.h"
#include "backend/cpu/int8_kernels.h"
#include "bench_json.h"
#include "bench_stages.h"
#include "bench_timer.h"
#include "model/model.h"
#include "nn/attention.h"
#include "nn/encoder.h"
#include "util/aligned_buffer.h"
#include "util/cpu_features.h"

namespace npw {

EncoderPairBench time_encoder_pair(const Model& model, const std::vector<float>& signal, int threads, int repeat) {
  // One stream each, as the element would make them: their own pools, packed weights and buffers.
  StageRig f32(model, "cpu", threads);
  StageRig int8(model, "cpu-int8", threads);
  AlignedBuffer<float> mel(static_cast<std::size_t>(model.hparams().n_mels) * kMelWindowFrames);
  f32.mel->compute_window_mel(signal.data(), static_cast<int64_t>(signal.size()), mel.data());
  f32.encoder->encode(mel.data());
  int8.encoder->encode(mel.data());
  std::vector<double> f32_ms, int8_ms, ratio;
  for (int r = 0; r < repeat; ++r) {
    Stopwatch a;
    f32.encoder->encode(mel.data());
    const double fa = a.ms();
    Stopwatch b;
    int8.encoder->encode(mel.data());
    const double ib = b.ms();
    f32_ms.push_back(fa);
    int8_ms.push_back(ib);
    ratio.push_back(fa / ib);
  }
  EncoderPairBench out;
  out.simd_level = simd_level_name(active_simd_level());
  out.int8_kernel = int8_isa_name(int8_best_isa());
  out.int8_values = simd_prefers_int8_attention_values();
  out.bf16_attention = !out.int8_values && MultiHeadAttention::bf16_available();
  out.int8_scores = out.bf16_attention && simd_prefers_int8_attention_scores();
  out.int8_f32_attention = !out.int8_values && !out.bf16_attention && simd_prefers_int8_scores_f32_values();
  out.f32_ms = summarize(f32_ms);
  out.int8_ms = summarize(int8_ms);
  out.speedup = summarize(ratio);
  return out;
}

// What the int8 encoder's attention makes its scores and its weighted sum of values in.
static const char* scores_name(const EncoderPairBench& b) {
  return b.int8_values || b.int8_scores || b.int8_f32_attention ? "int8" : b.bf16_attention ? "bf16" : "f32";
}
static const char* values_name(const EncoderPairBench& b) {
  return b.int8_values ? "int8" : b.bf16_attention ? "bf16" : "f32";
}
static const char* attention_name(const EncoderPairBench& b) {
  if (b.int8_values) return "int8 scores and values";
  if (b.int8_scores) return "bf16 (int8 scores)";
  if (b.bf16_attention) return "bf16";
  return b.int8_f32_attention ? "int8 scores, f32 values" : "f32";
}

void write_encoder_pair(const EncoderPairBench& b, const MachineInfo& machine, const std::string& model, int threads,
                        bool json, std::FILE* out) {
  if (json) {
    std::fprintf(out,
                 "{\"model\": \"%s\", \"threads\": %d, \"machine\": {\"nproc\": %d, \"cpu_model\": \"%s\"},\n"
                 " \"simd_level\": \"%s\", \"int8_kernel\": \"%s\", \"int8_bf16_attention\": %s,\n"
                 " \"int8_attention_scores\": \"%s\", \"int8_attention_values\": \"%s\",\n"
                 " \"encoder_f32_ms\": %s, \"encoder_int8_ms\": %s,\n"
                 " \"int8_encoder_speedup\": %s, \"int8_encoder_speedup_spread\": %s}\n",
                 json_escape(model).c_str(), threads, machine.nproc, json_escape(machine.cpu_model).c_str(),
                 json_escape(b.simd_level).c_str(), json_escape(b.int8_kernel).c_str(),
                 b.bf16_attention ? "true" : "false", scores_name(b), values_name(b), json_number(b.f32_ms.median).c_str(),
                 json_number(b.int8_ms.median).c_str(), json_number(b.speedup.median).c_str(),
                 summary_json(b.speedup).c_str());
    return;
  }
  std::fprintf(out, "machine: %s, %d CPUs online; model %s, %d threads; SIMD %s, int8 kernel %s, %s attention\n",
               machine.cpu_model.c_str(), machine.nproc, model.c_str(), threads, b.simd_level.c_str(),
               b.int8_kernel.c_str(), attention_name(b));
  std::fprintf(out, "encoder per window, alternating: f32 (cpu) %.2f ms [%.2f, %.2f], int8 (cpu-int8) %.2f ms [%.2f, %.2f]\n",
               b.f32_ms.median, b.f32_ms.min, b.f32_ms.max, b.int8_ms.median, b.int8_ms.min, b.int8_ms.max);
  std::fprintf(out, "int8 over f32, per pair: %.2fx (median of %zu) [min %.2f, IQR %.2f..%.2f, max %.2f]\n",
               b.speedup.median, b.speedup.n, b.speedup.min, b.speedup.q1, b.speedup.q3, b.speedup.max);
}

}  // namespace npw
