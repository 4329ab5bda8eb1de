// Frame-wise normalisation of word timing's head attention; see column_norm.h. The scalar loop is the
// reference and every vector path's tail; the vector paths (column_norm_blocks.h) take 32 then 8
// (AVX-512) or 16 then 4 (AVX2) frames at once with the scalar loop's bits.
#include "decode/column_norm.h"

#include <cmath>
#include <cstddef>

#include "decode/column_norm_simd.h"
#include "util/cpu_features.h"

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

}  // namespace

void normalize_columns(const float* x, int n, int f, int ld, int first, int rows, float* out, int ldo, double* mean,
                       double* inv_std) {
  int done = 0;
  switch (active_simd_level()) {
    case SimdLevel::Avx512:
      done = normalize_columns_avx512(x, n, f, ld, first, rows, out, ldo, mean, inv_std);
      break;
    case SimdLevel::Avx2:
      done = normalize_columns_avx2(x, n, f, ld, first, rows, out, ldo, mean, inv_std);
      break;
    case SimdLevel::Scalar:
      break;
  }
  columns_scalar(x, n, f, ld, first, rows, out, ldo, mean, inv_std, done);
}

}  // namespace npw
