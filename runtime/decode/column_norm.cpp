// Frame-wise normalisation of word timing's head attention; see column_norm.h. The vector paths take
// 8 (AVX-512) or 4 (AVX2) frames at once in double: each lane does what the scalar loop does for its
// frame, the multiplications and additions kept apart (no FMA contraction), so every level gives the
// scalar bits.
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

NPW_TARGET_AVX512 int columns_avx512(const float* x, int n, int f, int ld, int first, int rows, float* out, int ldo,
                                     double* mean, double* inv_std) {
  const int fv = f / 8 * 8;
  const __m512d nd = _mm512_set1_pd(static_cast<double>(n));
  for (int j = 0; j < fv; j += 8) {
    __m512d s = _mm512_setzero_pd();
    for (int r = 0; r < n; ++r) s = _mm512_add_pd(s, _mm512_cvtps_pd(_mm256_loadu_ps(x + static_cast<std::ptrdiff_t>(r) * ld + j)));
    const __m512d m = _mm512_div_pd(s, nd);
    _mm512_storeu_pd(mean + j, m);
    __m512d v = _mm512_setzero_pd();
    for (int r = 0; r < n; ++r) {
      const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + static_cast<std::ptrdiff_t>(r) * ld + j)), m);
      v = _mm512_add_pd(v, _mm512_mul_pd(d, d));
    }
    const __m512d is = _mm512_div_pd(_mm512_set1_pd(1.0), _mm512_sqrt_pd(_mm512_div_pd(v, nd)));
    _mm512_storeu_pd(inv_std + j, is);
    for (int r = 0; r < rows; ++r) {
      const __m512d y = _mm512_mul_pd(
          _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + static_cast<std::ptrdiff_t>(first + r) * ld + j)), m), is);
      _mm256_storeu_ps(out + static_cast<std::ptrdiff_t>(r) * ldo + j, _mm512_cvtpd_ps(y));
    }
  }
  return fv;
}

NPW_TARGET_AVX2 int columns_avx2(const float* x, int n, int f, int ld, int first, int rows, float* out, int ldo,
                                 double* mean, double* inv_std) {
  const int fv = f / 4 * 4;
  const __m256d nd = _mm256_set1_pd(static_cast<double>(n));
  for (int j = 0; j < fv; j += 4) {
    __m256d s = _mm256_setzero_pd();
    for (int r = 0; r < n; ++r) s = _mm256_add_pd(s, _mm256_cvtps_pd(_mm_loadu_ps(x + static_cast<std::ptrdiff_t>(r) * ld + j)));
    const __m256d m = _mm256_div_pd(s, nd);
    _mm256_storeu_pd(mean + j, m);
    __m256d v = _mm256_setzero_pd();
    for (int r = 0; r < n; ++r) {
      const __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + static_cast<std::ptrdiff_t>(r) * ld + j)), m);
      v = _mm256_add_pd(v, _mm256_mul_pd(d, d));
    }
    const __m256d is = _mm256_div_pd(_mm256_set1_pd(1.0), _mm256_sqrt_pd(_mm256_div_pd(v, nd)));
    _mm256_storeu_pd(inv_std + j, is);
    for (int r = 0; r < rows; ++r) {
      const __m256d y = _mm256_mul_pd(
          _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + static_cast<std::ptrdiff_t>(first + r) * ld + j)), m), is);
      _mm_storeu_ps(out + static_cast<std::ptrdiff_t>(r) * ldo + j, _mm256_cvtpd_ps(y));
    }
  }
  return fv;
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
