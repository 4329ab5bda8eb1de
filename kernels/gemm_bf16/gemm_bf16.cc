// AIE core program of gemm_bf16 (kernels/gemm_bf16/contract.md): one core's share of C = A * B^T in
// bf16 x bf16 -> f32. Same tiling, blocking and placement as gemm_i8 (../common/gemm_tile.h and
// ../gemm_design.py); only the element types and the multiplier's shape differ. Every product of two
// bf16 values is exact in f32; the accumulator is f32 (accfloat) and is stored without conversion, so
// the only rounding is that of the f32 sums, in the order of the loops below (within a block by the
// multiplier's lanes, then k blocks in order, then k tiles in order): the bound the emulator is
// checked against in the contract holds for any such order. Subnormal inputs are taken as zero by
// the multipliers themselves.
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
#define MMUL_T 4
#endif

extern "C" {

void gemm_bf16_zero(float* c) { npw_kernels::zero_tile<float, DIM_M, DIM_N>(c); }

void gemm_bf16_tile(const bfloat16* a, const bfloat16* b, float* c) {
  npw_kernels::gemm_tile<bfloat16, float, accfloat, DIM_M, DIM_K, DIM_N, MMUL_R, MMUL_S, MMUL_T>(a, b, c);
}

}  // extern "C"
