// Frame-wise normalisation of word timing's head attention; see column_norm.h. The vector paths take
// 32 then 8 (AVX-512) or 16 then 4 (AVX2) frames at once in double: each lane does what the scalar
// loop does for its frame, the multiplications and additions kept apart (no FMA contraction), so every
// level gives the scalar bits.
#include "decode/column_norm.h"

#include <cmath>
#include <cstddef>

// GCC 12 reports its own intrinsics' undefined-vector idiom as (maybe-)uninitialised once inlined;
// silenced before the header is read, as in the other AVX-512 files.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "util/cpu_features.h"
#include "util/simd_target.h"

namespace npw {

namespace {

// Frames [j0, f) one at a time: the reference, and every path's tail.
void columns_scalar(const float* x, int n, int f, int ld, int first, int rows, float* out, int ldo, double* mean,
                    double* inv_std, int j0) {
  for (int j = j0; j < f; ++j) {
    double s = 0.0;
    for (int r = 0; r < n; ++r) s += x[static_cast<std::ptrdiff_t>(r) * ld + j];
    mean[j] = s / n;
  }
  for (int j = j0; j < f; ++j) {
    double s = 0.0;
    for (int r = 0; r < n; ++r) {
      const double d = static_cast<double>(x[static_cast<std::ptrdiff_t>(r) * ld + j]) - mean[j];
      s = s + d * d;
    }
    inv_std[j] = 1.0 / std::sqrt(s / n);
  }
  for (int r = 0; r < rows; ++r) {
    const float* row = x + static_cast<std::ptrdiff_t>(first + r) * ld;
    float* o = out + static_cast<std::ptrdiff_t>(r) * ldo;
    for (int j = j0; j < f; ++j) o[j] = static_cast<float>((row[j] - mean[j]) * inv_std[j]);
  }
}

// B blocks of 8 frames side by side, frames [j, j + 8 B): each frame's sums are the same chain of
// additions in row order as the scalar loop's, but B chains run at once, so the adder's latency (one
// dependent double addition per row) is paid once for 8 B frames rather than for 8: a head's
// normalisation (105 positions x 1500 frames) took 65 us one block at a time, 41 four at a time (eight:
// 44).
template <int B>
NPW_TARGET_AVX512 inline void columns_block_avx512(const float* x, int n, int j, int ld, int first, int rows, float* out,
                                                   int ldo, double* mean, double* inv_std) {
  const __m512d nd = _mm512_set1_pd(static_cast<double>(n));
  __m512d s[B], m[B], v[B], is[B];
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) s[b] = _mm512_setzero_pd();
  for (int r = 0; r < n; ++r) {
    const float* row = x + static_cast<std::ptrdiff_t>(r) * ld + j;
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) s[b] = _mm512_add_pd(s[b], _mm512_cvtps_pd(_mm256_loadu_ps(row + 8 * b)));
  }
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    m[b] = _mm512_div_pd(s[b], nd);
    _mm512_storeu_pd(mean + j + 8 * b, m[b]);
    v[b] = _mm512_setzero_pd();
  }
  for (int r = 0; r < n; ++r) {
    const float* row = x + static_cast<std::ptrdiff_t>(r) * ld + j;
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) {
      const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(row + 8 * b)), m[b]);
      v[b] = _mm512_add_pd(v[b], _mm512_mul_pd(d, d));
    }
  }
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    is[b] = _mm512_div_pd(_mm512_set1_pd(1.0), _mm512_sqrt_pd(_mm512_div_pd(v[b], nd)));
    _mm512_storeu_pd(inv_std + j + 8 * b, is[b]);
  }
  for (int r = 0; r < rows; ++r) {
    const float* row = x + static_cast<std::ptrdiff_t>(first + r) * ld + j;
    float* o = out + static_cast<std::ptrdiff_t>(r) * ldo + j;
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) {
      const __m512d y = _mm512_mul_pd(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(row + 8 * b)), m[b]), is[b]);
      _mm256_storeu_ps(o + 8 * b, _mm512_cvtpd_ps(y));
    }
  }
}

NPW_TARGET_AVX512 int columns_avx512(const float* x, int n, int f, int ld, int first, int rows, float* out, int ldo,
                                     double* mean, double* inv_std) {
  int j = 0;
  for (; j + 32 <= f; j += 32) columns_block_avx512<4>(x, n, j, ld, first, rows, out, ldo, mean, inv_std);
  for (; j + 8 <= f; j += 8) columns_block_avx512<1>(x, n, j, ld, first, rows, out, ldo, mean, inv_std);
  return j;
}

template <int B>
NPW_TARGET_AVX2 inline void columns_block_avx2(const float* x, int n, int j, int ld, int first, int rows, float* out,
                                               int ldo, double* mean, double* inv_std) {
  const __m256d nd = _mm256_set1_pd(static_cast<double>(n));
  __m256d s[B], m[B], v[B], is[B];
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) s[b] = _mm256_setzero_pd();
  for (int r = 0; r < n; ++r) {
    const float* row = x + static_cast<std::ptrdiff_t>(r) * ld + j;
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) s[b] = _mm256_add_pd(s[b], _mm256_cvtps_pd(_mm_loadu_ps(row + 4 * b)));
  }
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    m[b] = _mm256_div_pd(s[b], nd);
    _mm256_storeu_pd(mean + j + 4 * b, m[b]);
    v[b] = _mm256_setzero_pd();
  }
  for (int r = 0; r < n; ++r) {
    const float* row = x + static_cast<std::ptrdiff_t>(r) * ld + j;
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) {
      const __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(row + 4 * b)), m[b]);
      v[b] = _mm256_add_pd(v[b], _mm256_mul_pd(d, d));
    }
  }
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    is[b] = _mm256_div_pd(_mm256_set1_pd(1.0), _mm256_sqrt_pd(_mm256_div_pd(v[b], nd)));
    _mm256_storeu_pd(inv_std + j + 4 * b, is[b]);
  }
  for (int r = 0; r < rows; ++r) {
    const float* row = x + static_cast<std::ptrdiff_t>(first + r) * ld + j;
    float* o = out + static_cast<std::ptrdiff_t>(r) * ldo + j;
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) {
      const __m256d y = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(row + 4 * b)), m[b]), is[b]);
      _mm_storeu_ps(o + 4 * b, _mm256_cvtpd_ps(y));
    }
  }
}

NPW_TARGET_AVX2 int columns_avx2(const float* x, int n, int f, int ld, int first, int rows, float* out, int ldo,
                                 double* mean, double* inv_std) {
  int j = 0;
  for (; j + 16 <= f; j += 16) columns_block_avx2<4>(x, n, j, ld, first, rows, out, ldo, mean, inv_std);
  for (; j + 4 <= f; j += 4) columns_block_avx2<1>(x, n, j, ld, first, rows, out, ldo, mean, inv_std);
  return j;
}

}  // namespace

void normalize_columns(const float* x, int n, int f, int ld, int first, int rows, float* out, int ldo, double* mean,
                       double* inv_std) {
  int done = 0;
  switch (active_simd_level()) {
    case SimdLevel::Avx512:
      done = columns_avx512(x, n, f, ld, first, rows, out, ldo, mean, inv_std);
      break;
    case SimdLevel::Avx2:
      done = columns_avx2(x, n, f, ld, first, rows, out, ldo, mean, inv_std);
      break;
    case SimdLevel::Scalar:
      break;
  }
  columns_scalar(x, n, f, ld, first, rows, out, ldo, mean, inv_std, done);
}

}  // namespace npw
