// The int8 record layout's accessors and the single quantisation rule, kept apart from the kernels so
// that the packer, every activation quantiser and the tests agree on one definition.
#include "backend/cpu/int8_packed.h"

#include <algorithm>
#include <cmath>

#include "model/quant.h"

namespace npw {

Int8PackedMatrix::Int8PackedMatrix(int n_out, int n_in, Pages pages)
    : n_out_(n_out),
      n_in_(n_in),
      n_tiles_((n_out + kInt8Tile - 1) / kInt8Tile),
      n_blocks_((n_in + kInt8Block - 1) / kInt8Block),
      bytes_(MemoryLabel{"packed int8 weights"}, pages) {
  const std::size_t nb = static_cast<std::size_t>(n_blocks_);
  scale_offset_ = nb * sizeof(Int8Quants);
  tile_bytes_ = (nb * (sizeof(Int8Quants) + kInt8ScalesBytes) + 63) / 64 * 64;
  // Sized here, not in the initializer list, which would replace the member's labelled initializer:
  // the memory report then counted the packed weights as unlabelled buffers and heap.
  bytes_.resize(static_cast<std::size_t>(n_tiles_) * tile_bytes_);
}

int8_t Int8PackedMatrix::value(int o, int i) const {
  const int k = i % kInt8Block;
  return quants(o / kInt8Tile, i / kInt8Block)->q[k / kInt8Group][o % kInt8Tile][k % kInt8Group];
}

float Int8PackedMatrix::scale(int o, int i) const {
  return fp16_to_fp32(scales(o / kInt8Tile, i / kInt8Block)[o % kInt8Tile]);
}

bool Int8PackedMatrix::copy_row(int o, float* out) const {
  if (!file_quants_ || o < 0 || o >= n_out_) return false;
  // Block by block (a decoder step embeds each sequence's token through here).
  Int8TileWalk walk = this->walk(o / kInt8Tile, 0);
  const int j = o % kInt8Tile;
  for (int b = 0; b < n_blocks_; ++b, walk.next()) {
    const Int8Quants* q = walk.quants(0);
    const float d = fp16_to_fp32(walk.scales(0)[j]);
    const int k_end = std::min(kInt8Block, n_in_ - b * kInt8Block);
    for (int k = 0; k < k_end; ++k) out[b * kInt8Block + k] = static_cast<float>(q->q[k / kInt8Group][j][k % kInt8Group]) * d;
  }
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
