// `npuwhisper-bench --encoder-pair`: the f32 reference encoder (`cpu`) and the int8 one (`cpu-int8`)
// on the same window, alternating in one process, so that a shared machine's changes of load fall on
// both and the ratio of the two (issue 14's target for `cpu-int8`: >= 2.5x) is measured per pair of
// windows rather than across runs minutes apart.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_machine.h"
#include "bench_stats.h"

namespace npw {

class Model;

struct EncoderPairBench {
  std::string simd_level;  // active SIMD level (NPW_SIMD lowers it)
  std::string int8_kernel;  // the int8 backend's product variant (avx512-vnni, amx, ...)
  bool bf16_attention = false;  // cpu-int8's encoder attention runs in bf16 (AMX or AVX512_BF16)
  bool int8_scores = false;     // and makes its scores in int8 (AVX512_VNNI, no AMX)
  bool int8_f32_attention = false;  // no bf16 task: int8 scores (AVX512_VNNI), f32 softmax and values
  bool int8_values = false;     // both products in int8 (AVX512_VNNI, no AMX), in place of the two above
  Summary f32_ms, int8_ms;  // per window
  Summary speedup;          // f32 / int8, per pair of windows
};

// `repeat` pairs after one untimed window of each. signal: 30 s of audio (window_signal()).
EncoderPairBench time_encoder_pair(const Model& model, const std::vector<float>& signal, int threads, int repeat);

void write_encoder_pair(const EncoderPairBench& b, const MachineInfo& machine, const std::string& model, int threads,
                        bool json, std::FILE* out);

}  // namespace npw
