// AVX2 + FMA skinny products (see skinny_gemm.h) for CPUs without AVX-512: the same row-at-a-time
// streaming as the AVX-512 kernel with 8-float vectors (16 registers).
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

// The cache line kSkinnyPrefetchBytes past p (integer arithmetic: the address may lie past the matrix,
// which a prefetch, never faulting, may ask for).
NPW_TARGET_AVX2 inline void prefetch_ahead(const void* p) {
  _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(p) + kSkinnyPrefetchBytes), _MM_HINT_T0);
}

// Output o for rows [0, M) of X: one weight row streamed in address order, every loaded weight
// vector feeding M FMAs; two accumulators per X row where the 16 registers allow it.
template <int M, typename T>
NPW_TARGET_AVX2 inline void row(const float* X, int ldx, const T* w, int n_in, int o, const float* bias, float* Y, int ldy) {
  constexpr int NA = M <= 4 ? 2 : 1;
  __m256 acc[M][NA];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m)
#pragma GCC unroll 2
    for (int a = 0; a < NA; ++a) acc[m][a] = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 * NA <= n_in; i += 8 * NA) {
    prefetch_ahead(w + i);
    __m256 wv[NA];
#pragma GCC unroll 2
    for (int a = 0; a < NA; ++a) wv[a] = load_w(w + i + 8 * a);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m)
#pragma GCC unroll 2
      for (int a = 0; a < NA; ++a)
        acc[m][a] = _mm256_fmadd_ps(_mm256_loadu_ps(X + static_cast<long>(m) * ldx + i + 8 * a), wv[a], acc[m][a]);
  }
  for (; i + 8 <= n_in; i += 8) {
    const __m256 wv = load_w(w + i);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) acc[m][0] = _mm256_fmadd_ps(_mm256_loadu_ps(X + static_cast<long>(m) * ldx + i), wv, acc[m][0]);
  }
  if (i < n_in) {
    const __m256i k = tail_mask8(n_in - i);
    const __m256 wv = load_w_tail(w + i, n_in - i);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      acc[m][0] = _mm256_fmadd_ps(_mm256_maskload_ps(X + static_cast<long>(m) * ldx + i, k), wv, acc[m][0]);
    }
  }
  const float b = bias ? bias[o] : 0.0f;
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) {
    __m256 t = acc[m][0];
#pragma GCC unroll 2
    for (int a = 1; a < NA; ++a) t = _mm256_add_ps(t, acc[m][a]);
    Y[static_cast<long>(m) * ldy + o] = hsum(t) + b;
  }
}

template <int M, typename T>
NPW_TARGET_AVX2 void rows(const float* X, int ldx, const T* W, int n_in, int o0, int o1, const float* bias, float* Y, int ldy) {
  for (int o = o0; o < o1; ++o) row<M, T>(X, ldx, W + static_cast<long>(o) * n_in, n_in, o, bias, Y, ldy);
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
