// The device operations of kernels/<op>/contract.md executed on the CPU: what the emulator device
// runs for a launch, what the self-test compares a real device's output with, and what the unit tests
// check against naive loops. Integer ops are exact, so every variant (scalar, AVX2) returns the same
// bits; the bf16 op sums in one fixed order in every variant, so its variants agree bit for bit too.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npw {

class ThreadPool;

namespace npu {

// gemm_i8: C[m][n] = sum_k A[m][k] * B[n][k] in int32, A [M][K] and B [N][K] int8 row-major, C [M][N]
// row-major. Any M, N, K >= 0 (the device's padding multiples are the caller's business). `pool` may
// be null (then one thread).
void emulate_gemm_i8(const int8_t* A, const int8_t* B, int32_t* C, int M, int N, int K, ThreadPool* pool);

// gemm_bf16: C[m][n] = sum_k float(A[m][k]) * float(B[n][k]) in f32, bf16 inputs given as their 16
// bits, subnormal inputs flushed to zero; each dot product in eight interleaved f32 partial sums
// (k mod 8), combined as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)).
void emulate_gemm_bf16(const uint16_t* A, const uint16_t* B, float* C, int M, int N, int K, ThreadPool* pool);

// The variants, for tests that want each one (the dispatchers above pick by active_simd_level()).
void gemm_i8_rows_scalar(const int8_t* A, const int8_t* B, int32_t* C, int m0, int m1, int N, int K);
void gemm_i8_rows_avx2(const int8_t* A, const int8_t* B, int32_t* C, int m0, int m1, int N, int K);
void gemm_bf16_rows_scalar(const uint16_t* A, const uint16_t* B, float* C, int m0, int m1, int N, int K);
void gemm_bf16_rows_avx2(const uint16_t* A, const uint16_t* B, float* C, int m0, int m1, int N, int K);

// bf16 helpers shared by the host side and the emulator: round to nearest even (NaN kept quiet),
// and the value a bf16 input has on the device (subnormals flushed to zero).
uint16_t f32_to_bf16(float x);
float bf16_to_f32_ftz(uint16_t b);

}  // namespace npu
}  // namespace npw
