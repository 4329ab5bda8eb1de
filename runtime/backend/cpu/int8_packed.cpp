// The int8 record layout's accessors and the single quantisation rule, kept apart from the kernels so
// that the packer, every activation quantiser and the tests agree on one definition.
#include "backend/cpu/int8_packed.h"

#include <algorithm>
#include <cmath>

#include "model/quant.h"

namespace npw {

Int8PackedMatrix::Int8PackedMatrix(int n_out, int n_in)
    : n_out_(n_out),
      n_in_(n_in),
      n_tiles_((n_out + kInt8Tile - 1) / kInt8Tile),
      n_blocks_((n_in + kInt8Block - 1) / kInt8Block) {
  // Sized here, not in the initializer list, which would replace the member's labelled initializer:
  // the memory report then counted the packed weights as unlabelled buffers and heap.
  records_.resize(static_cast<std::size_t>(n_tiles_) * static_cast<std::size_t>(n_blocks_));
}

int8_t Int8PackedMatrix::value(int o, int i) const {
  const Int8Record* r = record(o / kInt8Tile, i / kInt8Block);
  const int k = i % kInt8Block;
  return r->q[k / kInt8Group][o % kInt8Tile][k % kInt8Group];
}

float Int8PackedMatrix::scale(int o, int i) const {
  return fp16_to_fp32(record(o / kInt8Tile, i / kInt8Block)->scale[o % kInt8Tile]);
}

bool Int8PackedMatrix::copy_row(int o, float* out) const {
  if (!file_quants_ || o < 0 || o >= n_out_) return false;
  for (int i = 0; i < n_in_; ++i) out[i] = static_cast<float>(value(o, i)) * scale(o, i);
  return true;
}

float int8_quantize_block(const float* x, int n, int8_t* q) {
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  const float id = d > 0.0f ? 1.0f / d : 0.0f;
  for (int i = 0; i < n; ++i) {
    const float v = std::nearbyint(x[i] * id);
    q[i] = static_cast<int8_t>(std::min(127.0f, std::max(-127.0f, v)));
  }
  return d;
}

}  // namespace npw
