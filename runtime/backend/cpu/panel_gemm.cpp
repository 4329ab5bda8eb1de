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

namespace {

float widen(float v) { return v; }
float widen(uint16_t h) { return fp16_to_fp32(h); }

template <typename T>
void portable(const float* X, int ldx, int r0, int r1, const T* panels, int n_out, int n_in, const float* bias,
              float* Y, int ldy) {
  const std::size_t ui = static_cast<std::size_t>(n_in);
  for (int r = r0; r < r1; ++r) {
    const float* x = X + static_cast<std::size_t>(r) * ldx;
    float* y = Y + static_cast<std::size_t>(r) * ldy;
    for (int o0 = 0; o0 < n_out; o0 += kPanelCols) {
      const T* p = panels + static_cast<std::size_t>(o0 / kPanelCols) * ui * kPanelCols;
      float acc[kPanelCols] = {};
      for (std::size_t i = 0; i < ui; ++i) {
        const float xi = x[i];
        for (int j = 0; j < kPanelCols; ++j) acc[j] += xi * widen(p[i * kPanelCols + j]);
      }
      const int n = std::min(kPanelCols, n_out - o0);
      for (int j = 0; j < n; ++j) y[o0 + j] = acc[j] + (bias ? bias[o0 + j] : 0.0f);
    }
  }
}

template <typename T>
void dispatch(const float* X, int ldx, int r0, int r1, const T* panels, int n_out, int n_in, const float* bias,
              float* Y, int ldy) {
  if (r1 <= r0) return;
  if (active_simd_level() == SimdLevel::Avx512) {
    panel_gemm_avx512(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
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

void panel_gemm(const float* X, int ldx, int r0, int r1, const float* panels, int n_out, int n_in, const float* bias,
                float* Y, int ldy) {
  dispatch(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

void panel_gemm(const float* X, int ldx, int r0, int r1, const uint16_t* panels, int n_out, int n_in,
                const float* bias, float* Y, int ldy) {
  dispatch(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

}  // namespace npw
