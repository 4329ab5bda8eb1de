// AVX-512 skinny products (see skinny_gemm.h): blocks of weight rows against all rows of X at once,
// so every weight vector loaded feeds M FMAs, and the horizontal sums happen once per output.
#include "backend/cpu/skinny_gemm.h"

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "nn/vec_math_avx512.h"
#include "util/simd_target.h"


namespace npw {

namespace {

using avx512::tail_mask;

// 16 weights from f32 or f16 rows (f16 widened exactly), lanes outside k zero.
NPW_TARGET_AVX512 inline __m512 load_w(const float* p, __mmask16 k) { return _mm512_maskz_loadu_ps(k, p); }
NPW_TARGET_AVX512 inline __m512 load_w(const uint16_t* p, __mmask16 k) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, p));
}

// Outputs [o, o + OB) for rows [0, M) of X.
template <int M, int OB, typename T>
NPW_TARGET_AVX512 inline void block(const float* X, int ldx, const T* W, int n_in, int o, const float* bias, float* Y, int ldy) {
  __m512 acc[M][OB];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m)
#pragma GCC unroll 16
    for (int b = 0; b < OB; ++b) acc[m][b] = _mm512_setzero_ps();
  const T* w = W + static_cast<long>(o) * n_in;
  for (int i = 0; i < n_in; i += 16) {
    const __mmask16 k = tail_mask(n_in - i);
    __m512 wv[OB];
#pragma GCC unroll 16
    for (int b = 0; b < OB; ++b) wv[b] = load_w(w + static_cast<long>(b) * n_in + i, k);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      const __m512 xv = _mm512_maskz_loadu_ps(k, X + static_cast<long>(m) * ldx + i);
#pragma GCC unroll 16
      for (int b = 0; b < OB; ++b) acc[m][b] = _mm512_fmadd_ps(xv, wv[b], acc[m][b]);
    }
  }
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m)
#pragma GCC unroll 16
    for (int b = 0; b < OB; ++b) {
      Y[static_cast<long>(m) * ldy + o + b] = _mm512_reduce_add_ps(acc[m][b]) + (bias ? bias[o + b] : 0.0f);
    }
}

template <int M, typename T>
NPW_TARGET_AVX512 void rows(const float* X, int ldx, const T* W, int n_in, int o0, int o1, const float* bias, float* Y, int ldy) {
  // M x OB accumulators plus OB weight vectors and one X vector stay within 32 registers.
  constexpr int OB = M <= 2 ? 8 : M <= 4 ? 4 : 2;
  int o = o0;
  for (; o + OB <= o1; o += OB) block<M, OB, T>(X, ldx, W, n_in, o, bias, Y, ldy);
  for (; o < o1; ++o) block<M, 1, T>(X, ldx, W, n_in, o, bias, Y, ldy);
}

template <typename T>
NPW_TARGET_AVX512 void dispatch(const float* X, int M, int ldx, const T* W, int n_in, int o0, int o1, const float* bias,
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

NPW_TARGET_AVX512 void skinny_gemm_avx512(const float* X, int M, int ldx, const float* W, int n_in, int o0, int o1, const float* bias,
                        float* Y, int ldy) {
  dispatch(X, M, ldx, W, n_in, o0, o1, bias, Y, ldy);
}

NPW_TARGET_AVX512 void skinny_gemm_avx512(const float* X, int M, int ldx, const uint16_t* W, int n_in, int o0, int o1,
                        const float* bias, float* Y, int ldy) {
  dispatch(X, M, ldx, W, n_in, o0, o1, bias, Y, ldy);
}

}  // namespace npw

