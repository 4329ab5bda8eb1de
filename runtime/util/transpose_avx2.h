// The 8 x 8 transpose of 32-bit lanes in AVX2 registers, shared by the int8 attention's key layout
// (nn/attention_int8_layouts_avx2.cpp) and the keys laid out for attention as floats or halves
// (nn/transpose_rows_avx2.cpp). Include only from files compiled for AVX2 (the function carries the
// AVX2 target attribute).
#pragma once

#include <immintrin.h>

#include "util/simd_target.h"

namespace npw {
namespace avx2 {

// r[i] lane l becomes r[l] lane i: unpacks of 32 and 64 bits, then 128-bit lane permutes.
NPW_TARGET_AVX2 static inline __attribute__((always_inline)) void transpose8(__m256i r[8]) {
  __m256i t[8];
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
  }
  __m256i u[8];
#pragma GCC unroll 2
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
    u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
    u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
    u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
  }
}

}  // namespace avx2
}  // namespace npw
