// The contract between the int8 backend and its instruction-set variants, so that each variant lives in
// its own file compiled with its own target attributes while the rest of the build keeps the default
// flags, and so that tests can force any variant the machine supports.
//
// Arithmetic (identical in every variant, hence bit-identical outputs): activations are quantised per
// row and per 32-block with int8_quantize_block()'s rule; for each output o and block b the exact int32
// sum of q_x * q_w is converted to f32 and accumulated as acc = fma(sum, scale_w * scale_x, acc) in
// block order (scale_w: the record's half, widened); Y = acc + bias. The AVX-512 variant feeds
// vpdpbusd, whose first operand is unsigned: its activations are stored as q_x + 128 and its int32
// accumulators start from the compensation -128 * sum(q_w) (made from the block's quants:
// int8_packed.h), which cancels the offset exactly. The AVX2 variant keeps signed activations and uses the sign trick
// (|w| times sign(w) * x) so vpmaddubsw cannot saturate; where the CPU has AVX-VNNI the same operands
// go to the 256-bit vpdpbusd (int8_set_avx2_dot below). The AMX variant computes the same int32 sums
// with tdpbssd on signed activations (its leftover rows go to the VNNI variant in that variant's
// format) and scales them the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/cpu/int8_packed.h"

namespace npw {

enum class Int8Isa { Scalar, Avx2, Avx512Vnni, Amx };

const char* int8_isa_name(Int8Isa isa);

// Quantised activations: row m at q + m * ldq (ldq >= 32 * n_blocks bytes, pad bytes quantise zero)
// and its block scales at scale + m * lds.
struct Int8Rows {
  uint8_t* q;
  std::size_t ldq;
  float* scale;
  std::size_t lds;
};

struct Int8Product {
  Int8Rows x;
  const Int8PackedMatrix* w;
  const float* bias;  // may be null
  float* y;
  std::size_t ldy;
  // The output column y's first float holds (0 for a whole product; a range's first column, a
  // multiple of kInt8Tile, for Backend::linear_range): output o of row m goes to y[m * ldy + o - y_col0].
  std::size_t y_col0 = 0;
};

struct Int8Kernel {
  Int8Isa isa;
  // Quantises rows [m0, m1) of X (n_in valid columns, ldx floats apart) into `out`.
  void (*quantize)(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1, const Int8Rows& out);
  // Y rows [m0, m1), output tiles [t0, t1) of the product.
  void (*gemm)(const Int8Product& p, int m0, int m1, int t0, int t1);
  // As quantize, of GELU(X) (avx512::gelu_ps, lane by lane: the GELU nn's gelu() computes at the
  // AVX-512 level); null in the variants that have no such path (the caller applies GELU first).
  void (*quantize_gelu)(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1,
                        const Int8Rows& out) = nullptr;
};

// The variants this machine can run, best last. Scalar is always present.
std::vector<Int8Isa> int8_supported_isas();
bool int8_isa_supported(Int8Isa isa);
// The best supported variant (detected once per process), capped by active_simd_level().
Int8Isa int8_best_isa();
// Throws npw::Error(Unavailable) when the machine lacks the instructions.
const Int8Kernel& int8_kernel(Int8Isa isa);

// The streams a 5-row product (5 beams or 5 samples) reads its weights in on the AVX-512 VNNI path
// (the AMX variant's too, which hands it few rows): 2 on Intel, 1 on AMD, each where it measured
// faster (int8_kernel_avx512.cpp). 1 or 2 forces one, anything else restores the vendor's choice.
// The same bits either way: for tests and benchmarks.
void int8_set_beam_streams(int streams);

// The AVX2 variant's dot product: vpdpbusd where the CPU has AVX-VNNI (int8_avx2_has_vnni), else
// vpmaddubsw + vpmaddwd; the same bits either way. int8_set_avx2_dot(1) forces the latter, any other
// value restores the CPU's choice: for tests and benchmarks.
bool int8_avx2_has_vnni();
void int8_set_avx2_dot(int dot);

// The AVX-512 activation quantiser, shared by the VNNI and AMX variants: q_x + 128 as u8 when
// offset128, plain s8 otherwise. Only call when the CPU has AVX-512 BW.
void int8_quantize_rows_avx512(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1,
                               const Int8Rows& out, bool offset128);
// The same rows of GELU(X), GELU applied once per value on the way in.
void int8_quantize_gelu_rows_avx512(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1,
                                    const Int8Rows& out, bool offset128);

// True when x[0, n) holds no NaN and no infinity (AVX-512 F; only call when the CPU has it): rows that
// do take the scalar rule at load, whose NaN handling the vector quantiser does not reproduce.
bool int8_row_is_finite_avx512(const float* x, int n);

// The variants (defined in int8_kernel_<isa>.cpp).
extern const Int8Kernel kInt8KernelScalar;
extern const Int8Kernel kInt8KernelAvx2;
extern const Int8Kernel kInt8KernelAvx512Vnni;
extern const Int8Kernel kInt8KernelAmx;

}  // namespace npw
