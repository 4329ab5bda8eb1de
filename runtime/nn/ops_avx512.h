// AVX-512 versions of the element-wise ops whose scalar form is bound by libm calls (erf in GELU,
// exp in softmax) or by double-precision scalar sums (LayerNorm). ops.cpp calls them when the active SIMD level allows; the scalar loops there stay
// the reference.
#pragma once

#include <cstddef>

namespace npw {
namespace avx512 {

// As npw::gelu on one thread: x = 0.5 x (1 + erf(x / sqrt 2)), erf to about 1e-7 absolute.
void gelu(float* x, std::size_t n);

// As npw::softmax on one row of n > 0 floats.
void softmax(float* x, int n);

// One row of npw::layer_norm (n > 0; w and b may be nullptr; y may equal x). Sums in float over 16
// lanes, then the two row statistics in double: within a few ulps of the double-accumulated reference
// for any row length Whisper has.
void layer_norm_row(const float* x, int n, const float* w, const float* b, float eps, float* y);

}  // namespace avx512
}  // namespace npw
