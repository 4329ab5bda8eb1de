// Register-only and read-only loops for the machine's ceilings (see bench_peaks.h). Each kernel keeps
// enough independent accumulators to cover the instruction's latency times the ports that run it (12
// chains: 4-cycle FMA latency on two ports, with room), and folds them into a volatile sink so the
// compiler keeps every instruction. Loops over the accumulators are unrolled by pragma: GCC keeps a
// loop-indexed array in memory otherwise, and the figure becomes a store-forwarding rate.
#include "bench_peaks.h"

#include <immintrin.h>

#include <cstdint>
#include <vector>

#include "backend/cpu/int8_kernels.h"
#include "bench_timer.h"
#include "util/aligned_buffer.h"
#include "util/cpu_features.h"
#include "util/simd_target.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

volatile float g_sink_f = 0.0f;
volatile int32_t g_sink_i = 0;

constexpr int64_t kIters = 20'000'000;  // ~40 ms per pass at 3 GHz (two FMAs per cycle)

#define NPW_TARGET_AVX_VNNI __attribute__((target("avx2,fma,avxvnni")))

// FLOPs per call: 2 * lanes * 12 * iters.
NPW_TARGET_AVX512 double fma_loop_avx512(int64_t iters) {
  __m512 a[12];
  #pragma GCC unroll 12
  for (int j = 0; j < 12; ++j) a[j] = _mm512_set1_ps(0.001f * static_cast<float>(j));
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
    #pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) a[j] = _mm512_fmadd_ps(a[j], m, c);
  }
  __m512 s = a[0];
  #pragma GCC unroll 12
  for (int j = 1; j < 12; ++j) s = _mm512_add_ps(s, a[j]);
  alignas(64) float lanes[16];  // (GCC 12's _mm512_reduce_add_ps trips -Wuninitialized)
  _mm512_store_ps(lanes, s);
  g_sink_f = lanes[0] + lanes[15];
  return 2.0 * 16 * 12 * static_cast<double>(iters);
}

NPW_TARGET_AVX2 double fma_loop_avx2(int64_t iters) {
  __m256 a[12];
  #pragma GCC unroll 12
  for (int j = 0; j < 12; ++j) a[j] = _mm256_set1_ps(0.001f * static_cast<float>(j));
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
    #pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) a[j] = _mm256_fmadd_ps(a[j], m, c);
  }
  __m256 s = a[0];
  #pragma GCC unroll 12
  for (int j = 1; j < 12; ++j) s = _mm256_add_ps(s, a[j]);
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  g_sink_f = lanes[0] + lanes[7];
  return 2.0 * 8 * 12 * static_cast<double>(iters);
}

double fma_loop_scalar(int64_t iters) {
  float a[12];
  #pragma GCC unroll 12
  for (int j = 0; j < 12; ++j) a[j] = 0.001f * static_cast<float>(j);
  for (int64_t i = 0; i < iters; ++i) {
    #pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) a[j] = a[j] * 0.999999f + 1e-7f;
  }
  float s = 0.0f;
  for (float v : a) s += v;
  g_sink_f = s;
  return 2.0 * 12 * static_cast<double>(iters);
}

// Ops per call: 2 * (int8 multiply-accumulates) = 2 * 4 bytes * lanes * 12 * iters.
NPW_TARGET_AVX512_VNNI double dot_loop_avx512_vnni(int64_t iters) {
  __m512i a[12];
  #pragma GCC unroll 12
  for (int j = 0; j < 12; ++j) a[j] = _mm512_set1_epi32(j);
  const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-2);
  for (int64_t i = 0; i < iters; ++i) {
    #pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) a[j] = _mm512_dpbusd_epi32(a[j], u, s);
  }
  __m512i t = a[0];
  #pragma GCC unroll 12
  for (int j = 1; j < 12; ++j) t = _mm512_add_epi32(t, a[j]);
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, t);
  g_sink_i = lanes[0] + lanes[15];
  return 2.0 * 64 * 12 * static_cast<double>(iters);
}

NPW_TARGET_AVX_VNNI double dot_loop_avx_vnni(int64_t iters) {
  __m256i a[12];
  #pragma GCC unroll 12
  for (int j = 0; j < 12; ++j) a[j] = _mm256_set1_epi32(j);
  const __m256i u = _mm256_set1_epi8(3), s = _mm256_set1_epi8(-2);
  for (int64_t i = 0; i < iters; ++i) {
    #pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) a[j] = _mm256_dpbusd_avx_epi32(a[j], u, s);
  }
  __m256i t = a[0];
  #pragma GCC unroll 12
  for (int j = 1; j < 12; ++j) t = _mm256_add_epi32(t, a[j]);
  g_sink_i = _mm256_extract_epi32(t, 0) + _mm256_extract_epi32(t, 7);
  return 2.0 * 32 * 12 * static_cast<double>(iters);
}

