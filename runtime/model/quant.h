// Conversions between f32 and every GGML storage type: half floats and the q4_0/q4_1/q5_0/q5_1/q8_0
// block formats exactly as ggml defines them (quantisation version 2). The dequantisers are the
// reference the loader and backends use; the quantisers are the writer that the model generator and
// the tests use, so both directions live in one place.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/ggml_types.h"

namespace npw {

float fp16_to_fp32(uint16_t h);

uint16_t fp32_to_fp16(float f);  // round to nearest even, like ggml's F16C path

// Converts n values of `src` (stored as `type`) to f32. n must be a multiple of the block size.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);
// Writes n f32 values as `type` (ggml's reference quantisers). n must be a multiple of the block size.
// Writes ggml_row_bytes(type, n) bytes.
void quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

// True for the types whose every weight is a signed integer quant times its 32-block's f16 scale
// (q8_0, q5_0, q4_0): their weights are exactly int8 quants and a half scale per block.
bool is_scaled_int8_type(GgmlType type);
// True for the types whose every weight is an unsigned quant times its 32-block's f16 scale plus the
// block's f16 offset (q5_1, q4_1).
bool is_offset_int8_type(GgmlType type);
// Splits a row of n_blocks blocks of either kind into its quants (q, 32 per block, in element order:
// q5_0's 0..31 and q4_0's 0..15 shifted to -16..15 and -8..7, q5_1's and q4_1's as stored), its
// scales (d) and, for q5_1 / q4_1, its offsets (m; left untouched for the other types), as the file's
// halves (bits). Weight i is then static_cast<float>(q[i]) * fp16_to_fp32(d[i / 32]) (+ the widened
// m[i / 32]), bit for bit dequantize_row's value, whether or not the multiply and the add are fused: a
// quant of at most 8 bits times a half's 11-bit significand is exact in f32, so only the sum rounds.
// Any output may be null. Throws for any other type.
void split_int8_row(GgmlType type, const void* src, int n_blocks, int8_t* q, uint16_t* d, uint16_t* m);

}  // namespace npw
