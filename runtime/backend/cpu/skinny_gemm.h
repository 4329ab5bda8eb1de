// Products with few activation rows (the decoder's one-token steps: one row per beam or sequence),
// where a BLAS sgemm would first copy the whole weight matrix into its packed panels and so read the
// weights twice and write them once. These read each weight once for all M rows, straight from the
// packed matrix, which is what bounds a decoder step: the bytes of its weights. Output rows are
// computed in blocks so that M x B accumulators keep the FMA units busy (skinny_gemm_blocked.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/quant.h"

namespace npw {

// How far ahead of the weights being read the kernels ask for cache lines. The matrix is read once,
// row after row in address order; the hardware prefetchers alone kept the f16 logits projection at
// about half the memory's read rate, and an explicit request this far ahead brought it to 48-55 GB/s
// on two threads (from 22-32 with rows read side by side and no request).
constexpr std::size_t kSkinnyPrefetchBytes = 4096;
// The AVX2 kernels' distance. With 4 KiB ahead of each of 4-8 streams the lines asked for fill a 32
// KiB L1 (Zen 2 and 3, Intel before Ice Lake) before they are read: on a Zen 3 (one thread, AVX2) the
// one-row products of weights the L3 holds (the decoder's layers) ran at 4.7-8.7 GMAC/s (q8_0) and
// 8.5-15.5 (f16) with 4 KiB, 10-14.6 and 19-25 with 0.5-2 KiB; the logits projection, read from
// memory, moved little either way. In the decoder at two threads this and 4 streams for one row took
// the tiny q8_0 step from 3.72 to 2.82 ms, tiny f16 3.54 -> 2.85, base q8_0 7.13 -> 5.30.
constexpr std::size_t kSkinnyPrefetchBytesAvx2 = 2048;

// At most this many rows of X go through the skinny kernels in one call.
constexpr int kSkinnyMaxRows = 8;
// Products of up to this many rows (the word-timing pass's text, a short prompt) run as groups of
// kSkinnyMaxRows over blocks of weight rows small enough to stay in L2, so the weights are read from
// memory once and no widened copy is made: measured on a Zen 5 at AVX-512, 32 rows ran 20-30 % faster
// this way than through the panel kernel or a widened matrix and OpenBLAS. linear()'s limit at
// AVX-512; at AVX2 it is kSkinnyBlockedMaxRowsAvx2 (below), and linear_range() takes its own.
constexpr int kSkinnyBlockedMaxRows = 64;
// linear()'s limit at AVX2, where the panel kernel (panel_gemm_avx2.cpp, the rows gathered a slice at
// a time) now runs more rows faster: measured on a Zen 3 (two threads, medians of 9, f16 and q8_0, the
// decoder's six shapes of tiny and base), 24 rows or more 1.1-2.4x the skinny groups of 8 on every
// shape, 16 rows 0.87-1.47x, 12 rows 0.73-1.18x. Eight rows of X of a long input row (2048) do not
// fit L1 beside the weights, so the skinny groups lose most there (2048 x 512 at 32 rows: 1.8x).
constexpr int kSkinnyBlockedMaxRowsAvx2 = 16;

// Y[m][o] = sum_i X[m][i] * W[o][i] (+ bias[o]) for m < M <= kSkinnyMaxRows and o in [o0, o1); W
// rows are n_in floats apart. AVX-512: the caller checks the active SIMD level.
void skinny_gemm_avx512(const float* X, int M, int ldx, const float* W, int n_in, int o0, int o1, const float* bias,
                        float* Y, int ldy);
// The same with AVX2 + FMA.
void skinny_gemm_avx2(const float* X, int M, int ldx, const float* W, int n_in, int o0, int o1, const float* bias,
                      float* Y, int ldy);
// Weights stored as IEEE half floats (an f16 model's matrices kept as the file holds them, which
// halves the bytes a decoder step streams); widened exactly in registers, so the results equal the
// f32 kernels' on the widened weights.
void skinny_gemm_avx512(const float* X, int M, int ldx, const uint16_t* W, int n_in, int o0, int o1,
                        const float* bias, float* Y, int ldy);
void skinny_gemm_avx2(const float* X, int M, int ldx, const uint16_t* W, int n_in, int o0, int o1, const float* bias,
                      float* Y, int ldy);

// A q8_0, q5_0 or q4_0 matrix as the cpu backend keeps it (the file's blocks split so that rows of
// quants are contiguous): int8 quants q [n_out][n_in] and one scale per 32 of them, d [n_out][n_in /
// 32], as the file's IEEE halves (bits): 34 bytes a block as in the file, where f32 scales made it 36
// (4.6 MiB more resident for base q8_0). Weight (o, i) is q[o][i] * d[o][i / 32] in f32, the product
// that dequantize_row() gives, formed in registers from the exactly widened half: the kernels' results
// equal those on the widened matrix. q5_1 and q4_1 add an offset per block, m (same shape and kind as
// d): weight (o, i) is then that product plus m[o][i / 32]. The product of a quant (at most 8 bits)
// and a half's 11-bit significand is exact in f32, so a fused multiply-add gives dequantize_row's value
// too. The skinny kernels widen the scales of eight consecutive rows of a stream into a small buffer
// (one conversion per 16 scales) a group ahead of their quants, so the inner loops broadcast f32
// scales as before (skinny_gemm_blocked.h: grouped()).
struct Q8Weights {
  const int8_t* q;
  const uint16_t* d;
  const uint16_t* m = nullptr;
};
constexpr int kQ8Block = 32;
// A Q8Weights whose offsets are set (q5_1, q4_1): its own instantiation of the kernels, so that the
// inner loops of the offset-free types test nothing.
struct Q8OffsetWeights {
  Q8Weights w;
};
// Weight `at` of W (its block: at / 32), formed as the kernels and dequantize_row() form it.
inline float q8_weight(const Q8Weights& W, std::size_t at) {
  const float p = static_cast<float>(W.q[at]) * fp16_to_fp32(W.d[at / kQ8Block]);
  return W.m ? p + fp16_to_fp32(W.m[at / kQ8Block]) : p;
}
void skinny_gemm_avx512(const float* X, int M, int ldx, const Q8Weights* W, int n_in, int o0, int o1,
                        const float* bias, float* Y, int ldy);
void skinny_gemm_avx2(const float* X, int M, int ldx, const Q8Weights* W, int n_in, int o0, int o1, const float* bias,
                      float* Y, int ldy);

// dst[i] = the half float src[i], exactly, with F16C (any CPU at SimdLevel::Avx2 or above).
void widen_f16_f16c(const uint16_t* src, float* dst, std::size_t n);

}  // namespace npw
