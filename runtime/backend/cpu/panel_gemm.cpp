// The panel layout's size, the portable product over it, and the choice of kernel.
#include "backend/cpu/panel_gemm.h"

#include <algorithm>

#include "model/quant.h"
#include "util/cpu_features.h"

namespace npw {

std::size_t panel_floats(int n_out, int n_in) {
  const std::size_t n_panels = static_cast<std::size_t>((n_out + kPanelCols - 1) / kPanelCols);
  return n_panels * kPanelCols * static_cast<std::size_t>(n_in);
}

int panel_row_group() { return active_simd_level() == SimdLevel::Avx2 ? 12 : kPanelRowGroup; }

namespace {

// Weight (column j of panel p, input i) as f32, for each storage of the layout.
float weight(const float* panels, std::size_t ui, std::size_t p, std::size_t i, int j) {
  return panels[(p * ui + i) * kPanelCols + j];
}
float weight(const uint16_t* panels, std::size_t ui, std::size_t p, std::size_t i, int j) {
  return fp16_to_fp32(panels[(p * ui + i) * kPanelCols + j]);
}
float weight(const Q8Panels& panels, std::size_t ui, std::size_t p, std::size_t i, int j) {
  const std::size_t blocks = ui / kQ8PanelBlock;
  return static_cast<float>(panels.q[(p * ui + i) * kPanelCols + j]) *
         fp16_to_fp32(panels.d[(p * blocks + i / kQ8PanelBlock) * kPanelCols + j]);
}

// Weights kept in rows: element (o, i) at o * n_in + i.
float weight(const FloatRows& rows, std::size_t ui, std::size_t p, std::size_t i, int j) {
  return rows.w[(p * kPanelCols + static_cast<std::size_t>(j)) * ui + i];
}
float weight(const FloatColumns& cols, std::size_t, std::size_t p, std::size_t i, int j) {
  return cols.b[i * cols.ldb + p * kPanelCols + static_cast<std::size_t>(j)];
}
float weight(const HalfRows& rows, std::size_t ui, std::size_t p, std::size_t i, int j) {
  return fp16_to_fp32(rows.w[(p * kPanelCols + static_cast<std::size_t>(j)) * ui + i]);
}
float weight(const Q8Weights& rows, std::size_t ui, std::size_t p, std::size_t i, int j) {
  const std::size_t o = p * kPanelCols + static_cast<std::size_t>(j);
  return q8_weight(rows, o * ui + i);
}

template <typename W>
void portable(const float* X, int ldx, int r0, int r1, const W& panels, int n_out, int n_in, const float* bias,
              float* Y, int ldy) {
  const std::size_t ui = static_cast<std::size_t>(n_in);
  for (int r = r0; r < r1; ++r) {
    const float* x = X + static_cast<std::size_t>(r) * ldx;
    float* y = Y + static_cast<std::size_t>(r) * ldy;
    for (int o0 = 0; o0 < n_out; o0 += kPanelCols) {
      const std::size_t p = static_cast<std::size_t>(o0 / kPanelCols);
      // Only the columns that exist: rows past n_out are not there to read.
      const int n = std::min(kPanelCols, n_out - o0);
      float acc[kPanelCols] = {};
      for (std::size_t i = 0; i < ui; ++i) {
        const float xi = x[i];
        for (int j = 0; j < n; ++j) acc[j] += xi * weight(panels, ui, p, i, j);
      }
      for (int j = 0; j < n; ++j) y[o0 + j] = acc[j] + (bias ? bias[o0 + j] : 0.0f);
    }
  }
}

template <typename W>
void dispatch(const float* X, int ldx, int r0, int r1, const W& panels, int n_out, int n_in, const float* bias,
              float* Y, int ldy) {
  if (r1 <= r0) return;
  if (active_simd_level() == SimdLevel::Avx512) {
    panel_gemm_avx512(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
  } else if (active_simd_level() == SimdLevel::Avx2) {
    panel_gemm_avx2(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
  } else {
    portable(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
  }
}

}  // namespace

void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const float* panels, int n_out, int n_in,
                         const float* bias, float* Y, int ldy) {
  portable(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const uint16_t* panels, int n_out, int n_in,
                         const float* bias, float* Y, int ldy) {
  portable(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const Q8Panels& panels, int n_out, int n_in,
                         const float* bias, float* Y, int ldy) {
  portable(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

void panel_gemm(const float* X, int ldx, int r0, int r1, const float* panels, int n_out, int n_in, const float* bias,
                float* Y, int ldy) {
  dispatch(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

void panel_gemm(const float* X, int ldx, int r0, int r1, const uint16_t* panels, int n_out, int n_in,
                const float* bias, float* Y, int ldy) {
  dispatch(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

void panel_gemm(const float* X, int ldx, int r0, int r1, const Q8Panels& panels, int n_out, int n_in,
                const float* bias, float* Y, int ldy) {
  dispatch(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const FloatRows& rows, int n_out, int n_in,
                         const float* bias, float* Y, int ldy) {
  portable(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const HalfRows& rows, int n_out, int n_in,
                         const float* bias, float* Y, int ldy) {
  portable(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const FloatColumns& cols, int n_out, int n_in,
                         const float* bias, float* Y, int ldy) {
  portable(X, ldx, r0, r1, cols, n_out, n_in, bias, Y, ldy);
}

void panel_gemm_portable(const float* X, int ldx, int r0, int r1, const Q8Weights& rows, int n_out, int n_in,
                         const float* bias, float* Y, int ldy) {
  portable(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

void panel_gemm(const float* X, int ldx, int r0, int r1, const FloatRows& rows, int n_out, int n_in,
                const float* bias, float* Y, int ldy) {
  dispatch(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

void panel_gemm(const float* X, int ldx, int r0, int r1, const HalfRows& rows, int n_out, int n_in,
                const float* bias, float* Y, int ldy) {
  dispatch(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

void panel_gemm(const float* X, int ldx, int r0, int r1, const FloatColumns& cols, int n_out, int n_in,
                const float* bias, float* Y, int ldy) {
  dispatch(X, ldx, r0, r1, cols, n_out, n_in, bias, Y, ldy);
}

void panel_gemm(const float* X, int ldx, int r0, int r1, const Q8Weights& rows, int n_out, int n_in,
                const float* bias, float* Y, int ldy) {
  dispatch(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

}  // namespace npw
