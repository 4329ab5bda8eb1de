// AVX-512 versions of the element-wise ops whose scalar form is bound by libm calls (erf in GELU,
// exp in softmax). ops.cpp calls them when the active SIMD level allows; the scalar loops there stay
// the reference.
#pragma once

#include <cstddef>

namespace npw {
namespace avx512 {

// As npw::gelu on one thread: x = 0.5 x (1 + erf(x / sqrt 2)), erf to about 1e-7 absolute.
void gelu(float* x, std::size_t n);

// As npw::softmax on one row of n > 0 floats.
void softmax(float* x, int n);

}  // namespace avx512
}  // namespace npw
