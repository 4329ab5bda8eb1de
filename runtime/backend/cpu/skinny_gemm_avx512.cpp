// AVX-512 skinny products (see skinny_gemm.h): the blocked algorithm of skinny_gemm_blocked.h on
// 16-float vectors and 32 registers, tested on every machine through the AVX2 build of the same code.
#include <cstdint>

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "backend/cpu/skinny_gemm.h"
#include "util/vec_math_avx512.h"
#include "util/simd_target.h"

#define NPW_SKINNY_TARGET NPW_TARGET_AVX512
#define NPW_SKINNY_PREFETCH_BYTES kSkinnyPrefetchBytes
#include "backend/cpu/skinny_gemm_blocked.h"

namespace npw {

namespace {

using avx512::tail_mask;

struct Avx512 {
  using reg = __m512;
  static constexpr int kW = 16;
  static constexpr int kRegs = 32;
  // Output rows per block for M rows of X: M x B accumulators + min(M, B) live operands + a
  // temporary within 32 registers. One row (a one-token step, memory-bound) reads 4 streams of weight
  // rows, not 8: on a Zen 4 the tiny f16 step took 2.0-2.2 ms against 2.1-2.4 with 8 (base q8_0: 3.0
  // against 3.5-3.6), alternated.
  template <int M>
  static constexpr int block_rows() {
    return M == 1 ? 4 : M <= 2 ? 8 : M <= 6 ? 4 : 3;
  }
  NPW_TARGET_AVX512 static inline reg zero() { return _mm512_setzero_ps(); }
  NPW_TARGET_AVX512 static inline reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  NPW_TARGET_AVX512 static inline reg load_x(const float* p) { return _mm512_loadu_ps(p); }
  NPW_TARGET_AVX512 static inline reg load_x(const float* p, int n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
  // Weights [i, i + 16) of a row (lanes [0, n) with n).
  NPW_TARGET_AVX512 static inline reg load_w(const float* r, int i) { return _mm512_loadu_ps(r + i); }
  NPW_TARGET_AVX512 static inline reg load_w(const float* r, int i, int n) {
    return _mm512_maskz_loadu_ps(tail_mask(n), r + i);
  }
  NPW_TARGET_AVX512 static inline reg load_w(const uint16_t* r, int i) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + i)));
  }
  NPW_TARGET_AVX512 static inline reg load_w(const uint16_t* r, int i, int n) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail_mask(n), r + i));
  }
  // dst[j] = the half src[j] for j < n (n <= kGroupBlocks x kStagedBlocks), exactly; whole vectors are stored.
  NPW_TARGET_AVX512 static inline void widen_halves(const uint16_t* src, int n, float* dst) {
    for (int j = 0; j < n; j += 16) {
      _mm512_store_ps(dst + j, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail_mask(n - j), src + j)));
    }
  }
  // q8_0: 16 quants widened and scaled by their block's scale (the 16 never straddle a block).
  // The scale broadcast by block_scale() - once per block where skinny_blocked::hoists_scales().
  NPW_TARGET_AVX512 static inline reg block_scale(skinny_blocked::Q8Row r, int i) {
    return _mm512_set1_ps(r.d[i / kQ8Block]);
  }
  NPW_TARGET_AVX512 static inline reg load_w(skinny_blocked::Q8Row r, int i, reg scale) {
    const __m512i q = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r.q + i)));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(q), scale);
  }
  NPW_TARGET_AVX512 static inline reg load_w(skinny_blocked::Q8Row r, int i) { return load_w(r, i, block_scale(r, i)); }
  NPW_TARGET_AVX512 static inline reg load_w(skinny_blocked::Q8Row r, int i, int n) {
    const __m512i q = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(tail_mask(n), r.q + i));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(q), block_scale(r, i));
  }
  // q5_1 / q4_1: quant x scale + the block's offset in one FMA (the product is exact, see Q8Weights);
  // lanes past n stay zero.
  NPW_TARGET_AVX512 static inline reg load_w(skinny_blocked::Q8OffsetRow r, int i) {
    const __m512i q = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r.q + i)));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(q), _mm512_set1_ps(r.d[i / kQ8Block]), _mm512_set1_ps(r.m[i / kQ8Block]));
  }
  NPW_TARGET_AVX512 static inline reg load_w(skinny_blocked::Q8OffsetRow r, int i, int n) {
    const __m512i q = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(tail_mask(n), r.q + i));
    return _mm512_maskz_fmadd_ps(tail_mask(n), _mm512_cvtepi32_ps(q), _mm512_set1_ps(r.d[i / kQ8Block]),
                                 _mm512_set1_ps(r.m[i / kQ8Block]));
  }
  // The sums of four vectors, in the four lanes of the result: their halves, then quarters, then
  // lanes added pairwise (14 instructions for four sums where four _mm512_reduce_add_ps take 32; with
  // the short rows of small models, 384 inputs, the reductions were a fifth of a 5-row block).
  NPW_TARGET_AVX512 static inline __m128 sums4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
    const __m512 t01 = _mm512_add_ps(_mm512_shuffle_f32x4(a0, a1, _MM_SHUFFLE(1, 0, 1, 0)),
                                     _mm512_shuffle_f32x4(a0, a1, _MM_SHUFFLE(3, 2, 3, 2)));
    const __m512 t23 = _mm512_add_ps(_mm512_shuffle_f32x4(a2, a3, _MM_SHUFFLE(1, 0, 1, 0)),
                                     _mm512_shuffle_f32x4(a2, a3, _MM_SHUFFLE(3, 2, 3, 2)));
    // Each 128-bit lane k now holds four partial sums of a_k.
    __m512 u = _mm512_add_ps(_mm512_shuffle_f32x4(t01, t23, _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(t01, t23, _MM_SHUFFLE(3, 1, 3, 1)));
    u = _mm512_add_ps(u, _mm512_permute_ps(u, _MM_SHUFFLE(2, 3, 0, 1)));
    u = _mm512_add_ps(u, _mm512_permute_ps(u, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm512_castps512_ps128(_mm512_permutexvar_ps(_mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0), u));
  }
  // Y[m * ldy + b * stride] = the sum of acc[m][b] (+ bias[b * stride]), four outputs at a time, zero
  // vectors filling a short group: every output is summed in the same order whatever B, so results do
  // not depend on how rows were blocked (zeros only ever meet zeros).
  template <int M, int B>
  NPW_TARGET_AVX512 static inline void store_sums(const reg (&acc)[M][B], const float* bias, float* Y, int ldy,
                                                  long stride) {
    const __m512 z = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      float* y = Y + static_cast<long>(m) * ldy;
#pragma GCC unroll 4
      for (int b = 0; b < B; b += 4) {
        const int n = B - b < 4 ? B - b : 4;
        alignas(16) float s[4];
        _mm_store_ps(s, sums4(acc[m][b], n > 1 ? acc[m][n > 1 ? b + 1 : b] : z, n > 2 ? acc[m][n > 2 ? b + 2 : b] : z,
                              n > 3 ? acc[m][n > 3 ? b + 3 : b] : z));
#pragma GCC unroll 4
        for (int k = 0; k < n; ++k) {
          const long at = (b + k) * stride;
          y[at] = bias ? s[k] + bias[at] : s[k];
        }
      }
    }
  }
};

}  // namespace

NPW_TARGET_AVX512 void skinny_gemm_avx512(const float* X, int M, int ldx, const float* W, int n_in, int o0, int o1,
                                          const float* bias, float* Y, int ldy) {
  skinny_blocked::dispatch<Avx512>(X, M, ldx, W, n_in, o0, o1, bias, Y, ldy);
}

NPW_TARGET_AVX512 void skinny_gemm_avx512(const float* X, int M, int ldx, const uint16_t* W, int n_in, int o0, int o1,
                                          const float* bias, float* Y, int ldy) {
  skinny_blocked::dispatch<Avx512>(X, M, ldx, W, n_in, o0, o1, bias, Y, ldy);
}

NPW_TARGET_AVX512 void skinny_gemm_avx512(const float* X, int M, int ldx, const Q8Weights* W, int n_in, int o0, int o1,
                                          const float* bias, float* Y, int ldy) {
  if (W->m) {
    const Q8OffsetWeights offset{*W};
    skinny_blocked::dispatch<Avx512>(X, M, ldx, &offset, n_in, o0, o1, bias, Y, ldy);
    return;
  }
  skinny_blocked::dispatch<Avx512>(X, M, ldx, W, n_in, o0, o1, bias, Y, ldy);
}

}  // namespace npw
