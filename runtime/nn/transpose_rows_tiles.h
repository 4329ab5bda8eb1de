// The register-tile loop of transpose_rows, written once for both vector widths: included by
// transpose_rows_avx512.cpp and transpose_rows_avx2.cpp after each defines NPW_TRANSPOSE_TARGET (its
// target attribute) and a traits type V (register type, width kW, a row load, the register transpose
// and the column stores as floats or halves). Column blocks outer, rows inner: each source line (kW
// floats of a row) is read once, and each destination row is written in runs of kW elements.
#pragma once

#include <cstddef>
#include <cstdint>

#ifndef NPW_TRANSPOSE_TARGET
#error "define NPW_TRANSPOSE_TARGET (the kernel file's target attribute) before including transpose_rows_tiles.h"
#endif

namespace npw {
namespace transpose_tiles {
namespace {

// dst[c * ldd + j] = src[j * lds + c] over whole tiles (rows and cols multiples of V::kW), as Out.
template <class V, typename Out>
NPW_TRANSPOSE_TARGET inline void tiles(const float* src, std::size_t lds, int rows, int cols, Out* dst,
                                       std::size_t ldd) {
  constexpr int W = V::kW;
  for (int cb = 0; cb < cols; cb += W) {
    for (int jb = 0; jb < rows; jb += W) {
      typename V::reg r[W];
#pragma GCC unroll 16
      for (int i = 0; i < W; ++i) r[i] = V::load(src + static_cast<std::size_t>(jb + i) * lds + cb);
      V::transpose(r);
#pragma GCC unroll 16
      for (int c = 0; c < W; ++c) {
        V::store(dst + static_cast<std::size_t>(cb + c) * ldd + static_cast<std::size_t>(jb), r[c]);
      }
    }
  }
}

}  // namespace
}  // namespace transpose_tiles
}  // namespace npw
