// Timing of one encoder layer's self-attention (see bench_attention.h), on random activations of
// the model's shape.
#include "bench_attention.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "bench_timer.h"
#include "model/hparams.h"
#include "nn/attention.h"
#include "nn/encoder.h"
#include "nn/ops.h"
#include "util/aligned_buffer.h"
#include "util/cpu_features.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

template <typename Fn>
Summary time_it(int repeat, Fn&& fn) {
  fn();
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(repeat));
  for (int r = 0; r < repeat; ++r) {
    Stopwatch t;
    fn();
    ms.push_back(t.ms());
  }
  return summarize(ms);
}

}  // namespace

AttentionTiming time_encoder_attention(const HParams& hp, Backend& backend, ThreadPool& pool, int repeat) {
  const int n = hp.n_audio_ctx, width = hp.n_audio_state, heads = hp.n_audio_head, d = width / heads;
  // Laid out as the encoder holds them (q | k | v | output in rows of Encoder::wide_stride floats):
  // the row stride decides which L1 sets a head's slice of all rows falls into.
  const int ld = Encoder::wide_stride(width);
  AlignedBuffer<float> qkv(static_cast<std::size_t>(n) * ld);
  uint32_t state = 7u;
  for (std::size_t i = 0; i < qkv.size(); ++i) {
    state = state * 1664525u + 1013904223u;
    qkv[i] = static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
  }
  AttentionArgs a;
  a.n_head = heads;
  a.d_head = d;
  a.q = qkv.data();
  a.k = qkv.data() + width;
  a.v = qkv.data() + 2 * width;
  a.ldq = a.ldk = a.ldv = ld;
  a.n_q = a.n_kv = n;
  a.out = qkv.data() + 3 * width;
  a.ldo = ld;

  AttentionTiming t;
  t.gflop = 4.0 * n * static_cast<double>(n) * width * 1e-9;
  MultiHeadAttention mha(n, pool.size(), width);
  const SimdLevel level = active_simd_level();
  t.simd_level = simd_level_name(level);
  if (mha.uses_simd(a)) t.simd_ms = time_it(repeat, [&] { mha.run(backend, &pool, a); });
  if (level == SimdLevel::Avx512) {  // what a CPU without AVX-512 would run, on this one
    set_active_simd_level(SimdLevel::Avx2);
    if (mha.uses_simd(a)) t.avx2_ms = time_it(repeat, [&] { mha.run(backend, &pool, a); });
    set_active_simd_level(level);
  }
  a.reduced_precision = true;
  if (mha.uses_bf16(a)) t.bf16_ms = time_it(repeat, [&] { mha.run(backend, &pool, a); });
  if (mha.uses_int8_f32(a)) t.int8_f32_ms = time_it(repeat, [&] { mha.run(backend, &pool, a); });
  if (mha.uses_int8(a)) t.int8_ms = time_it(repeat, [&] { mha.run(backend, &pool, a); });
  a.reduced_precision = false;
  set_active_simd_level(SimdLevel::Scalar);
  t.portable_ms = time_it(repeat, [&] { mha.run(backend, &pool, a); });
  set_active_simd_level(level);

  AlignedBuffer<float> scores(static_cast<std::size_t>(n) * n);
  const float alpha = 1.0f / std::sqrt(static_cast<float>(d));
  t.materialised_ms = time_it(repeat, [&] {
    for (int h = 0; h < heads; ++h) {
      const std::size_t col = static_cast<std::size_t>(h) * d;
      backend.matmul(false, true, n, n, d, alpha, a.q + col, a.ldq, a.k + col, a.ldk, 0.0f, scores.data(), n);
      softmax_rows(scores.data(), n, n, n, &pool);
      backend.matmul(false, false, n, d, n, 1.0f, scores.data(), n, a.v + col, a.ldv, 0.0f, a.out + col, a.ldo);
    }
  });

  // Peaked scores, as a trained model's sharp heads make them: queries 1000x larger, so that most of a
  // row's exps fall below the float range. Where the arithmetic made subnormals there, Intel cores took
  // a microcode assist for each (the f32 layer ran 5x slower): these should match the figures above.
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < width; ++c) qkv[static_cast<std::size_t>(i) * ld + c] *= 1000.0f;
  if (mha.uses_simd(a)) t.sharp_simd_ms = time_it(repeat, [&] { mha.run(backend, &pool, a); });
  a.reduced_precision = true;
  if (mha.uses_bf16(a) || mha.uses_int8_f32(a) || mha.uses_int8(a)) {
    t.sharp_reduced_ms = time_it(repeat, [&] { mha.run(backend, &pool, a); });
  }
  return t;
}

}  // namespace npw
