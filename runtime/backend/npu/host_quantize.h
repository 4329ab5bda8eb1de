// The host's side of the device products (kernels/gemm_i8/contract.md, "Host side"): activations
// quantised per row straight into a pooled device buffer, weights per output channel at load, and the
// int32 results turned back into f32 with both scales and the bias. Portable and AVX2 variants give
// identical bits (the same rounding rule, the same single multiply and add per output).
#pragma once

#include <cstddef>
#include <cstdint>

namespace npw {
namespace npu {

// q[k] = clamp(round_half_even(x[k] / d), -127, 127) for k < n with d = max|x| / 127 (d = 0, q = 0
// for an all-zero row); q[k] = 0 for n <= k < n_padded. Returns d.
float quantize_row_i8(const float* x, int n, int n_padded, int8_t* q);

// bf16 (round to nearest even) of x[k] for k < n, zeros up to n_padded.
void convert_row_bf16(const float* x, int n, int n_padded, uint16_t* out);

// y[j] = float(c[j]) * (row_scale * col_scale[j]) + (bias ? bias[j] : 0) for j < n.
void dequantize_row_i8(const int32_t* c, int n, float row_scale, const float* col_scale, const float* bias, float* y);

// y[j] = c[j] + (bias ? bias[j] : 0) for j < n.
void finish_row_f32(const float* c, int n, const float* bias, float* y);

}  // namespace npu
}  // namespace npw
