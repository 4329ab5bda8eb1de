// AIE core program of gemm_bf16 (kernels/gemm_bf16/contract.md): one core's share of C = A * B^T in
// bf16 x bf16 -> f32. Same tiling, blocking and placement as gemm_i8 (see ../gemm_i8/gemm_i8.cc and
// ../gemm_design.py); only the element types and the multiplier's shape differ. Every product of two
// bf16 values is exact in f32; the accumulator is f32 (accfloat) and is stored without conversion, so
// the only rounding is that of the f32 sums, in the order of the loops below (within a block by the
// multiplier's lanes, then k blocks in order, then k tiles in order): the bound the emulator is
// checked against in the contract holds for any such order. Subnormal inputs are taken as zero by
// the multipliers themselves.
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
#define MMUL_T 4
#endif

namespace {

template <unsigned m, unsigned k, unsigned n, unsigned r, unsigned s, unsigned t>
void gemm_tile(const bfloat16* __restrict a, const bfloat16* __restrict b, float* __restrict c) {
  using MMUL = aie::mmul<r, s, t, bfloat16, bfloat16, accfloat>;
  static_assert(m % r == 0 && k % s == 0 && n % t == 0, "the tile must hold whole mmul blocks");
  constexpr unsigned blocks_m = m / r, blocks_k = k / s, blocks_n = n / t;
  for (unsigned i = 0; i < blocks_m; ++i) {
    const bfloat16* a_row = a + i * blocks_k * MMUL::size_A;
    for (unsigned j = 0; j < blocks_n; ++j) {
      float* c_block = c + (i * blocks_n + j) * MMUL::size_C;
      const bfloat16* b_col = b + j * blocks_k * MMUL::size_B;
      MMUL acc(aie::load_v<MMUL::size_C>(c_block));
      for (unsigned p = 0; p < blocks_k; ++p) {
        const aie::vector<bfloat16, MMUL::size_A> va = aie::load_v<MMUL::size_A>(a_row + p * MMUL::size_A);
        const aie::vector<bfloat16, MMUL::size_B> vb = aie::load_v<MMUL::size_B>(b_col + p * MMUL::size_B);
        acc.mac(va, aie::transpose(vb, t, s));
      }
      aie::store_v(c_block, acc.template to_vector<float>());
    }
  }
}

template <unsigned m, unsigned n>
void zero_tile(float* __restrict c) {
  constexpr unsigned lanes = 16;
  static_assert((m * n) % lanes == 0, "the C tile must be whole vectors");
  const aie::vector<float, lanes> zeros = aie::zeros<float, lanes>();
  for (unsigned i = 0; i < m * n; i += lanes) aie::store_v(c + i, zeros);
}

}  // namespace

extern "C" {

void gemm_bf16_zero(float* c) { zero_tile<DIM_M, DIM_N>(c); }

void gemm_bf16_tile(const bfloat16* a, const bfloat16* b, float* c) {
  gemm_tile<DIM_M, DIM_K, DIM_N, MMUL_R, MMUL_S, MMUL_T>(a, b, c);
}

}  // extern "C"
