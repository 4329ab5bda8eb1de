// 16 x 16 float tiles transposed in AVX-512 registers (transpose_rows.h): 16 row loads, the shared
// 64-shuffle transpose (util/transpose_avx512.h), 16 column stores (as floats, or rounded to halves
// by vcvtps2ph, nearest even).
// Column blocks outer, rows inner: each source line (16 floats of a row) is read once, and each
// destination row is written in runs of 64 bytes.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "nn/transpose_rows_simd.h"
#include "util/simd_target.h"
#include "util/transpose_avx512.h"

namespace npw {

namespace {

// kHalves: dst holds uint16_t halves, else floats.
template <bool kHalves>
NPW_TARGET_AVX512 inline __attribute__((always_inline)) void tiles(const float* src, std::size_t lds, int rows,
                                                                   int cols, void* dst, std::size_t ldd) {
  for (int cb = 0; cb < cols; cb += 16) {
    for (int jb = 0; jb < rows; jb += 16) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + static_cast<std::size_t>(jb + i) * lds + cb);
      avx512::transpose16(r);
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c) {
        const std::size_t o = static_cast<std::size_t>(cb + c) * ldd + static_cast<std::size_t>(jb);
        if (kHalves) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(reinterpret_cast<uint16_t*>(dst) + o),
                              _mm512_cvtps_ph(r[c], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        } else {
          _mm512_storeu_ps(reinterpret_cast<float*>(dst) + o, r[c]);
        }
      }
    }
  }
}

}  // namespace

NPW_TARGET_AVX512 void transpose_tiles_avx512(const float* src, std::size_t lds, int rows, int cols, float* dst,
                                              std::size_t ldd) {
  tiles<false>(src, lds, rows, cols, dst, ldd);
}

NPW_TARGET_AVX512 void transpose_tiles_to_halves_avx512(const float* src, std::size_t lds, int rows, int cols,
                                                        uint16_t* dst, std::size_t ldd) {
  tiles<true>(src, lds, rows, cols, dst, ldd);
}

}  // namespace npw
