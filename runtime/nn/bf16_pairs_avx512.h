// Rounding floats to bf16 pairs (two bf16 in one 32-bit lane, the operand format of both vdpbf16ps and
// AMX's tile products), shared by the bf16 attention files. static inline with the AVX512_BF16
// target, as vec_math_avx512.h, so no out-of-line copy can reach code that runs on a lesser CPU.
#pragma once

#include <immintrin.h>

#include "util/simd_target.h"

namespace npw {
namespace avx512 {

// Lane i = (bf16 of element 2i, bf16 of element 2i + 1) of the 32 floats lo[0..15], hi[0..15].
NPW_TARGET_AVX512_BF16 static inline __attribute__((always_inline)) __m512i pairs_of(__m512 lo, __m512 hi) {
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
}

// 16 floats rounded to bf16, each zero-extended into a 32-bit lane.
NPW_TARGET_AVX512_BF16 static inline __attribute__((always_inline)) __m512i bf16_lanes(__m512 v) {
  return _mm512_cvtepu16_epi32(reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v)));
}

}  // namespace avx512
}  // namespace npw
