// Load-time packing for the int8 backend. q8_0, q5_0 and q4_0 files must reach the kernels bit-exactly
// (the user chose that quantisation; each weight is an integer times its block's f16 scale), so their
// integers are copied and only the layout changes; everything else is quantised here, once, with the
// same rule the activations use.
#include "backend/cpu/int8_pack.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/int8_kernels.h"
#include "model/half_rows.h"
#include "model/quant.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

[[noreturn]] void refuse(const TensorView& w, const std::string& why) {
  throw Error(ErrorKind::InvalidArgument, "cpu-int8 backend: cannot pack tensor '" + w.name + "': " + why);
}

// One row's scratch: the row as floats, its quants (whole blocks, the last one's pad zero), when
// quantised here its block scales, and an f16 row's bits at an aligned address.
struct RowScratch {
  std::vector<float> f32;
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<uint16_t> halves;  // an f16 row copied to alignment
};

// The activations' rule (int8_quantize_block) over a row: 16 blocks at a time by the AVX-512 quantiser
// where the int8 products use AVX-512 (its results are the rule's, tested at every level), block by
// block otherwise and for rows holding NaN or infinity. A base model's f16 weights took 200 ms to pack
// one value at a time (libm's nearbyint a call per weight); large-v3's would take seconds.
void quantize_row(const float* row, int n_in, int n_blocks, bool vector, int8_t* q, float* d) {
  if (vector && int8_row_is_finite_avx512(row, n_in)) {
    const Int8Rows out{reinterpret_cast<uint8_t*>(q), static_cast<std::size_t>(n_blocks) * kInt8Block, d,
                       static_cast<std::size_t>(n_blocks)};
    int8_quantize_rows_avx512(row, static_cast<std::size_t>(n_in), n_in, n_blocks, 0, 1, out, false);
    return;
  }
  for (int b = 0; b < n_blocks; ++b) {
    const int n = std::min(kInt8Block, n_in - b * kInt8Block);
    std::fill(q + b * kInt8Block, q + (b + 1) * kInt8Block, int8_t{0});
    d[b] = int8_quantize_block(row + b * kInt8Block, n, q + b * kInt8Block);
  }
}

// Fills tile t's records for output rows [o0, o0 + 16) from the file's row bytes.
void pack_tile(const TensorView& w, std::size_t row_bytes, int tile, bool vector, Int8PackedMatrix& out,
               RowScratch& scratch) {
  const int n_in = out.n_in(), n_blocks = out.n_blocks();
  const int o0 = tile * kInt8Tile;
  const int rows = std::min(kInt8Tile, out.n_out() - o0);
  const bool file_quants = is_scaled_int8_type(w.type);
  const std::size_t block_bytes = file_quants ? ggml_row_bytes(w.type, kInt8Block) : 0;
  int8_t* q = scratch.q.data();
  for (int j = 0; j < rows; ++j) {
    const uint8_t* src = w.data + static_cast<std::size_t>(o0 + j) * row_bytes;
    if (file_quants) {
      // q8_0, q5_0, q4_0: the file's integers, and its f16 scales bit for bit (each block's first
      // two bytes).
      split_int8_row(w.type, src, n_blocks, q, nullptr, nullptr);
      for (int b = 0; b < n_blocks; ++b) {
        std::memcpy(&out.scales(tile, b)[j], src + static_cast<std::size_t>(b) * block_bytes, sizeof(uint16_t));
      }
    } else {
      const float* row = reinterpret_cast<const float*>(src);
      if (w.type == GgmlType::F16) {
        // Tensors of a GGML file start wherever their headers end: most rows are not 2-aligned.
        const uint16_t* halves = reinterpret_cast<const uint16_t*>(src);
        if (reinterpret_cast<uintptr_t>(src) % alignof(uint16_t) != 0) {
          std::memcpy(scratch.halves.data(), src, static_cast<std::size_t>(n_in) * sizeof(uint16_t));
          halves = scratch.halves.data();
        }
        halves_to_floats(halves, scratch.f32.data(), static_cast<std::size_t>(n_in));
        row = scratch.f32.data();
      } else if (w.type != GgmlType::F32 || reinterpret_cast<uintptr_t>(src) % alignof(float) != 0) {
        dequantize_row(w.type, src, scratch.f32.data(), n_in);
        row = scratch.f32.data();
      }
      quantize_row(row, n_in, n_blocks, vector, q, scratch.d.data());
      for (int b = 0; b < n_blocks; ++b) {
        const float d = scratch.d[static_cast<std::size_t>(b)];
        uint16_t& scale = out.scales(tile, b)[j];
        scale = fp32_to_fp16(d);
        // A half holds scales up to 65504, weights up to ~8.3 million: beyond, the record would say
        // infinity where the file has a number.
        if (std::isfinite(d) && !std::isfinite(fp16_to_fp32(scale))) {
          refuse(w, "row " + std::to_string(o0 + j) + " has a weight of magnitude " + std::to_string(127.0f * d) +
                        ", beyond what int8 blocks with half scales hold (about 8.3 million)");
        }
      }
    }
    // Each group of 4 consecutive inputs is one int32 lane of the record; rows past n_out stay zero.
    for (int b = 0; b < n_blocks; ++b) {
      Int8Quants* quants = out.quants(tile, b);
      const int8_t* qb = q + static_cast<std::size_t>(b) * kInt8Block;
      for (int g = 0; g < kInt8Block / kInt8Group; ++g) std::memcpy(quants->q[g][j], qb + g * kInt8Group, kInt8Group);
    }
  }
}

}  // namespace

