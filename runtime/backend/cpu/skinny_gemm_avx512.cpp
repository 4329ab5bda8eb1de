// AVX-512 skinny products (see skinny_gemm.h): each weight row against all rows of X at once, so
// every weight vector loaded feeds M FMAs; rows are read one after the other in address order with
// an explicit prefetch ahead, which keeps the stream at the memory's read rate.
#include "backend/cpu/skinny_gemm.h"

#include <cstdint>

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
NPW_TARGET_AVX512 inline __m512 load_w(const float* p) { return _mm512_loadu_ps(p); }
NPW_TARGET_AVX512 inline __m512 load_w(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// The cache line kSkinnyPrefetchBytes past p (integer arithmetic: the address may lie past the matrix,
// which a prefetch, never faulting, may ask for).
NPW_TARGET_AVX512 inline void prefetch_ahead(const void* p) {
  _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(p) + kSkinnyPrefetchBytes), _MM_HINT_T0);
}

// Output o for rows [0, M) of X: one weight row streamed in address order (two accumulators per X
// row, so the FMA chains do not bound the streaming rate), every loaded weight vector feeding M FMAs.
template <int M, typename T>
NPW_TARGET_AVX512 inline void row(const float* X, int ldx, const T* w, int n_in, int o, const float* bias, float* Y, int ldy) {
  __m512 acc[M][2];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) acc[m][0] = acc[m][1] = _mm512_setzero_ps();
  int i = 0;
  for (; i + 32 <= n_in; i += 32) {
    prefetch_ahead(w + i);
    if (sizeof(T) == 4) prefetch_ahead(w + i + 16);  // f32: this step reads two cache lines
    const __m512 w0 = load_w(w + i), w1 = load_w(w + i + 16);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      const float* x = X + static_cast<long>(m) * ldx + i;
      acc[m][0] = _mm512_fmadd_ps(_mm512_loadu_ps(x), w0, acc[m][0]);
      acc[m][1] = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16), w1, acc[m][1]);
    }
  }
  for (; i < n_in; i += 16) {
    const __mmask16 k = tail_mask(n_in - i);
    const __m512 wv = load_w(w + i, k);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      acc[m][0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, X + static_cast<long>(m) * ldx + i), wv, acc[m][0]);
    }
  }
  const float b = bias ? bias[o] : 0.0f;
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m) Y[static_cast<long>(m) * ldy + o] = _mm512_reduce_add_ps(_mm512_add_ps(acc[m][0], acc[m][1])) + b;
}

template <int M, typename T>
NPW_TARGET_AVX512 void rows(const float* X, int ldx, const T* W, int n_in, int o0, int o1, const float* bias, float* Y, int ldy) {
  for (int o = o0; o < o1; ++o) row<M, T>(X, ldx, W + static_cast<long>(o) * n_in, n_in, o, bias, Y, ldy);
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

