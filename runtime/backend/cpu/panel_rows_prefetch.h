// Software prefetches of the weight rows a panel kernel gathers next, shared by the AVX2 and AVX-512
// panel kernels (panel_gemm_avx2.cpp, panel_gemm_avx512.cpp). Weights kept in rows are gathered from
// 32 rows a kilobyte or so apart, which the hardware prefetchers do not follow: the rows of panel p's
// slice are asked for while panel p - 1's tiles run. Panels are read in address order and need none.
#pragma once

#include <algorithm>
#include <cstddef>

#include "backend/cpu/panel_gemm.h"

namespace npw {
namespace panel_rows {

template <typename T>
inline void prefetch_rows(const T* w, std::size_t ui, int p, int k0, int kc, int n_out) {
  const int o0 = p * kPanelCols, o1 = std::min(n_out, o0 + kPanelCols);
  constexpr int kLine = 64 / static_cast<int>(sizeof(T));
  for (int o = o0; o < o1; ++o) {
    const T* row = w + static_cast<std::size_t>(o) * ui + static_cast<std::size_t>(k0);
    for (int k = 0; k < kc; k += kLine) __builtin_prefetch(row + k, 0, 3);
  }
}
inline void prefetch_slice(const FloatRows& r, std::size_t ui, int p, int k0, int kc, int n_out) {
  prefetch_rows(r.w, ui, p, k0, kc, n_out);
}
inline void prefetch_slice(const HalfRows& r, std::size_t ui, int p, int k0, int kc, int n_out) {
  prefetch_rows(r.w, ui, p, k0, kc, n_out);
}
inline void prefetch_slice(const Q8Weights& r, std::size_t ui, int p, int k0, int kc, int n_out) {
  prefetch_rows(r.q, ui, p, k0, kc, n_out);
}
template <typename Panels>
inline void prefetch_slice(const Panels&, std::size_t, int, int, int, int) {}

}  // namespace panel_rows
}  // namespace npw