std::unique_ptr<Int8PackedMatrix> int8_pack(const TensorView& w, ThreadPool* pool, Pages pages) {
  if (w.ne[2] != 1 || w.ne[3] != 1) refuse(w, "expected a 2-D weight matrix");
  if (w.ne[0] < 1 || w.ne[1] < 1 || w.ne[0] > INT32_MAX / 2 || w.ne[1] > INT32_MAX / 2) {
    refuse(w, "unsupported shape " + std::to_string(w.ne[0]) + " x " + std::to_string(w.ne[1]));
  }
  if (!w.data) refuse(w, "no data");
  if (!ggml_type_is_known(static_cast<int32_t>(w.type))) refuse(w, "unknown type " + std::to_string(static_cast<int>(w.type)));
  const int n_in = static_cast<int>(w.ne[0]);
  const int n_out = static_cast<int>(w.ne[1]);
  if (n_in % ggml_block_elems(w.type) != 0) {
    refuse(w, "row length " + std::to_string(n_in) + " is not a multiple of the " + ggml_type_name(w.type) + " block");
  }
  const std::size_t row_bytes = ggml_row_bytes(w.type, n_in);
  if (w.nbytes < row_bytes * static_cast<std::size_t>(n_out)) {
    refuse(w, "holds " + std::to_string(w.nbytes) + " bytes, its shape needs " +
                  std::to_string(row_bytes * static_cast<std::size_t>(n_out)));
  }

  auto out = std::make_unique<Int8PackedMatrix>(n_out, n_in, pages);
  out->set_file_quants(is_scaled_int8_type(w.type));
  const Int8Isa isa = int8_best_isa();
  const bool vector = isa == Int8Isa::Avx512Vnni || isa == Int8Isa::Amx;
  auto run = [&](int64_t t0, int64_t t1, int) {
    RowScratch scratch;  // load time: one row per chunk is fine
    scratch.f32.resize(static_cast<std::size_t>(n_in));
    scratch.q.resize(static_cast<std::size_t>(out->n_blocks()) * kInt8Block);
    scratch.d.resize(static_cast<std::size_t>(out->n_blocks()));
    if (w.type == GgmlType::F16) scratch.halves.resize(static_cast<std::size_t>(n_in));
    for (int64_t t = t0; t < t1; ++t) pack_tile(w, row_bytes, static_cast<int>(t), vector, *out, scratch);
  };
  if (pool) {
    pool->parallel_for(out->n_tiles(), run);
  } else {
    run(0, out->n_tiles(), 0);
  }
  return out;
}

}  // namespace npw
