// The normalisation word timing applies to each alignment head's attention (OpenAI's timing.py:
// (w - w.mean(dim=-2)) / w.std(dim=-2, unbiased=False)): every frame's mean and population spread over
// the positions, accumulated in double as this project's reference always did (torch works in float32,
// which differs from it by float32's rounding). Three passes over tokens x 1500
// frames per head, so it has whole-vector paths, with the same bits at every level: the same double
// operations per frame in the same order, no fused multiply-adds.
#pragma once

namespace npw {

// x: n rows of f floats (ld apart). mean[j] = sum over rows of x[r][j] / n, inv_std[j] = 1 / sqrt(sum
// of (x[r][j] - mean[j])^2 / n), both in double; then out rows [0, rows) (ldo apart) = (x[first + r][j]
// - mean[j]) * inv_std[j] rounded to float. mean and inv_std hold f doubles.
void normalize_columns(const float* x, int n, int f, int ld, int first, int rows, float* out, int ldo, double* mean,
                       double* inv_std);

}  // namespace npw
