// AIE core program of gemm_i8 (kernels/gemm_i8/contract.md): one core's share of C = A * B^T in
// int8 x int8 -> int32, exact. Compiled with Peano for aie2 (npu1) or aie2p (npu2) with the tile
// sizes the IRON design (../gemm_design.py) places; the object is linked into every core.
//
// The tiles arrive in data memory already blocked by the memory tiles' DMAs, so each mmul operand is
// one contiguous vector load:
//   A: (m/r) x (k/s) blocks, each r x s row-major;
//   B: (n/t) x (k/s) blocks, each t x s row-major (B is stored by output row, so a block is the
//      transpose of the s x t operand the multiplier wants: aie::transpose turns it round in registers,
//      as the DMA moves 32-bit words and cannot transpose int8);
//   C: (m/r) x (n/t) blocks, each r x t row-major; the memory tile un-blocks it on the way out.
// The accumulator is 32-bit and stored with shift 0: no rounding, no saturation (the contract's sums
// stay below 2^30).
#include <aie_api/aie.hpp>
#include <stdint.h>

#ifndef DIM_M
#define DIM_M 64
#endif
#ifndef DIM_K
#define DIM_K 64
#endif
#ifndef DIM_N
#define DIM_N 32
#endif
#ifndef MMUL_R
#define MMUL_R 4
#endif
#ifndef MMUL_S
#define MMUL_S 8
#endif
#ifndef MMUL_T
#define MMUL_T 8
#endif

namespace {

template <unsigned m, unsigned k, unsigned n, unsigned r, unsigned s, unsigned t>
void gemm_tile(const int8_t* __restrict a, const int8_t* __restrict b, int32_t* __restrict c) {
  using MMUL = aie::mmul<r, s, t, int8, int8, acc32>;
  static_assert(m % r == 0 && k % s == 0 && n % t == 0, "the tile must hold whole mmul blocks");
  constexpr unsigned blocks_m = m / r, blocks_k = k / s, blocks_n = n / t;
  for (unsigned i = 0; i < blocks_m; ++i) {
    const int8_t* a_row = a + i * blocks_k * MMUL::size_A;
    for (unsigned j = 0; j < blocks_n; ++j) {
      int32_t* c_block = c + (i * blocks_n + j) * MMUL::size_C;
      const int8_t* b_col = b + j * blocks_k * MMUL::size_B;
      // Continue the sum of the earlier k tiles of this output tile (zeroed before the first).
      MMUL acc(aie::load_v<MMUL::size_C>(c_block));
      for (unsigned p = 0; p < blocks_k; ++p) {
        const aie::vector<int8, MMUL::size_A> va = aie::load_v<MMUL::size_A>(a_row + p * MMUL::size_A);
        const aie::vector<int8, MMUL::size_B> vb = aie::load_v<MMUL::size_B>(b_col + p * MMUL::size_B);
        acc.mac(va, aie::transpose(vb, t, s));
      }
      aie::store_v(c_block, acc.template to_vector<int32>(0));
    }
  }
}

template <unsigned m, unsigned n>
void zero_tile(int32_t* __restrict c) {
  constexpr unsigned lanes = 16;
  static_assert((m * n) % lanes == 0, "the C tile must be whole vectors");
  const aie::vector<int32, lanes> zeros = aie::zeros<int32, lanes>();
  for (unsigned i = 0; i < m * n; i += lanes) aie::store_v(c + i, zeros);
}

}  // namespace

extern "C" {

// C tile := 0 (a C tile is never accumulated into what a previous launch left).
void gemm_i8_zero(int32_t* c) { zero_tile<DIM_M, DIM_N>(c); }

// C tile += A tile * B tile^T for one k step.
void gemm_i8_tile(const int8_t* a, const int8_t* b, int32_t* c) {
  gemm_tile<DIM_M, DIM_K, DIM_N, MMUL_R, MMUL_S, MMUL_T>(a, b, c);
}

}  // extern "C"
