// AVX2 + FMA skinny products (see skinny_gemm.h) for CPUs without AVX-512: the blocked algorithm of
// skinny_gemm_blocked.h on 8-float vectors and 16 registers.
#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/skinny_gemm.h"
#include "util/horizontal_sum_avx2.h"
#include "util/simd_target.h"

#define NPW_SKINNY_TARGET NPW_TARGET_AVX2
#define NPW_SKINNY_PREFETCH_BYTES kSkinnyPrefetchBytesAvx2
#include "backend/cpu/skinny_gemm_blocked.h"

namespace npw {

namespace {

// Lanes [0, n) of an 8-float load, for row tails.
NPW_TARGET_AVX2 inline __m256i tail_mask8(int n) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n < 8 ? n : 8), lanes);
}

struct Avx2 {
  using reg = __m256;
  static constexpr int kW = 8;
  static constexpr int kRegs = 16;
  // Output rows per block for M rows of X: M x B accumulators + min(M, B) live operands + a
  // temporary within 16 registers, and at least 6 independent FMA chains where that fits. One row
  // takes 4 streams, not the 8 that would fit: 8 rows of q8_0 need 16 pointers (quants and staged
  // scales) and spill, and 8 streams each prefetched ahead fill a 32 KiB L1 (skinny_gemm.h).
  template <int M>
  static constexpr int block_rows() {
    return M <= 2 ? 4 : M == 3 ? 3 : M <= 6 ? 2 : 1;
  }
  NPW_TARGET_AVX2 static inline reg zero() { return _mm256_setzero_ps(); }
  NPW_TARGET_AVX2 static inline reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  NPW_TARGET_AVX2 static inline reg load_x(const float* p) { return _mm256_loadu_ps(p); }
  NPW_TARGET_AVX2 static inline reg load_x(const float* p, int n) { return _mm256_maskload_ps(p, tail_mask8(n)); }
  // Weights [i, i + 8) of a row (lanes [0, n) with n).
  NPW_TARGET_AVX2 static inline reg load_w(const float* r, int i) { return _mm256_loadu_ps(r + i); }
  NPW_TARGET_AVX2 static inline reg load_w(const float* r, int i, int n) {
    return _mm256_maskload_ps(r + i, tail_mask8(n));
  }
  NPW_TARGET_AVX2 static inline reg load_w(const uint16_t* r, int i) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + i)));
  }
  NPW_TARGET_AVX2 static inline reg load_w(const uint16_t* r, int i, int n) {
    alignas(16) uint16_t h[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int k = 0; k < n && k < 8; ++k) h[k] = r[i + k];
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
  }
  // dst[j] = the half src[j] for j < n (n <= kGroupBlocks x kStagedBlocks), exactly; whole vectors are stored.
  NPW_TARGET_AVX2 static inline void widen_halves(const uint16_t* src, int n, float* dst) {
    int j = 0;
    for (; j + 8 <= n; j += 8) {
      _mm256_store_ps(dst + j, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + j))));
    }
    if (j < n) _mm256_store_ps(dst + j, load_w(src, j, n - j));
  }
  // q8_0: 8 quants widened and scaled by their block's scale (the 8 never straddle a block), the
  // scale broadcast by block_scale() - once per block where skinny_blocked::hoists_scales().
  NPW_TARGET_AVX2 static inline reg block_scale(skinny_blocked::Q8Row r, int i) {
    return _mm256_broadcast_ss(r.d + i / kQ8Block);
  }
  NPW_TARGET_AVX2 static inline reg load_w(skinny_blocked::Q8Row r, int i, reg scale) {
    const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r.q + i)));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(q), scale);
  }
  NPW_TARGET_AVX2 static inline reg load_w(skinny_blocked::Q8Row r, int i) { return load_w(r, i, block_scale(r, i)); }
  NPW_TARGET_AVX2 static inline reg load_w(skinny_blocked::Q8Row r, int i, int n) {
    alignas(16) int8_t h[16] = {};
    for (int k = 0; k < n && k < 8; ++k) h[k] = r.q[i + k];
    const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(h)));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(q), block_scale(r, i));
  }
  // q5_1 / q4_1: quant x scale + the block's offset in one FMA (the product is exact, see Q8Weights);
  // lanes past n stay zero.
  NPW_TARGET_AVX2 static inline reg load_w(skinny_blocked::Q8OffsetRow r, int i) {
    const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r.q + i)));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), _mm256_broadcast_ss(r.d + i / kQ8Block),
                           _mm256_broadcast_ss(r.m + i / kQ8Block));
  }
  NPW_TARGET_AVX2 static inline reg load_w(skinny_blocked::Q8OffsetRow r, int i, int n) {
    const reg w = load_w(skinny_blocked::Q8Row{r.q, r.d}, i, n);
    const reg sum = _mm256_add_ps(w, _mm256_broadcast_ss(r.m + i / kQ8Block));
    return _mm256_and_ps(sum, _mm256_castsi256_ps(tail_mask8(n)));
  }
  // Y[m * ldy + b * stride] = the sum of acc[m][b] (+ bias[b * stride]).
  template <int M, int B>
  NPW_TARGET_AVX2 static inline void store_sums(const reg (&acc)[M][B], const float* bias, float* Y, int ldy,
                                                long stride) {
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      float* y = Y + static_cast<long>(m) * ldy;
      int b = 0;
      if constexpr (B % 4 == 0) {
#pragma GCC unroll 4
        for (; b < B; b += 4) {
          alignas(16) float s[4];
          _mm_store_ps(s, hsum8x4(acc[m][b], acc[m][b + 1], acc[m][b + 2], acc[m][b + 3]));
#pragma GCC unroll 4
          for (int k = 0; k < 4; ++k) {
            const long at = (b + k) * stride;
            y[at] = bias ? s[k] + bias[at] : s[k];
          }
        }
      }
#pragma GCC unroll 16
      for (; b < B; ++b) {
        const long at = b * stride;
        y[at] = hsum8(acc[m][b]) + (bias ? bias[at] : 0.0f);
      }
    }
  }
};

}  // namespace

NPW_TARGET_AVX2 void skinny_gemm_avx2(const float* X, int M, int ldx, const float* W, int n_in, int o0, int o1,
                                      const float* bias, float* Y, int ldy) {
  skinny_blocked::dispatch<Avx2>(X, M, ldx, W, n_in, o0, o1, bias, Y, ldy);
}

NPW_TARGET_AVX2 void skinny_gemm_avx2(const float* X, int M, int ldx, const uint16_t* W, int n_in, int o0, int o1,
                                      const float* bias, float* Y, int ldy) {
  skinny_blocked::dispatch<Avx2>(X, M, ldx, W, n_in, o0, o1, bias, Y, ldy);
}

NPW_TARGET_AVX2 void skinny_gemm_avx2(const float* X, int M, int ldx, const Q8Weights* W, int n_in, int o0, int o1,
                                      const float* bias, float* Y, int ldy) {
  if (W->m) {
    const Q8OffsetWeights offset{*W};
    skinny_blocked::dispatch<Avx2>(X, M, ldx, &offset, n_in, o0, o1, bias, Y, ldy);
    return;
  }
  skinny_blocked::dispatch<Avx2>(X, M, ldx, W, n_in, o0, o1, bias, Y, ldy);
}

NPW_TARGET_AVX2 void widen_f16_f16c(const uint16_t* src, float* dst, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}

}  // namespace npw
