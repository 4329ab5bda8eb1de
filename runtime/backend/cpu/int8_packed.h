// The weight layout shared by the int8 packer and every int8 kernel. It exists so that the kernels can
// stream each tile's blocks (16 outputs x 32 inputs) in address order instead of gathering q8_0 rows:
// a block's int8 values interleaved four inputs deep (the operand shape of vpdpbusd / vpmaddubsw,
// 512 bytes, whole cache lines) and its 16 scales as IEEE halves (q8_0's own). Outputs are padded to a
// multiple of 16 and inputs to a multiple of 32 with zero weights. 1.0625 bytes a weight, q8_0's own
// size: a one-token step reads every block once, and f32 scales and int32 compensations (640 bytes a
// block) made it a tenth longer; the kernels widen the halves in instructions that, measured on a Zen
// 4, ran beside the vpdpbusd without slowing the many-row products.
//
// The unsigned-activation (VNNI) kernel's compensation is made from each block's sums of quants. A
// matrix packed for few rows (a decoder's, read once per step) keeps them, so that a step does not
// spend instructions remaking them: each block's quants, scales and sums one 576-byte record, one
// stream of whole cache lines (Int8BlockSums::Kept). One packed for many rows (the encoder's, the
// cross-attention projections) does not - the many-row kernel makes them once per block for all the
// rows that pass over it - and keeps a tile's quants one after another, its scales after them
// (Int8BlockSums::Remade): 544 bytes a block whose quants still start cache lines (interleaved 544-byte
// records split every other block's loads, and the no-AMX int8 encoder of tiny ran 2.5-5 % slower on
// a Xeon). Kept everywhere the sums were 1.6 MiB of a base model's encoder and cross-attention.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/backend.h"
#include "util/aligned_buffer.h"

namespace npw {

constexpr int kInt8Block = 32;  // inputs per scale (the q8_0 block)
constexpr int kInt8Tile = 16;   // outputs per tile (one zmm of int32 / f32)
constexpr int kInt8Group = 4;   // consecutive inputs summed into one int32 lane

// A block's quants: q[g][j][l] = w[16 t + j][32 b + 4 g + l].
struct alignas(64) Int8Quants {
  int8_t q[kInt8Block / kInt8Group][kInt8Tile][kInt8Group];
};
static_assert(sizeof(Int8Quants) == 512, "a block's quants are whole cache lines");
// neg_sum[j] = -(sum over the block of output j's quants), whose 128-fold is the VNNI kernel's
// compensation (see int8_kernels.h; |sum| <= 32 x 128 fits 16 bits).
struct Int8KeptSums {
  int16_t neg_sum[kInt8Tile];
};

// Where a matrix keeps its blocks' sums (see above).
enum class Int8BlockSums { Kept, Remade };

// Bytes of a block's 16 scales, and of a Kept record: quants, scales, sums.
constexpr std::size_t kInt8ScalesBytes = kInt8Tile * sizeof(uint16_t);
constexpr std::size_t kInt8KeptRecordBytes = sizeof(Int8Quants) + kInt8ScalesBytes + sizeof(Int8KeptSums);
static_assert(kInt8KeptRecordBytes == 576, "a Kept record is whole cache lines");

// A walk along one tile's blocks: block b's quants at q + b * q_step bytes, its scales (16 halves) at
// scale + b * scale_step bytes. Kernels hold one per tile and step it block by block.
struct Int8TileWalk {
  const uint8_t* q;
  const uint8_t* scale;
  std::size_t q_step, scale_step;
  const Int8Quants* quants(int b) const {
    return reinterpret_cast<const Int8Quants*>(q + static_cast<std::size_t>(b) * q_step);
  }
  const uint16_t* scales(int b) const {
    return reinterpret_cast<const uint16_t*>(scale + static_cast<std::size_t>(b) * scale_step);
  }
  void next() {
    q += q_step;
    scale += scale_step;
  }
};
// The sums kept with a Kept record, whose quants are at q.
inline const Int8KeptSums* kept_sums_after(const Int8Quants* q) {
  return reinterpret_cast<const Int8KeptSums*>(reinterpret_cast<const uint8_t*>(q) + sizeof(Int8Quants) +
                                               kInt8ScalesBytes);
}

class Int8PackedMatrix : public PackedMatrix {
 public:
  Int8PackedMatrix(int n_out, int n_in, Int8BlockSums sums = Int8BlockSums::Kept);
  int n_out() const override { return n_out_; }
  int n_in() const override { return n_in_; }
  std::size_t bytes() const override { return bytes_.size(); }

  int n_tiles() const { return n_tiles_; }
  int n_blocks() const { return n_blocks_; }
  bool sums_kept() const { return kept_; }
  // Tile t's blocks from block b on.
  Int8TileWalk walk(int tile, int block = 0) const {
    const uint8_t* base = bytes_.data() + static_cast<std::size_t>(tile) * tile_bytes_;
    return Int8TileWalk{base + static_cast<std::size_t>(block) * q_step_,
                        base + scale_offset_ + static_cast<std::size_t>(block) * scale_step_, q_step_, scale_step_};
  }
  const Int8Quants* quants(int tile, int block) const { return walk(tile, block).quants(0); }
  const uint16_t* scales(int tile, int block) const { return walk(tile, block).scales(0); }
  Int8Quants* quants(int tile, int block) { return const_cast<Int8Quants*>(walk(tile, block).quants(0)); }
  uint16_t* scales(int tile, int block) { return const_cast<uint16_t*>(walk(tile, block).scales(0)); }
  // The block's kept sums; null when the matrix remakes them.
  const Int8KeptSums* kept_sums(int tile, int block) const {
    return kept_ ? kept_sums_after(quants(tile, block)) : nullptr;
  }
  Int8KeptSums* kept_sums(int tile, int block) {
    return const_cast<Int8KeptSums*>(static_cast<const Int8PackedMatrix*>(this)->kept_sums(tile, block));
  }

  // Readers for tests and tools: the stored integer and scale of w[o][i].
  int8_t value(int o, int i) const;
  float scale(int o, int i) const;

  // Exact rows only where the quants are the file's own (q8_0, q5_0, q4_0: quant times its block's f16 scale is
  // what dequantize_row gives); weights quantised here are not the file's values.
  void set_file_quants(bool v) { file_quants_ = v; }
  bool copy_row(int o, float* out) const override;

 private:
  int n_out_;
  int n_in_;
  int n_tiles_;
  int n_blocks_;
  bool kept_;
  // The layout (see the top of the file): bytes per tile, from a block's quants (scales) to the next,
  // and of the tile's first scales from its start.
  std::size_t tile_bytes_, q_step_, scale_step_, scale_offset_;
  bool file_quants_ = false;
  // 64-byte aligned (AlignedBuffer), and tile_bytes_ a multiple of 64: every block's quants start a line.
  // Huge pages where the sums are kept (packed for few rows, streamed every step), 4 KiB pages for
  // the many-row layout (see Pages in util/aligned_buffer.h).
  AlignedBuffer<uint8_t> bytes_;
};

// The one rounding rule for weights quantised here and for activations: d = max|x| / 127,
// q = clamp(nearbyint(x * (1 / d)), -127, 127) (round half to even), d = 0 and q = 0 for an all-zero
// block. Returns d. n <= 32; writes n values. A packed weight block keeps d as its nearest half (as ggml's
// q8_0 quantiser stores the d it divided by); activations keep it in f32.
float int8_quantize_block(const float* x, int n, int8_t* q);

}  // namespace npw
