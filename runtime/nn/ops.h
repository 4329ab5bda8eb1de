// The element-wise and per-row pieces of Whisper's transformer blocks (LayerNorm, GELU, softmax,
// bias and residual adds), kept as small pure functions so that the encoder, the decoder and any
// backend share one definition of each, with an optional pool for the big encoder arrays.
// Rows are contiguous n floats unless a leading dimension says otherwise. Outputs may alias inputs
// only where a function works in place.
#pragma once

#include <cstddef>

namespace npw {

class ThreadPool;

// PyTorch's LayerNorm default.
constexpr float kLayerNormEps = 1e-5f;

// y[r] = (x[r] - mean) / sqrt(var + eps) * w + b for each of `rows` rows of n floats (biased
// variance, as torch). y may equal x. w and b may be nullptr (scale 1, shift 0).
void layer_norm(const float* x, int rows, int n, const float* w, const float* b, float eps, float* y,
                ThreadPool* pool = nullptr);

// x = 0.5 x (1 + erf(x / sqrt 2)), torch's exact GELU, in place over n floats.
void gelu(float* x, std::size_t n, ThreadPool* pool = nullptr);

// Numerically stable softmax of one row of n > 0 floats, in place.
void softmax(float* x, int n);
// softmax of each of `rows` rows of n floats, rows ld floats apart.
void softmax_rows(float* x, int rows, int n, int ld, ThreadPool* pool = nullptr);

// y[r][i] += bias[i] for `rows` rows of n floats, rows ld floats apart.
void add_bias(float* y, int rows, int n, int ld, const float* bias, ThreadPool* pool = nullptr);

// y[i] += x[i] for n floats (the residual connection).
void add_inplace(float* y, const float* x, std::size_t n, ThreadPool* pool = nullptr);

}  // namespace npw
