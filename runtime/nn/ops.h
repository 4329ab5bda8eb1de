// The element-wise and per-row pieces of Whisper's transformer blocks (LayerNorm, GELU, softmax,
// bias and residual adds), kept as small pure functions so that the encoder, the decoder and any
// backend share one definition of each, with an optional pool for the big encoder arrays.
// Rows are contiguous n floats unless a leading dimension says otherwise. Outputs may alias inputs
// only where a function works in place.
#pragma once

#include <cmath>
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

// A softmax's denominator over a row too long to keep (the word-timing pass's logits over the
// vocabulary, formed a block of ids at a time while they are in cache): the largest value added so
// far and the sum of e^(x - max) over every value added.
struct ExpSum {
  float max = -INFINITY;
  float sum = 0.0f;
};
// Adds n >= 0 values to t.
void exp_sum_add(ExpSum& t, const float* x, int n);
// Adds the values b holds to a (b's values from elsewhere in the same row).
void exp_sum_merge(ExpSum& a, const ExpSum& b);
// The softmax probability of the value v within the row t holds (0 for an empty row).
float exp_sum_probability(const ExpSum& t, float v);

// y[r][i] += bias[i] for `rows` rows of n floats, rows ld floats apart.
void add_bias(float* y, int rows, int n, int ld, const float* bias, ThreadPool* pool = nullptr);

// y[i] += x[i] for n floats (the residual connection).
void add_inplace(float* y, const float* x, std::size_t n, ThreadPool* pool = nullptr);

}  // namespace npw
