// Products of many activation rows (the encoder's 1500 frames, a window's cross-attention keys and
// values) by weights stored once, at load, in the layout the micro-kernels read: panels of 32 output
// columns (two AVX-512 vectors, four AVX2 ones), each panel's columns interleaved along the input
// dimension. A BLAS sgemm copies the weight matrix into such panels on every call, once per thread
// when the rows are split over threads; here that copy is made once per model, and the bias is added
// as the results are stored.
// An f16 model's matrices keep their halves in the same layout (half the memory), a q8_0 model's its
// quants with the half block scales beside them (1.0625 bytes a weight instead of 4); each panel
// slice is widened into an L1-sized buffer once per block of rows, so the micro-kernel is the f32 one.
// The AVX-512 kernel is panel_gemm_avx512.cpp, the AVX2 one panel_gemm_avx2.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/cpu/skinny_gemm.h"

namespace npw {

constexpr int kPanelCols = 32;       // output columns per panel: two 16-float vectors
constexpr int kPanelRowGroup = 14;   // activation rows per AVX-512 micro-tile (28 accumulators)

// The rows a product's split should keep together at the active SIMD level: a whole number of the
// kernel's tiles (14 at AVX-512, 2 x 6 at AVX2).
int panel_row_group();

// Floats of the panel layout of a [n_out][n_in] matrix: whole panels, the last one zero-padded.
std::size_t panel_floats(int n_out, int n_in);

// Element (o, i) of W goes to panels[((o / 32) * n_in + i) * 32 + o % 32]. `row(o)` returns W's row
// o (n_in elements of T: float, or the bits of IEEE halves); columns past n_out are zero.
template <typename T, typename RowFn>
void pack_panels(int n_out, int n_in, RowFn row, T* panels) {
  const std::size_t ui = static_cast<std::size_t>(n_in);
  const int n_panels = (n_out + kPanelCols - 1) / kPanelCols;
  for (int p = 0; p < n_panels; ++p) {
    T* dst = panels + static_cast<std::size_t>(p) * ui * kPanelCols;
    for (int j = 0; j < kPanelCols; ++j) {
      const int o = p * kPanelCols + j;
      const T* src = o < n_out ? row(o) : nullptr;
      for (std::size_t i = 0; i < ui; ++i) dst[i * kPanelCols + j] = src ? src[i] : T(0);
    }
  }
}

// A q8_0 matrix in the panel layout: the quants where pack_panels puts elements (q[((o / 32) * n_in +
// i) * 32 + o % 32]), and each block of 32 inputs' scale likewise with n_in / 32 inputs
// (d[((o / 32) * (n_in / 32) + i / 32) * 32 + o % 32]), as the file's halves. Weight (o, i) is the
// f32 product quant x widened scale, as dequantize_row() forms it. n_in must be a multiple of 32.
struct Q8Panels {
  const int8_t* q;
  const uint16_t* d;
};
constexpr int kQ8PanelBlock = 32;

// Y[r][o] = sum_i X[r][i] W[o][i] (+ bias[o]) for rows r in [r0, r1) and every o < n_out, on the
// calling thread, W in the panel layout. The kernel of the active SIMD level (AVX-512 or AVX2), else a
// portable loop over the same layout (the reference the kernels are tested against).
void panel_gemm(const float* X, int ldx, int r0, int r1, const float* panels, int n_out, int n_in, const float* bias,
                float* Y, int ldy);

// The same with the weights as halves (bits of IEEE f16) in the panel layout: exactly the product by
// their f32 widening.
void panel_gemm(const float* X, int ldx, int r0, int r1, const uint16_t* panels, int n_out, int n_in,
                const float* bias, float* Y, int ldy);

// The same with q8_0 weights in the panel layout: exactly the product by their dequantisation.
void panel_gemm(const float* X, int ldx, int r0, int r1, const Q8Panels& panels, int n_out, int n_in,
                const float* bias, float* Y, int ldy);

// The same kernel over weights kept in rows ([n_out][n_in], as the cpu backend keeps a decoder's
// matrices for its one-token steps): each panel slice is gathered from its 32 rows and transposed
// (and widened) into the L1 buffer, so that a product of more rows than the blocked skinny kernels
// take (a prompt) runs at the kernel's rate without a panel copy or a widened one in memory. q8_0 rows
// are the skinny kernels' Q8Weights. Exactly the product by the rows' f32 values.
struct FloatRows {
  const float* w;
};
struct HalfRows {
  const uint16_t* w;
};
void panel_gemm(const float* X, int ldx, int r0, int r1, const FloatRows& rows, int n_out, int n_in,
                const float* bias, float* Y, int ldy);
// A row-major B [n_in][n_out] (rows ldb apart) as the weights W = B^T, so that matmul()'s Y = X B
// runs on the same kernels: each panel slice is 32 consecutive columns of B's rows, copied as they
// are (the word-timing pass's scores against keys stored transposed). Exactly the product by B.
struct FloatColumns {
  const float* b;
  std::size_t ldb;
};
void panel_gemm(const float* X, int ldx, int r0, int r1, const FloatColumns& cols, int n_out, int n_in,
                const float* bias, float* Y, int ldy);
void panel_gemm(const float* X, int ldx, int r0, int r1, const HalfRows& rows, int n_out, int n_in,
                const float* bias, float* Y, int ldy);
void panel_gemm(const float* X, int ldx, int r0, int r1, const Q8Weights& rows, int n_out, int n_in,
                const float* bias, float* Y, int ldy);

// Each storage from output column o0 on (a multiple of 32), so that a product can be split over
// threads by columns: panel_gemm(..., columns_from(w, o0, n_in), n_out - o0, ..., Y + o0, ...).
inline const float* columns_from(const float* panels, int o0, int n_in) {
  return panels + static_cast<std::size_t>(o0) * static_cast<std::size_t>(n_in);
}
inline const uint16_t* columns_from(const uint16_t* panels, int o0, int n_in) {
  return panels + static_cast<std::size_t>(o0) * static_cast<std::size_t>(n_in);
}
inline Q8Panels columns_from(const Q8Panels& p, int o0, int n_in) {
  const std::size_t n = static_cast<std::size_t>(o0) * static_cast<std::size_t>(n_in);
  return Q8Panels{p.q + n, p.d + n / kQ8PanelBlock};
}
inline FloatRows columns_from(const FloatRows& r, int o0, int n_in) { return FloatRows{columns_from(r.w, o0, n_in)}; }
inline FloatColumns columns_from(const FloatColumns& c, int o0, int) { return FloatColumns{c.b + o0, c.ldb}; }
inline HalfRows columns_from(const HalfRows& r, int o0, int n_in) { return HalfRows{columns_from(r.w, o0, n_in)}; }
inline Q8Weights columns_from(const Q8Weights& r, int o0, int n_in) {
  const std::size_t n = static_cast<std::size_t>(o0) * static_cast<std::size_t>(n_in);
  return Q8Weights{r.q + n, r.d + n / kQ8Block, r.m ? r.m + n / kQ8Block : nullptr};
}

// The implementations, for tests and the dispatchers.
void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const float* panels, int n_out, int n_in,
                         const float* bias, float* Y, int ldy);
