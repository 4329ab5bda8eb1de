// See transpose_rows.h. The register tiles take whole tiles; what is left at the edges (1500 keys: the
// last 12) goes through the scalar loop, which at the scalar level does all of it, blocked so that
// each source line is read once (16 columns of a row are one cache line).
#include "nn/transpose_rows.h"

#include <algorithm>

#include "model/quant.h"
#include "nn/transpose_rows_simd.h"
#include "util/cpu_features.h"

namespace npw {

namespace {

template <typename Out, typename Convert>
void transpose_scalar(const float* src, std::size_t lds, int j0, int j1, int c0, int c1, Out* dst, std::size_t ldd,
                      Convert convert) {
  constexpr int kCols = 16;
  for (int cb = c0; cb < c1; cb += kCols) {
    const int ce = std::min(c1, cb + kCols);
    for (int j = j0; j < j1; ++j) {
      const float* row = src + static_cast<std::size_t>(j) * lds;
      for (int c = cb; c < ce; ++c) dst[static_cast<std::size_t>(c) * ldd + j] = convert(row[c]);
    }
  }
}

// The register tiles of the active level (whole tiles only), then the scalar loop for the edges.
template <typename Out, typename Convert>
void transpose_any(const float* src, std::size_t lds, int rows, int cols, Out* dst, std::size_t ldd,
                   void (*tiles512)(const float*, std::size_t, int, int, Out*, std::size_t),
                   void (*tiles256)(const float*, std::size_t, int, int, Out*, std::size_t), Convert convert) {
  if (rows <= 0 || cols <= 0) return;
  const SimdLevel level = active_simd_level();
  const int tile = level == SimdLevel::Avx512 ? 16 : level == SimdLevel::Avx2 ? 8 : 0;
  if (tile == 0) {
    transpose_scalar(src, lds, 0, rows, 0, cols, dst, ldd, convert);
    return;
  }
  const int whole_rows = rows / tile * tile, whole_cols = cols / tile * tile;
  if (whole_rows > 0 && whole_cols > 0) {
    (level == SimdLevel::Avx512 ? tiles512 : tiles256)(src, lds, whole_rows, whole_cols, dst, ldd);
  }
  transpose_scalar(src, lds, whole_rows, rows, 0, cols, dst, ldd, convert);
  transpose_scalar(src, lds, 0, whole_rows, whole_cols, cols, dst, ldd, convert);
}

}  // namespace

void transpose_rows(const float* src, std::size_t lds, int rows, int cols, float* dst, std::size_t ldd) {
  transpose_any(src, lds, rows, cols, dst, ldd, transpose_tiles_avx512, transpose_tiles_avx2,
                [](float v) { return v; });
}

void transpose_rows_to_halves(const float* src, std::size_t lds, int rows, int cols, uint16_t* dst,
                              std::size_t ldd) {
  transpose_any(src, lds, rows, cols, dst, ldd, transpose_tiles_to_halves_avx512, transpose_tiles_to_halves_avx2,
                [](float v) { return fp32_to_fp16(v); });
}

}  // namespace npw
