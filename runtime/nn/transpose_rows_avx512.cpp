// 16 x 16 float tiles transposed in AVX-512 registers (transpose_rows.h): 16 row loads, the shared
// 64-shuffle transpose (util/transpose_avx512.h), 16 column stores (as floats, or rounded to halves
// by vcvtps2ph, nearest even); the loop is transpose_rows_tiles.h's.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "nn/transpose_rows_simd.h"
#include "util/simd_target.h"
#include "util/transpose_avx512.h"

#define NPW_TRANSPOSE_TARGET NPW_TARGET_AVX512
#include "nn/transpose_rows_tiles.h"

namespace npw {

namespace {

struct Avx512 {
  using reg = __m512;
  static constexpr int kW = 16;
  NPW_TARGET_AVX512 static inline reg load(const float* p) { return _mm512_loadu_ps(p); }
  NPW_TARGET_AVX512 static inline void transpose(reg (&r)[16]) { avx512::transpose16(r); }
  NPW_TARGET_AVX512 static inline void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  NPW_TARGET_AVX512 static inline void store(uint16_t* p, reg v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                        _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
};

}  // namespace

NPW_TARGET_AVX512 void transpose_tiles_avx512(const float* src, std::size_t lds, int rows, int cols, float* dst,
                                              std::size_t ldd) {
  transpose_tiles::tiles<Avx512>(src, lds, rows, cols, dst, ldd);
}

NPW_TARGET_AVX512 void transpose_tiles_to_halves_avx512(const float* src, std::size_t lds, int rows, int cols,
                                                        uint16_t* dst, std::size_t ldd) {
  transpose_tiles::tiles<Avx512>(src, lds, rows, cols, dst, ldd);
}

}  // namespace npw
