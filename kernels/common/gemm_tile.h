// The tile loops every gemm core program shares (kernels/gemm_i8, kernels/gemm_bf16): one core's
// C tile += A tile * B tile^T over mmul blocks, and zeroing a C tile. Only the element types and the
// multiplier's shape differ between the ops, so they are template parameters here; each op's .cc
// states its layout and rounding and instantiates these with its sizes.
//
// The tiles arrive in data memory already blocked by the memory tiles' DMAs, so each mmul operand is
// one contiguous vector load:
//   A: (m/r) x (k/s) blocks, each r x s row-major;
//   B: (n/t) x (k/s) blocks, each t x s row-major (B is stored by output row, so a block is the
//      transpose of the s x t operand the multiplier wants: aie::transpose turns it round in registers,
//      as the DMA moves 32-bit words and cannot transpose 8- or 16-bit elements);
//   C: (m/r) x (n/t) blocks, each r x t row-major; the memory tile un-blocks it on the way out.
#pragma once

#include <aie_api/aie.hpp>
#include <type_traits>

namespace npw_kernels {

// The accumulator as output elements: int32 with shift 0 (no rounding, no saturation), f32 as is.
template <typename TOut, typename Mmul>
auto accumulator_out(const Mmul& acc) {
  if constexpr (std::is_same_v<TOut, float>) {
    return acc.template to_vector<float>();
  } else {
    return acc.template to_vector<TOut>(0);
  }
}

template <typename TIn, typename TOut, typename Acc, unsigned m, unsigned k, unsigned n, unsigned r, unsigned s,
          unsigned t>
void gemm_tile(const TIn* __restrict a, const TIn* __restrict b, TOut* __restrict c) {
  using MMUL = aie::mmul<r, s, t, TIn, TIn, Acc>;
  static_assert(m % r == 0 && k % s == 0 && n % t == 0, "the tile must hold whole mmul blocks");
  constexpr unsigned blocks_m = m / r, blocks_k = k / s, blocks_n = n / t;
  for (unsigned i = 0; i < blocks_m; ++i) {
    const TIn* a_row = a + i * blocks_k * MMUL::size_A;
    for (unsigned j = 0; j < blocks_n; ++j) {
      TOut* c_block = c + (i * blocks_n + j) * MMUL::size_C;
      const TIn* b_col = b + j * blocks_k * MMUL::size_B;
      // Continue the sum of the earlier k tiles of this output tile (zeroed before the first).
      MMUL acc(aie::load_v<MMUL::size_C>(c_block));
      for (unsigned p = 0; p < blocks_k; ++p) {
        const aie::vector<TIn, MMUL::size_A> va = aie::load_v<MMUL::size_A>(a_row + p * MMUL::size_A);
        const aie::vector<TIn, MMUL::size_B> vb = aie::load_v<MMUL::size_B>(b_col + p * MMUL::size_B);
        acc.mac(va, aie::transpose(vb, t, s));
      }
      aie::store_v(c_block, accumulator_out<TOut>(acc));
    }
  }
}

template <typename TOut, unsigned m, unsigned n>
void zero_tile(TOut* __restrict c) {
  constexpr unsigned lanes = 16;
  static_assert((m * n) % lanes == 0, "the C tile must be whole vectors");
  const aie::vector<TOut, lanes> zeros = aie::zeros<TOut, lanes>();
  for (unsigned i = 0; i < m * n; i += lanes) aie::store_v(c + i, zeros);
}

}  // namespace npw_kernels
