// Everything one npuwhisper-bench run measured, and its two renderings: one JSON object (numbers are
// medians; spreads, ceilings and the machine in nested objects) and a human-readable table. Rates
// and fractions of ceilings are derived here, from the medians, in one place.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "bench_device.h"
#include "bench_attention.h"
#include "bench_ceilings.h"
#include "bench_cost.h"
#include "bench_decoding.h"
#include "bench_machine.h"
#include "bench_memory.h"
#include "bench_peaks.h"
#include "bench_stages.h"
#include "bench_words.h"

namespace npw {

struct BenchResults {
  MachineInfo machine;
  std::string model_path, model_name, backend;
  int threads = 0, repeat = 0, context = 0, tokens = 0;
  std::string signal;  // what the stage timings were fed
  // How the decoder keeps a window's cross-attention keys and values: "f32" (the reference), "f16"
  // (halves, a reduced-precision backend) or "int8" (the int8 attention task's layouts, where the CPU
  // takes that task).
  std::string cross_attention;

  std::vector<GemmCeiling> sgemm;  // per encoder shape
  GemmShape paired_shape;          // the backend product sampled after each encoder window
  Summary copy_gbps;
  double copy_buffer_mb = 0.0;

  EncoderCost encoder_cost;
  DecoderTokenCost token_cost;
  MelTiming mel_single;
  WindowTiming window;
  AttentionTiming attention;  // one encoder layer's self-attention, three ways
  TokenTiming token;
  std::vector<EndToEndTiming> end_to_end;  // empty without --audio
  WordTimingBench words;                   // word timestamps' extra pass per window
  // The same pass over as many text tokens as the realistic window decodes (kWindowBeamSteps), so
  // that it can be put against that window's decoding (its 224-token prompt and 5-beam steps), the
  // "window's decoding time" of OpenAI's default settings.
  WordTimingBench words_window;
  double peak_rss_mb = 0.0;
  DecodingTiming decoding;  // whisper.cpp's decoding figures and the realistic window
  MachinePeaks peaks;       // register-only FMA and int8 dot peaks, read-only bandwidth
  MemoryFigures memory;
  DecoderTokenCost step_cost;       // bytes a one-token step reads at context 128 (the mean of 0..255)
  double prompt_flops_per_token = 0; // products of one prompt position at context 128
  DeviceFigures device;  // --backend npu-emulator: the emulated NPU's books and modelled times
};

// The figures the issue sets as targets (fractions of this run's own ceilings, and the mel speed).
constexpr double kTargetEncoderOfSgemm = 0.80;
constexpr double kTargetTokenOfCopy = 0.70;
constexpr double kTargetMelRealtime = 3000.0;
constexpr double kTargetWordTimingOfDecode = 0.10;  // word timing below 10 % of a window's decoding

void write_json(const BenchResults& r, std::FILE* out);
void write_table(const BenchResults& r, std::FILE* out);

}  // namespace npw
