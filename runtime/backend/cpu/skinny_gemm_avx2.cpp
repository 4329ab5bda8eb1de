// AVX2 + FMA skinny products (see skinny_gemm.h) for CPUs without AVX-512: the same blocking as the
// AVX-512 kernel with 8-float vectors and half the accumulators (16 registers).
#include "backend/cpu/skinny_gemm.h"

#include <immintrin.h>

#include <cstdint>

#include "util/simd_target.h"


namespace npw {

namespace {

// Lanes [0, n) of an 8-float load, for row tails.
NPW_TARGET_AVX2 inline __m256i tail_mask8(int n) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n < 8 ? n : 8), lanes);
}

NPW_TARGET_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 8 weights from f32 or f16 rows (f16 widened exactly by F16C); the masked forms for row tails.
NPW_TARGET_AVX2 inline __m256 load_w(const float* p) { return _mm256_loadu_ps(p); }
NPW_TARGET_AVX2 inline __m256 load_w(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
NPW_TARGET_AVX2 inline __m256 load_w_tail(const float* p, int n) { return _mm256_maskload_ps(p, tail_mask8(n)); }
NPW_TARGET_AVX2 inline __m256 load_w_tail(const uint16_t* p, int n) {
  alignas(16) uint16_t h[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < n && i < 8; ++i) h[i] = p[i];
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
}

template <int M, int OB, typename T>
NPW_TARGET_AVX2 inline void block(const float* X, int ldx, const T* W, int n_in, int o, const float* bias, float* Y, int ldy) {
  __m256 acc[M][OB];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m)
#pragma GCC unroll 16
    for (int b = 0; b < OB; ++b) acc[m][b] = _mm256_setzero_ps();
  const T* w = W + static_cast<long>(o) * n_in;
  int i = 0;
  for (; i + 8 <= n_in; i += 8) {
    __m256 wv[OB];
#pragma GCC unroll 16
    for (int b = 0; b < OB; ++b) wv[b] = load_w(w + static_cast<long>(b) * n_in + i);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      const __m256 xv = _mm256_loadu_ps(X + static_cast<long>(m) * ldx + i);
#pragma GCC unroll 16
      for (int b = 0; b < OB; ++b) acc[m][b] = _mm256_fmadd_ps(xv, wv[b], acc[m][b]);
    }
  }
  if (i < n_in) {
    const __m256i k = tail_mask8(n_in - i);
    __m256 wv[OB];
#pragma GCC unroll 16
    for (int b = 0; b < OB; ++b) wv[b] = load_w_tail(w + static_cast<long>(b) * n_in + i, n_in - i);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      const __m256 xv = _mm256_maskload_ps(X + static_cast<long>(m) * ldx + i, k);
#pragma GCC unroll 16
      for (int b = 0; b < OB; ++b) acc[m][b] = _mm256_fmadd_ps(xv, wv[b], acc[m][b]);
    }
  }
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m)
#pragma GCC unroll 16
    for (int b = 0; b < OB; ++b) Y[static_cast<long>(m) * ldy + o + b] = hsum(acc[m][b]) + (bias ? bias[o + b] : 0.0f);
}

template <int M, typename T>
NPW_TARGET_AVX2 void rows(const float* X, int ldx, const T* W, int n_in, int o0, int o1, const float* bias, float* Y, int ldy) {
  // M x OB accumulators plus OB weight vectors and one X vector within 16 registers.
  constexpr int OB = M == 1 ? 4 : M <= 2 ? 4 : M <= 4 ? 2 : 1;
  int o = o0;
  for (; o + OB <= o1; o += OB) block<M, OB, T>(X, ldx, W, n_in, o, bias, Y, ldy);
  for (; o < o1; ++o) block<M, 1, T>(X, ldx, W, n_in, o, bias, Y, ldy);
}

template <typename T>
NPW_TARGET_AVX2 void dispatch(const float* X, int M, int ldx, const T* W, int n_in, int o0, int o1, const float* bias,
                              float* Y, int ldy) {
  switch (M) {
    case 1: rows<1>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 2: rows<2>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 3: rows<3>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 4: rows<4>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 5: rows<5>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 6: rows<6>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 7: rows<7>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 8: rows<8>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    default: break;  // callers keep M within kSkinnyMaxRows
  }
}

}  // namespace

NPW_TARGET_AVX2 void skinny_gemm_avx2(const float* X, int M, int ldx, const float* W, int n_in, int o0, int o1, const float* bias,
                      float* Y, int ldy) {
  dispatch(X, M, ldx, W, n_in, o0, o1, bias, Y, ldy);
}

NPW_TARGET_AVX2 void skinny_gemm_avx2(const float* X, int M, int ldx, const uint16_t* W, int n_in, int o0, int o1, const float* bias,
                      float* Y, int ldy) {
  dispatch(X, M, ldx, W, n_in, o0, o1, bias, Y, ldy);
}

NPW_TARGET_AVX2 void widen_f16_f16c(const uint16_t* src, float* dst, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}

}  // namespace npw
