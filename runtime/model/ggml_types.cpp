// Block geometry and names of GGML tensor types and header ftypes.
#include "model/ggml_types.h"

namespace npw {

bool ggml_type_is_known(int32_t raw) {
  switch (raw) {
    case 0: case 1: case 2: case 3: case 6: case 7: case 8: return true;
    default: return false;
  }
}

const char* ggml_type_name(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return "f32";
    case GgmlType::F16: return "f16";
    case GgmlType::Q4_0: return "q4_0";
    case GgmlType::Q4_1: return "q4_1";
    case GgmlType::Q5_0: return "q5_0";
    case GgmlType::Q5_1: return "q5_1";
    case GgmlType::Q8_0: return "q8_0";
  }
  return "unknown";
}

bool ggml_type_is_quantized(GgmlType t) { return t != GgmlType::F32 && t != GgmlType::F16; }

int ggml_block_elems(GgmlType t) { return ggml_type_is_quantized(t) ? 32 : 1; }

int ggml_block_bytes(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 4;
    case GgmlType::F16: return 2;
    case GgmlType::Q4_0: return 2 + 16;          // f16 scale, 32 nibbles
    case GgmlType::Q4_1: return 2 + 2 + 16;      // f16 scale and min, 32 nibbles
    case GgmlType::Q5_0: return 2 + 4 + 16;      // f16 scale, 32 high bits, 32 nibbles
    case GgmlType::Q5_1: return 2 + 2 + 4 + 16;  // f16 scale and min, high bits, nibbles
    case GgmlType::Q8_0: return 2 + 32;          // f16 scale, 32 int8
  }
  return 0;
}

std::size_t ggml_row_bytes(GgmlType t, int64_t n) {
  return static_cast<std::size_t>(n / ggml_block_elems(t)) * static_cast<std::size_t>(ggml_block_bytes(t));
}

bool ggml_ftype_is_known(int32_t raw) {
  switch (raw) {
    case 0: case 1: case 2: case 3: case 4: case 7: case 8: case 9: return true;
    default: return false;
  }
}

const char* ggml_ftype_name(int32_t raw) {
  switch (raw) {
    case 0: return "f32";
    case 1: return "f16";
    case 2: return "q4_0";
    case 3: return "q4_1";
    case 4: return "q4_1 (some f16)";
    case 7: return "q8_0";
    case 8: return "q5_0";
    case 9: return "q5_1";
    default: return "unknown";
  }
}

}  // namespace npw
