// The portable variants of the emulated products and the dispatch over rows and instruction sets.
// Rows of C are independent, so splitting them over threads changes no bit of the result.
#include <algorithm>
#include <cstring>

#include "backend/npu/emulated_ops.h"
#include "util/cpu_features.h"
#include "util/thread_pool.h"

namespace npw {
namespace npu {

uint16_t f32_to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  const uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding) >> 16);
}

float bf16_to_f32_ftz(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  if ((u & 0x7f800000u) == 0) u &= 0x80000000u;  // zero or subnormal: signed zero
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

void gemm_i8_rows_scalar(const int8_t* A, const int8_t* B, int32_t* C, int m0, int m1, int N, int K) {
  const std::size_t uK = static_cast<std::size_t>(K), uN = static_cast<std::size_t>(N);
  for (int m = m0; m < m1; ++m) {
    const int8_t* a = A + static_cast<std::size_t>(m) * uK;
    for (int n = 0; n < N; ++n) {
      const int8_t* b = B + static_cast<std::size_t>(n) * uK;
      int32_t s = 0;
      for (int k = 0; k < K; ++k) s += static_cast<int32_t>(a[k]) * static_cast<int32_t>(b[k]);
      C[static_cast<std::size_t>(m) * uN + static_cast<std::size_t>(n)] = s;
    }
  }
}

void gemm_bf16_rows_scalar(const uint16_t* A, const uint16_t* B, float* C, int m0, int m1, int N, int K) {
  const std::size_t uK = static_cast<std::size_t>(K), uN = static_cast<std::size_t>(N);
  for (int m = m0; m < m1; ++m) {
    const uint16_t* a = A + static_cast<std::size_t>(m) * uK;
    for (int n = 0; n < N; ++n) {
      const uint16_t* b = B + static_cast<std::size_t>(n) * uK;
      float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int k = 0; k < K; ++k) s[k & 7] += bf16_to_f32_ftz(a[k]) * bf16_to_f32_ftz(b[k]);  // product exact
      C[static_cast<std::size_t>(m) * uN + static_cast<std::size_t>(n)] =
          ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
  }
}

namespace {

// Rows per task: a multiple of the AVX2 kernel's 4-row tile, small enough to balance two threads on
// the smallest device product (256 rows).
constexpr int kRowChunk = 32;

template <typename Fn>
void over_rows(int M, ThreadPool* pool, Fn fn) {
  const int64_t chunks = (M + kRowChunk - 1) / kRowChunk;
  if (!pool || pool->size() == 1 || chunks < 2) {
    fn(0, M);
    return;
  }
  pool->parallel_for(chunks, [&](int64_t c0, int64_t c1, int) {
    fn(static_cast<int>(c0) * kRowChunk, std::min(M, static_cast<int>(c1) * kRowChunk));
  });
}

}  // namespace

void emulate_gemm_i8(const int8_t* A, const int8_t* B, int32_t* C, int M, int N, int K, ThreadPool* pool) {
  if (M <= 0 || N <= 0) return;
  const bool avx2 = active_simd_level() >= SimdLevel::Avx2;
  over_rows(M, pool, [&](int m0, int m1) {
    if (avx2) {
      gemm_i8_rows_avx2(A, B, C, m0, m1, N, K);
    } else {
      gemm_i8_rows_scalar(A, B, C, m0, m1, N, K);
    }
  });
}

void emulate_gemm_bf16(const uint16_t* A, const uint16_t* B, float* C, int M, int N, int K, ThreadPool* pool) {
  if (M <= 0 || N <= 0) return;
  const bool avx2 = active_simd_level() >= SimdLevel::Avx2;
  over_rows(M, pool, [&](int m0, int m1) {
    if (avx2) {
      gemm_bf16_rows_avx2(A, B, C, m0, m1, N, K);
    } else {
      gemm_bf16_rows_scalar(A, B, C, m0, m1, N, K);
    }
  });
}

}  // namespace npu
}  // namespace npw
