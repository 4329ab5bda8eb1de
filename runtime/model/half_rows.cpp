// See half_rows.h.
#include "model/half_rows.h"

#include <immintrin.h>

#include "model/quant.h"
#include "util/cpu_features.h"
#include "util/simd_target.h"

namespace npw {

namespace {

NPW_TARGET_AVX2 void to_halves_f16c(const float* src, uint16_t* dst, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  for (; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

NPW_TARGET_AVX2 void to_floats_f16c(const uint16_t* src, float* dst, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = fp16_to_fp32(src[i]);
}

}  // namespace

void floats_to_halves(const float* src, uint16_t* dst, std::size_t n) {
  if (active_simd_level() != SimdLevel::Scalar) {
    to_halves_f16c(src, dst, n);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

void halves_to_floats(const uint16_t* src, float* dst, std::size_t n) {
  if (active_simd_level() != SimdLevel::Scalar) {
    to_floats_f16c(src, dst, n);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(src[i]);
}

}  // namespace npw
