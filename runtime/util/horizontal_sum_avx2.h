// Horizontal sums of AVX2 vectors, shared by the few-row products (backend/cpu/skinny_gemm_avx2.cpp)
// and the beams' step attention (nn/step_attention_avx2.cpp): below both, as the house rules want.
// Include only from files compiled for AVX2 (the functions carry the AVX2 target attribute).
#pragma once

#include <immintrin.h>

#include "util/simd_target.h"

namespace npw {

NPW_TARGET_AVX2 inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The four sums of a, b, c, d as one vector (three horizontal adds instead of four reductions).
NPW_TARGET_AVX2 inline __m128 hsum8x4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

}  // namespace npw
