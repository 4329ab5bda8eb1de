// The rounding rules of the int8 attention task on 8 lanes (AVX2), shared by the AVX2 layouts file and
// the AVX-VNNI task so that keys, values and queries round exactly as attention_int8_parts_avx512.h
// rounds them on 16. static inline with the AVX2 target: inlined into both, no copy a lesser CPU runs.
#pragma once

#include <cstdint>
#include <limits>

#include <immintrin.h>

#include "util/simd_target.h"
#include "util/vec_math_avx2.h"

namespace npw {
namespace attention_int8_avx2 {

NPW_AVX2_INLINE __m256 abs8(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }

// 127 / m, or 0 where m is 0 or so small that the factor would overflow (such a row or key rounds to
// zeros): attention_int8::int8_factor's rule.
inline float int8_factor(float m) {
  const float inv = m > 0.0f ? 127.0f / m : 0.0f;
  return inv <= std::numeric_limits<float>::max() ? inv : 0.0f;
}

// x times inv rounded to the nearest integer (ties to even), kept within +-127.
NPW_AVX2_INLINE __m256i round_127(__m256 x, __m256 inv) {
  const __m256i i = _mm256_cvtps_epi32(_mm256_mul_ps(x, inv));
  return _mm256_max_epi32(_mm256_min_epi32(i, _mm256_set1_epi32(127)), _mm256_set1_epi32(-127));
}

// 8 int32 within +-127, plus `offset` (0: s8 bytes; 128: u8), as 8 bytes in lane order in the low 64
// bits. The packs saturate nothing at these magnitudes.
NPW_AVX2_INLINE __m128i bytes_of(__m256i i, int offset) {
  const __m256i x = _mm256_add_epi32(i, _mm256_set1_epi32(offset));
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
  return offset ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w);
}

}  // namespace attention_int8_avx2
}  // namespace npw
