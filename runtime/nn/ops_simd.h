// SIMD versions of the element-wise ops whose scalar form is bound by libm calls (erf in GELU, exp in
// softmax) or by double-precision scalar sums (LayerNorm): one namespace per instruction set, each
// defined in its own file compiled for that set (ops_avx512.cpp, ops_avx2.cpp). ops.cpp calls them
// after its run-time check of the active SIMD level; the scalar loops there stay the reference.
//
// In each namespace:
//   gelu(x, n)      as npw::gelu on one thread: x = 0.5 x (1 + erf(x / sqrt 2)), erf to 4.5e-7
//                   absolute.
//   softmax(x, n)   as npw::softmax on one row of n > 0 floats.
//   row_max(x, n)   the largest of n > 0 floats.
//   sum_exp(x, n, shift)  sum over i of e^(x[i] - shift) for x[i] <= shift, in float over the
//                   vector lanes (softmax's denominator without writing the exps).
//   layer_norm_row  one row of npw::layer_norm (n > 0; w and b may be nullptr; y may equal x): sums in
//                   float over the vector lanes, then the two row statistics in double, within a few
//                   ulps of the double-accumulated reference for any row length Whisper has.
#pragma once

#include <cstddef>

#define NPW_DECLARE_SIMD_OPS                                        \
  void gelu(float* x, std::size_t n);                               \
  void softmax(float* x, int n);                                    \
  float row_max(const float* x, int n);                             \
  float sum_exp(const float* x, int n, float shift);                \
  void layer_norm_row(const float* x, int n, const float* w, const float* b, float eps, float* y);

namespace npw {
namespace avx512 {
NPW_DECLARE_SIMD_OPS
}  // namespace avx512
namespace avx2 {
NPW_DECLARE_SIMD_OPS
}  // namespace avx2
}  // namespace npw

#undef NPW_DECLARE_SIMD_OPS
