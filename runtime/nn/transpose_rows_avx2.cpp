// 8 x 8 float tiles transposed in AVX2 registers (transpose_rows.h): 8 row loads, the shared 24-instruction
// transpose of 32-bit lanes (util/transpose_avx2.h), 8 column stores (as floats, or rounded to halves by
// vcvtps2ph, nearest even). Column blocks outer, rows inner, as the AVX-512 kernel.
#include <immintrin.h>

#include "nn/transpose_rows_simd.h"
#include "util/simd_target.h"
#include "util/transpose_avx2.h"

namespace npw {

namespace {

// kHalves: dst holds uint16_t halves, else floats.
template <bool kHalves>
NPW_TARGET_AVX2 inline __attribute__((always_inline)) void tiles(const float* src, std::size_t lds, int rows,
                                                                 int cols, void* dst, std::size_t ldd) {
  for (int cb = 0; cb < cols; cb += 8) {
    for (int jb = 0; jb < rows; jb += 8) {
      __m256i r[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) {
        r[i] = _mm256_castps_si256(_mm256_loadu_ps(src + static_cast<std::size_t>(jb + i) * lds + cb));
      }
      avx2::transpose8(r);
#pragma GCC unroll 8
      for (int c = 0; c < 8; ++c) {
        const std::size_t o = static_cast<std::size_t>(cb + c) * ldd + static_cast<std::size_t>(jb);
        if (kHalves) {
          _mm_storeu_si128(reinterpret_cast<__m128i*>(reinterpret_cast<uint16_t*>(dst) + o),
                           _mm256_cvtps_ph(_mm256_castsi256_ps(r[c]), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        } else {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(reinterpret_cast<float*>(dst) + o), r[c]);
        }
      }
    }
  }
}

}  // namespace

NPW_TARGET_AVX2 void transpose_tiles_avx2(const float* src, std::size_t lds, int rows, int cols, float* dst,
                                          std::size_t ldd) {
  tiles<false>(src, lds, rows, cols, dst, ldd);
}

NPW_TARGET_AVX2 void transpose_tiles_to_halves_avx2(const float* src, std::size_t lds, int rows, int cols,
                                                    uint16_t* dst, std::size_t ldd) {
  tiles<true>(src, lds, rows, cols, dst, ldd);
}

}  // namespace npw
