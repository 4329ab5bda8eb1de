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

}  // namespace npw
