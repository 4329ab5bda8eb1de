// normalize_columns on 4-double vectors (see column_norm_blocks.h).
#include <immintrin.h>

#include "decode/column_norm_simd.h"
#include "util/simd_target.h"

#define NPW_COLUMN_TARGET NPW_TARGET_AVX2
#include "decode/column_norm_blocks.h"

namespace npw {

namespace {

struct Avx2 {
  using reg = __m256d;
  static constexpr int kW = 4;
  NPW_TARGET_AVX2 static inline reg zero() { return _mm256_setzero_pd(); }
  NPW_TARGET_AVX2 static inline reg set1(double v) { return _mm256_set1_pd(v); }
  NPW_TARGET_AVX2 static inline reg widen(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
  NPW_TARGET_AVX2 static inline reg add(reg a, reg b) { return _mm256_add_pd(a, b); }
  NPW_TARGET_AVX2 static inline reg sub(reg a, reg b) { return _mm256_sub_pd(a, b); }
  NPW_TARGET_AVX2 static inline reg mul(reg a, reg b) { return _mm256_mul_pd(a, b); }
  NPW_TARGET_AVX2 static inline reg div(reg a, reg b) { return _mm256_div_pd(a, b); }
  NPW_TARGET_AVX2 static inline reg sqrt(reg a) { return _mm256_sqrt_pd(a); }
  NPW_TARGET_AVX2 static inline void store(double* p, reg v) { _mm256_storeu_pd(p, v); }
  NPW_TARGET_AVX2 static inline void narrow_store(float* p, reg v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
};

}  // namespace

NPW_TARGET_AVX2 int normalize_columns_avx2(const float* x, int n, int f, int ld, int first, int rows, float* out,
                                           int ldo, double* mean, double* inv_std) {
  return column_blocks::columns<Avx2>(x, n, f, ld, first, rows, out, ldo, mean, inv_std);
}

}  // namespace npw
