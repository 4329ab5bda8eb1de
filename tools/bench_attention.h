// The encoder's self-attention alone, three ways, so the benchmark shows what the tiled SIMD kernels
// buy: the tiled SIMD path the encoder uses, the portable tiled path (backend products around a
// row softmax, 64 query rows per task), and the whole n_ctx x n_ctx score matrix materialised per
// head (one big product each side), the textbook form.
#pragma once

#include "bench_stats.h"

namespace npw {

class Backend;
class ThreadPool;
struct HParams;

struct AttentionTiming {
  double gflop = 0.0;       // per layer: QK^T and PV, 4 * n_ctx^2 * n_state
  Summary simd_ms;          // per layer; n = 0 when this CPU has no SIMD path for the head size
  Summary avx2_ms;          // the AVX2 kernel, measured too when the CPU has AVX-512; n = 0 otherwise
  Summary bf16_ms;          // the reduced-precision path of the int8 backend; n = 0 without AMX-BF16
                            // or a preferred AVX512_BF16
  Summary int8_f32_ms;      // that path where it is int8 scores with f32 values (AVX512_VNNI, no bf16 task)
  Summary int8_ms;          // that path where both products are int8 (AVX512_VNNI, no AMX)
  Summary sharp_simd_ms;     // simd_ms again with peaked scores (most exps below the float range)
  Summary sharp_reduced_ms;  // the reduced-precision path above with peaked scores; n = 0 where it has none
  Summary portable_ms;
  Summary materialised_ms;
  const char* simd_level = "";
};

AttentionTiming time_encoder_attention(const HParams& hp, Backend& backend, ThreadPool& pool, int repeat);

}  // namespace npw