// Without VNNI an int8 dot product is vpmaddubsw (u8 x s8 pairs to s16) + vpmaddwd (s16 pairs to s32
// against ones) + vpaddd: how the AVX2 int8 kernels accumulate.
NPW_TARGET_AVX2 double dot_loop_avx2(int64_t iters) {
  // 6 accumulators: the products are off the dependency chain (only vpaddd is on it), and more would
  // spill next to the operands.
  __m256i a[6];
  #pragma GCC unroll 6
  for (int j = 0; j < 6; ++j) a[j] = _mm256_set1_epi32(j);
  const __m256i u = _mm256_set1_epi8(3), s = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < iters; ++i) {
    #pragma GCC unroll 6
    for (int j = 0; j < 6; ++j) {
      // An opaque copy of the operand per product, or the compiler would hoist the invariant ones.
      __m256i uj = u;
      __asm__ volatile("" : "+x"(uj));
      a[j] = _mm256_add_epi32(a[j], _mm256_madd_epi16(_mm256_maddubs_epi16(uj, s), ones));
    }
  }
  __m256i t = a[0];
  #pragma GCC unroll 6
  for (int j = 1; j < 6; ++j) t = _mm256_add_epi32(t, a[j]);
  g_sink_i = _mm256_extract_epi32(t, 0) + _mm256_extract_epi32(t, 7);
  return 2.0 * 32 * 6 * static_cast<double>(iters);
}

double dot_loop_scalar(int64_t iters) {
  int32_t a[12];
  #pragma GCC unroll 12
  for (int j = 0; j < 12; ++j) a[j] = j;
  for (int64_t i = 0; i < iters; ++i) {
    #pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) {
      a[j] += static_cast<int32_t>(static_cast<uint8_t>(i)) * static_cast<int8_t>(j - 6);
    }
  }
  int32_t s = 0;
  for (int32_t v : a) s += v;
  g_sink_i = s;
  return 2.0 * 12 * static_cast<double>(iters);
}

NPW_TARGET_AVX2 float read_sum_avx2(const float* p, std::size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_add_ps(s0, _mm256_load_ps(p + i));
    s1 = _mm256_add_ps(s1, _mm256_load_ps(p + i + 8));
    s2 = _mm256_add_ps(s2, _mm256_load_ps(p + i + 16));
    s3 = _mm256_add_ps(s3, _mm256_load_ps(p + i + 24));
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  float s = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
  for (; i < n; ++i) s += p[i];
  return s;
}

float read_sum_scalar(const float* p, std::size_t n) {
  float s[4] = {0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; ++j) s[j] += p[i + j];
  }
  for (; i < n; ++i) s[0] += p[i];
  return s[0] + s[1] + s[2] + s[3];
}

// Runs `loop` on every thread at once, `repeat` timed passes; work units per second * 1e-9.
template <typename Loop>
Summary rate_on_threads(ThreadPool& pool, int threads, int repeat, Loop loop) {
  std::vector<double> work(static_cast<std::size_t>(threads));
  auto pass = [&] {
    pool.parallel_for(threads, [&](int64_t t0, int64_t t1, int) {
      for (int64_t t = t0; t < t1; ++t) work[static_cast<std::size_t>(t)] = loop(static_cast<int>(t));
    });
  };
  pass();
  std::vector<double> rates;
  for (int r = 0; r < repeat; ++r) {
    Stopwatch sw;
    pass();
    const double sec = sw.seconds();
    double total = 0.0;
    for (double w : work) total += w;
    rates.push_back(total / sec * 1e-9);
  }
  return summarize(rates);
}

}  // namespace

MachinePeaks measure_peaks(int threads, int repeat, std::size_t read_buffer_bytes) {
  MachinePeaks p;
  ThreadPool pool(threads);
  const SimdLevel level = active_simd_level();
  double (*fma)(int64_t) = fma_loop_scalar;
  p.fma_path = "scalar";
  if (level == SimdLevel::Avx512) {
    fma = fma_loop_avx512;
    p.fma_path = "avx512";
  } else if (level == SimdLevel::Avx2) {
    fma = fma_loop_avx2;
    p.fma_path = "avx2+fma";
  }
  p.fma_gflops = rate_on_threads(pool, threads, repeat, [&](int) { return fma(kIters); });

  double (*dot)(int64_t) = dot_loop_scalar;
  p.int8_path = "scalar";
  if (level == SimdLevel::Avx512 && __builtin_cpu_supports("avx512vnni")) {
    dot = dot_loop_avx512_vnni;
    p.int8_path = "avx512-vnni";
  } else if (level >= SimdLevel::Avx2 && int8_avx2_has_vnni()) {
    // The instruction the AVX2 int8 kernel then uses (one definition of "has AVX-VNNI" for both).
    dot = dot_loop_avx_vnni;
    p.int8_path = "avx-vnni";
  } else if (level >= SimdLevel::Avx2) {
    dot = dot_loop_avx2;
    p.int8_path = "avx2-maddubs";
  }
  p.int8_gops = rate_on_threads(pool, threads, repeat, [&](int) { return dot(kIters); });

  const std::size_t n = read_buffer_bytes / sizeof(float);
  AlignedBuffer<float> buf(n);
  for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<float>(i % 1000) * 1e-3f;
  float (*sum)(const float*, std::size_t) = level >= SimdLevel::Avx2 ? read_sum_avx2 : read_sum_scalar;
  // One contiguous slice per thread, 64-byte aligned.
  p.read_gbps = rate_on_threads(pool, threads, repeat, [&](int t) {
    const std::size_t b = n * t / threads / 16 * 16, e = t + 1 == threads ? n : n * (t + 1) / threads / 16 * 16;
    g_sink_f = sum(buf.data() + b, e - b);
    return static_cast<double>((e - b) * sizeof(float));
  });
  p.read_buffer_mb = static_cast<double>(read_buffer_bytes) / (1 << 20);
  return p;
}

}  // namespace npw
