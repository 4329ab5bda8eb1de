// normalize_columns' vector paths (column_norm.cpp picks one by the active SIMD level); see
// column_norm_blocks.h.
#pragma once

namespace npw {

// Frames [0, returned) of normalize_columns (column_norm.h), with its arguments; the caller does the
// rest one frame at a time.
int normalize_columns_avx512(const float* x, int n, int f, int ld, int first, int rows, float* out, int ldo,
                             double* mean, double* inv_std);
int normalize_columns_avx2(const float* x, int n, int f, int ld, int first, int rows, float* out, int ldo,
                           double* mean, double* inv_std);

}  // namespace npw
