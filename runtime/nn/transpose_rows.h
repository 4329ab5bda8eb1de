// Rows turned into columns in register tiles: the keys laid out column by column for attention
// (AttentionArgs::k_transposed: a window's cross-attention keys in the decoder, once per window and
// layer - every layer on `cpu`, the word-alignment layers on `cpu-int8` - and the f32 encoder's keys,
// once per layer) and the encoder's log-mel window made time-major. As scalar loops these moved ~4
// GB/s; in 16 x 16 (AVX-512) or 8 x 8 (AVX2) register tiles a window's cross-attention keys and
// values on `cpu` took 16.4-17.5 -> 13.0-13.6 ms (tiny) and 40.2-42.4 -> 34.4-36.8 ms (base f16;
// Xeon, 2 threads).
#pragma once

#include <cstddef>
#include <cstdint>

namespace npw {

// dst[c * ldd + j] = src[j * lds + c] for rows j < rows and columns c < cols (lds >= cols, ldd >= rows;
// the two must not overlap). Exact: the same floats moved.
void transpose_rows(const float* src, std::size_t lds, int rows, int cols, float* dst, std::size_t ldd);

// The same into IEEE halves, each rounded to nearest even as floats_to_halves rounds it (the same bits
// at every SIMD level).
void transpose_rows_to_halves(const float* src, std::size_t lds, int rows, int cols, uint16_t* dst,
                              std::size_t ldd);

}  // namespace npw
