// The vector paths' one algorithm for normalize_columns (column_norm.h), written once for both widths:
// included by column_norm_avx512.cpp and column_norm_avx2.cpp after each defines NPW_COLUMN_TARGET and
// a traits type V (a vector of kW doubles: zero, set1, widen kW floats, add, sub, mul, div, sqrt,
// store, narrow and store kW floats). Each lane does what the scalar loop does for its frame, the
// multiplications and additions kept apart (no fused multiply-add), so every level gives its bits.
#pragma once

#include <cstddef>

#ifndef NPW_COLUMN_TARGET
#error "define NPW_COLUMN_TARGET (the file's target attribute) before including column_norm_blocks.h"
#endif

namespace npw {
namespace column_blocks {
// Each including file gets its own copies, compiled for its own target.
namespace {

// B blocks of kW frames side by side, frames [j, j + kW B): each frame's sums are the same chain of
// additions in row order as the scalar loop's, but B chains run at once, so the adder's latency (one
// dependent double addition per row) is paid once for kW B frames rather than for kW: a head's
// normalisation (105 positions x 1500 frames, AVX-512) took 65 us one block at a time, 41 four at a
// time (eight: 44).
template <class V, int B>
NPW_COLUMN_TARGET inline void block(const float* x, int n, int j, int ld, int first, int rows, float* out, int ldo,
                                    double* mean, double* inv_std) {
  using R = typename V::reg;
  constexpr int W = V::kW;
  const R nd = V::set1(static_cast<double>(n));
  R s[B], m[B], v[B], is[B];
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) s[b] = V::zero();
  for (int r = 0; r < n; ++r) {
    const float* row = x + static_cast<std::ptrdiff_t>(r) * ld + j;
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) s[b] = V::add(s[b], V::widen(row + W * b));
  }
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    m[b] = V::div(s[b], nd);
    V::store(mean + j + W * b, m[b]);
    v[b] = V::zero();
  }
  for (int r = 0; r < n; ++r) {
    const float* row = x + static_cast<std::ptrdiff_t>(r) * ld + j;
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) {
      const R d = V::sub(V::widen(row + W * b), m[b]);
      v[b] = V::add(v[b], V::mul(d, d));
    }
  }
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    is[b] = V::div(V::set1(1.0), V::sqrt(V::div(v[b], nd)));
    V::store(inv_std + j + W * b, is[b]);
  }
  for (int r = 0; r < rows; ++r) {
    const float* row = x + static_cast<std::ptrdiff_t>(first + r) * ld + j;
    float* o = out + static_cast<std::ptrdiff_t>(r) * ldo + j;
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) V::narrow_store(o + W * b, V::mul(V::sub(V::widen(row + W * b), m[b]), is[b]));
  }
}

// Frames [0, returned) of normalize_columns: 4 kW at a time, then kW; the scalar loop does the rest.
template <class V>
NPW_COLUMN_TARGET inline int columns(const float* x, int n, int f, int ld, int first, int rows, float* out, int ldo,
                                     double* mean, double* inv_std) {
  constexpr int W = V::kW;
  int j = 0;
  for (; j + 4 * W <= f; j += 4 * W) block<V, 4>(x, n, j, ld, first, rows, out, ldo, mean, inv_std);
  for (; j + W <= f; j += W) block<V, 1>(x, n, j, ld, first, rows, out, ldo, mean, inv_std);
  return j;
}

}  // namespace
}  // namespace column_blocks
}  // namespace npw
