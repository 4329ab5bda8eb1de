// The plain C++ int8 variant: the reference every SIMD variant must reproduce bit for bit, and the
// fallback on CPUs without AVX2. Written for clarity, not speed.
#include <algorithm>
#include <cmath>

#include "backend/cpu/int8_kernels.h"
#include "model/quant.h"

namespace npw {

namespace {

void quantize_scalar(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1, const Int8Rows& out) {
  for (int m = m0; m < m1; ++m) {
    const float* x = X + static_cast<std::size_t>(m) * ldx;
    int8_t* q = reinterpret_cast<int8_t*>(out.q + static_cast<std::size_t>(m) * out.ldq);
    float* s = out.scale + static_cast<std::size_t>(m) * out.lds;
    for (int b = 0; b < n_blocks; ++b) {
      const int n = std::min(kInt8Block, n_in - b * kInt8Block);
      std::fill(q + b * kInt8Block, q + (b + 1) * kInt8Block, int8_t{0});
      s[b] = int8_quantize_block(x + b * kInt8Block, n, q + b * kInt8Block);
    }
  }
}

void gemm_scalar(const Int8Product& p, int m0, int m1, int t0, int t1) {
  const Int8PackedMatrix& w = *p.w;
  const int n_out = w.n_out();
  for (int m = m0; m < m1; ++m) {
    const int8_t* x = reinterpret_cast<const int8_t*>(p.x.q + static_cast<std::size_t>(m) * p.x.ldq);
    const float* xs = p.x.scale + static_cast<std::size_t>(m) * p.x.lds;
    float* y = p.y + static_cast<std::size_t>(m) * p.ldy;
    for (int t = t0; t < t1; ++t) {
      for (int j = 0; j < kInt8Tile && t * kInt8Tile + j < n_out; ++j) {
        float acc = 0.0f;
        for (int b = 0; b < w.n_blocks(); ++b) {
          const Int8Quants* r = w.quants(t, b);
          int32_t sum = 0;
          for (int g = 0; g < kInt8Block / kInt8Group; ++g) {
            for (int l = 0; l < kInt8Group; ++l) sum += int32_t{x[b * kInt8Block + g * kInt8Group + l]} * r->q[g][j][l];
          }
          acc = std::fma(static_cast<float>(sum), fp16_to_fp32(w.scales(t, b)[j]) * xs[b], acc);
        }
        const int o = t * kInt8Tile + j;
        y[o - p.y_col0] = p.bias ? acc + p.bias[o] : acc;
      }
    }
  }
}

}  // namespace

const Int8Kernel kInt8KernelScalar = {Int8Isa::Scalar, quantize_scalar, gemm_scalar};

}  // namespace npw