void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const uint16_t* panels, int n_out, int n_in,
                         const float* bias, float* Y, int ldy);
void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const Q8Panels& panels, int n_out, int n_in,
                         const float* bias, float* Y, int ldy);
void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const float* panels, int n_out, int n_in,
                       const float* bias, float* Y, int ldy);
void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const uint16_t* panels, int n_out, int n_in,
                       const float* bias, float* Y, int ldy);
void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const Q8Panels& panels, int n_out, int n_in,
                       const float* bias, float* Y, int ldy);
void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const float* panels, int n_out, int n_in,
                     const float* bias, float* Y, int ldy);
void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const uint16_t* panels, int n_out, int n_in,
                     const float* bias, float* Y, int ldy);
void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const Q8Panels& panels, int n_out, int n_in,
                     const float* bias, float* Y, int ldy);

void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const FloatRows& rows, int n_out, int n_in,
                         const float* bias, float* Y, int ldy);
void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const FloatColumns& cols, int n_out, int n_in,
                         const float* bias, float* Y, int ldy);
void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const HalfRows& rows, int n_out, int n_in,
                         const float* bias, float* Y, int ldy);
void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const Q8Weights& rows, int n_out, int n_in,
                         const float* bias, float* Y, int ldy);
void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const FloatRows& rows, int n_out, int n_in,
                       const float* bias, float* Y, int ldy);
void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const FloatColumns& cols, int n_out, int n_in,
                       const float* bias, float* Y, int ldy);
void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const HalfRows& rows, int n_out, int n_in,
                       const float* bias, float* Y, int ldy);
void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const Q8Weights& rows, int n_out, int n_in,
                       const float* bias, float* Y, int ldy);
void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const FloatRows& rows, int n_out, int n_in,
                     const float* bias, float* Y, int ldy);
void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const FloatColumns& cols, int n_out, int n_in,
                     const float* bias, float* Y, int ldy);
void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const HalfRows& rows, int n_out, int n_in,
                     const float* bias, float* Y, int ldy);
void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const Q8Weights& rows, int n_out, int n_in,
                     const float* bias, float* Y, int ldy);

}  // namespace npw
