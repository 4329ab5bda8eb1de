// The weight layout shared by the int8 packer and every int8 kernel. It exists so that the kernels can
// stream one contiguous record per (16 outputs x 32 inputs) instead of gathering q8_0 rows: the record
// holds the int8 values interleaved four inputs deep (the operand shape of vpdpbusd / vpmaddubsw), the
// 16 per-block scales as IEEE halves (q8_0's own), and the 16 block sums the unsigned-activation (VNNI)
// kernel's compensation is made from. Outputs are padded to a multiple of 16 and inputs to a multiple
// of 32 with zero weights. 576 bytes, 1.125 a weight (q8_0's 1.0625 and the sums): a one-token step is a read
// of every record, and f32 scales and int32 compensations (640 bytes) made it a tenth longer; the
// kernels widen the halves and sums in instructions that, measured on a Zen 4, ran beside the
// vpdpbusd without slowing the many-row products.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/backend.h"
#include "util/aligned_buffer.h"

namespace npw {

constexpr int kInt8Block = 32;  // inputs per scale (the q8_0 block)
constexpr int kInt8Tile = 16;   // outputs per record (one zmm of int32 / f32)
constexpr int kInt8Group = 4;   // consecutive inputs summed into one int32 lane

// One record: q[g][j][l] = w[16 t + j][32 b + 4 g + l]; scale[j] = the half s such that w ~ s * q;
// neg_sum[j] = -(sum over the block of q[.][j][.]), whose 128-fold is the VNNI kernel's compensation
// (see int8_kernels.h for why; |sum| <= 32 x 128 fits 16 bits).
struct alignas(64) Int8Record {
  int8_t q[kInt8Block / kInt8Group][kInt8Tile][kInt8Group];
  uint16_t scale[kInt8Tile];
  int16_t neg_sum[kInt8Tile];
};
static_assert(sizeof(Int8Record) == 576, "records must stay a whole number of cache lines");

class Int8PackedMatrix : public PackedMatrix {
 public:
  Int8PackedMatrix(int n_out, int n_in);
  int n_out() const override { return n_out_; }
  int n_in() const override { return n_in_; }
  std::size_t bytes() const override { return records_.size() * sizeof(Int8Record); }

  int n_tiles() const { return n_tiles_; }
  int n_blocks() const { return n_blocks_; }
  // Records of tile t are contiguous over the blocks, so a kernel walking K reads sequentially.
  const Int8Record* record(int tile, int block) const {
    return records_.data() + static_cast<std::size_t>(tile) * n_blocks_ + block;
  }
  Int8Record* record(int tile, int block) {
    return records_.data() + static_cast<std::size_t>(tile) * n_blocks_ + block;
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
  bool file_quants_ = false;
  AlignedBuffer<Int8Record> records_{MemoryLabel{"packed int8 weights"}, Pages::Huge};
};

// The one rounding rule for weights quantised here and for activations: d = max|x| / 127,
// q = clamp(nearbyint(x * (1 / d)), -127, 127) (round half to even), d = 0 and q = 0 for an all-zero
// block. Returns d. n <= 32; writes n values. A weight record keeps d as its nearest half (as ggml's
// q8_0 quantiser stores the d it divided by); activations keep it in f32.
float int8_quantize_block(const float* x, int n, int8_t* q);

}  // namespace npw
