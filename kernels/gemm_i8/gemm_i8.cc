// AIE core program of gemm_i8 (kernels/gemm_i8/contract.md): one core's share of C = A * B^T in
// int8 x int8 -> int32, exact. Compiled with Peano for aie2 (npu1) or aie2p (npu2) with the tile
// sizes the IRON design (../gemm_design.py) places; the object is linked into every core. The tile
// loops and the blocked layouts are ../common/gemm_tile.h's. The accumulator is 32-bit and stored
// with shift 0: no rounding, no saturation (the contract's sums stay below 2^30).
#include <stdint.h>

#include "../common/gemm_tile.h"
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

extern "C" {

// C tile := 0 (a C tile is never accumulated into what a previous launch left).
void gemm_i8_zero(int32_t* c) { npw_kernels::zero_tile<int32_t, DIM_M, DIM_N>(c); }

// C tile += A tile * B tile^T for one k step.
void gemm_i8_tile(const int8_t* a, const int8_t* b, int32_t* c) {
  npw_kernels::gemm_tile<int8_t, int32_t, acc32, DIM_M, DIM_K, DIM_N, MMUL_R, MMUL_S, MMUL_T>(a, b, c);
}

}  // extern "C"
