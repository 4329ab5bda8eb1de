// normalize_columns on 8-double vectors (see column_norm_blocks.h).
// GCC 12 reports its own intrinsics' undefined-vector idiom as (maybe-)uninitialised once inlined;
// silenced before the header is read, as in the other AVX-512 files.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "decode/column_norm_simd.h"
#include "util/simd_target.h"

#define NPW_COLUMN_TARGET NPW_TARGET_AVX512
#include "decode/column_norm_blocks.h"

namespace npw {

namespace {

struct Avx512 {
  using reg = __m512d;
  static constexpr int kW = 8;
  NPW_TARGET_AVX512 static inline reg zero() { return _mm512_setzero_pd(); }
  NPW_TARGET_AVX512 static inline reg set1(double v) { return _mm512_set1_pd(v); }
  NPW_TARGET_AVX512 static inline reg widen(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
  NPW_TARGET_AVX512 static inline reg add(reg a, reg b) { return _mm512_add_pd(a, b); }
  NPW_TARGET_AVX512 static inline reg sub(reg a, reg b) { return _mm512_sub_pd(a, b); }
  NPW_TARGET_AVX512 static inline reg mul(reg a, reg b) { return _mm512_mul_pd(a, b); }
  NPW_TARGET_AVX512 static inline reg div(reg a, reg b) { return _mm512_div_pd(a, b); }
  NPW_TARGET_AVX512 static inline reg sqrt(reg a) { return _mm512_sqrt_pd(a); }
  NPW_TARGET_AVX512 static inline void store(double* p, reg v) { _mm512_storeu_pd(p, v); }
  NPW_TARGET_AVX512 static inline void narrow_store(float* p, reg v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
};

}  // namespace

NPW_TARGET_AVX512 int normalize_columns_avx512(const float* x, int n, int f, int ld, int first, int rows, float* out,
                                               int ldo, double* mean, double* inv_std) {
  return column_blocks::columns<Avx512>(x, n, f, ld, first, rows, out, ldo, mean, inv_std);
}

}  // namespace npw
