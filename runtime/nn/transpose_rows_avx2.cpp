// 8 x 8 float tiles transposed in AVX2 registers (transpose_rows.h): 8 row loads, the shared
// 24-instruction transpose of 32-bit lanes (util/transpose_avx2.h), 8 column stores (as floats, or
// rounded to halves by vcvtps2ph, nearest even); the loop is transpose_rows_tiles.h's.
#include <immintrin.h>

#include "nn/transpose_rows_simd.h"
#include "util/simd_target.h"
#include "util/transpose_avx2.h"

#define NPW_TRANSPOSE_TARGET NPW_TARGET_AVX2
#include "nn/transpose_rows_tiles.h"

namespace npw {

namespace {

// The floats ride in integer registers, the lanes' type of util's transpose (bits moved as they are).
struct Avx2 {
  using reg = __m256i;
  static constexpr int kW = 8;
  NPW_TARGET_AVX2 static inline reg load(const float* p) { return _mm256_castps_si256(_mm256_loadu_ps(p)); }
  NPW_TARGET_AVX2 static inline void transpose(reg (&r)[8]) { avx2::transpose8(r); }
  NPW_TARGET_AVX2 static inline void store(float* p, reg v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  NPW_TARGET_AVX2 static inline void store(uint16_t* p, reg v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                     _mm256_cvtps_ph(_mm256_castsi256_ps(v), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
};

}  // namespace

NPW_TARGET_AVX2 void transpose_tiles_avx2(const float* src, std::size_t lds, int rows, int cols, float* dst,
                                          std::size_t ldd) {
  transpose_tiles::tiles<Avx2>(src, lds, rows, cols, dst, ldd);
}

NPW_TARGET_AVX2 void transpose_tiles_to_halves_avx2(const float* src, std::size_t lds, int rows, int cols,
                                                    uint16_t* dst, std::size_t ldd) {
  transpose_tiles::tiles<Avx2>(src, lds, rows, cols, dst, ldd);
}

}  // namespace npw
