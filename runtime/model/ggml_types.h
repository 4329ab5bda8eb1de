// The tensor element types a whisper.cpp GGML file may hold, with their on-disk block geometry.
// The numbering is ggml's per-tensor `ggml_type` (not the header's `ftype`, which numbers differently).
#pragma once

#include <cstddef>
#include <cstdint>

namespace npw {

enum class GgmlType : int32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
};

// True when `raw` names one of the types above.
bool ggml_type_is_known(int32_t raw);
const char* ggml_type_name(GgmlType t);
bool ggml_type_is_quantized(GgmlType t);
// Elements per block (1 for f32/f16, 32 for every quantized type).
int ggml_block_elems(GgmlType t);
// Bytes per block.
int ggml_block_bytes(GgmlType t);
// Bytes for a row of n elements; n must be a multiple of the block size.
std::size_t ggml_row_bytes(GgmlType t, int64_t n);

// Header `ftype` values (after removing the quantisation-version factor of 1000).
enum class GgmlFtype : int32_t {
  AllF32 = 0,
  MostlyF16 = 1,
  MostlyQ4_0 = 2,
  MostlyQ4_1 = 3,
  MostlyQ4_1SomeF16 = 4,
  MostlyQ8_0 = 7,
  MostlyQ5_0 = 8,
  MostlyQ5_1 = 9,
};
bool ggml_ftype_is_known(int32_t raw);
const char* ggml_ftype_name(int32_t raw);

}  // namespace npw
