// The weight layout shared by the int8 packer and every int8 kernel. It exists so that the kernels can
// stream each tile's blocks (16 outputs x 32 inputs) in address order instead of gathering q8_0 rows:
// a block's int8 values interleaved four inputs deep (the operand shape of vpdpbusd / vpmaddubsw,
// 512 bytes, whole cache lines) and its 16 scales as IEEE halves (q8_0's own). Outputs are padded to a
// multiple of 16 and inputs to a multiple of 32 with zero weights. 1.0625 bytes a weight, q8_0's own
// size: a one-token step reads every block once, and f32 scales and int32 compensations (640 bytes a
// block) made it a tenth longer; the kernels widen the halves in instructions that, measured on a Zen
// 4, ran beside the vpdpbusd without slowing the many-row products.
//
// A tile keeps its blocks' quants one after another and its scales after them: 544 bytes a block whose
// quants start cache lines (interleaved 544-byte records split every other block's loads, and the no-AMX
// int8 encoder of tiny ran 2.5-5 % slower on a Xeon). The unsigned-activation (VNNI) kernel's
// compensation, -128 x each output's sum of quants over a block, is made from the quants by the kernels
// (8 vpdpbusd a block): once per panel block for all the rows of a many-row product, once per row
// group in a decoder step. Matrices for few rows kept those sums beside the quants (576-byte records,
// 6 % more bytes) until a Xeon measured the remade ones faster in every decoder-step product: the
// tied logits (51865 x 384 / 512) one row 4-5 % and five rows 0-4 %, a tiny / base decoder's layers
// one row 5-6 %, five rows the same (2 threads, alternated, AVX-512 VNNI; at AVX2, which never read
// them, one row 4 %, five rows within 2 %); and the sums were 1.2 MiB of tiny's resident memory.
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
// Bytes of a block's 16 scales.
constexpr std::size_t kInt8ScalesBytes = kInt8Tile * sizeof(uint16_t);

// A walk along one tile's blocks: block b's quants at q + 512 b bytes, its scales (16 halves) at
// scale + 32 b bytes. Kernels hold one per tile and step it block by block; the steps are constants
// (read at run time, they made one-token steps 3 % slower: base q8_0, Xeon).
struct Int8TileWalk {
  const uint8_t* q;
  const uint8_t* scale;
  const Int8Quants* quants(int b) const {
    return reinterpret_cast<const Int8Quants*>(q + static_cast<std::size_t>(b) * sizeof(Int8Quants));
  }
  const uint16_t* scales(int b) const {
    return reinterpret_cast<const uint16_t*>(scale + static_cast<std::size_t>(b) * kInt8ScalesBytes);
  }
  void next() {
    q += sizeof(Int8Quants);
    scale += kInt8ScalesBytes;
  }
};

class Int8PackedMatrix : public PackedMatrix {
 public:
  // pages: how the records are backed (huge pages for a matrix streamed whole every decoder step).
  Int8PackedMatrix(int n_out, int n_in, Pages pages = Pages::Small);
  int n_out() const override { return n_out_; }
  int n_in() const override { return n_in_; }
  std::size_t bytes() const override { return bytes_.size(); }

  int n_tiles() const { return n_tiles_; }
  int n_blocks() const { return n_blocks_; }
  // Tile t's blocks from block b on.
  Int8TileWalk walk(int tile, int block = 0) const {
    const uint8_t* base = bytes_.data() + static_cast<std::size_t>(tile) * tile_bytes_;
    return Int8TileWalk{base + static_cast<std::size_t>(block) * sizeof(Int8Quants),
                        base + scale_offset_ + static_cast<std::size_t>(block) * kInt8ScalesBytes};
  }
  const Int8Quants* quants(int tile, int block) const { return walk(tile, block).quants(0); }
  const uint16_t* scales(int tile, int block) const { return walk(tile, block).scales(0); }
  Int8Quants* quants(int tile, int block) { return const_cast<Int8Quants*>(walk(tile, block).quants(0)); }
  uint16_t* scales(int tile, int block) { return const_cast<uint16_t*>(walk(tile, block).scales(0)); }

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
  // The layout (see the top of the file): bytes per tile, and of the tile's first scales from its start.
  std::size_t tile_bytes_, scale_offset_;
  bool file_quants_ = false;
  // 64-byte aligned (AlignedBuffer), and tile_bytes_ a multiple of 64: every block's quants start a line.
  // Huge pages for a matrix packed for few rows (streamed every step), 4 KiB pages for many rows (see
  // Pages in util/aligned_buffer.h).
  AlignedBuffer<uint8_t> bytes_;
};

// The one rounding rule for weights quantised here and for activations: d = max|x| / 127,
// q = clamp(nearbyint(x * (1 / d)), -127, 127) (round half to even), d = 0 and q = 0 for an all-zero
// block. Returns d. n <= 32; writes n values. A packed weight block keeps d as its nearest half (as ggml's
// q8_0 quantiser stores the d it divided by); activations keep it in f32.
float int8_quantize_block(const float* x, int n, int8_t* q);

}  // namespace npw
