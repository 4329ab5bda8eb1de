// Dynamic time warping of OpenAI's timing.dtw_cpu: the cheapest monotonic path through a cost
// matrix x[N][M] with steps (1,1), (1,0), (0,1). Reproduced to the tie: the accumulated cost is
// kept in float32 (the reference's array type) while each step adds a float64 cell, a strict
// "<" picks the diagonal, then the vertical step, and anything else (ties included) the horizontal
// one; the backtrace starts at (N, M) with the first row forced horizontal and the first column
// vertical.
#pragma once

#include <vector>

namespace npw {

struct DtwPath {
  std::vector<int> text_index;  // i of each path point, from (0, 0) to (N - 1, M - 1)
  std::vector<int> time_index;  // j of each point
};

// Scratch the DTW reuses between calls (cost and trace of (N + 1) x (M + 1)); grows only.
struct DtwScratch {
  std::vector<float> cost;
  std::vector<signed char> trace;
};

// x is row-major [n][m] float64; n, m >= 1. The path is written to `path` (its vectors reused).
void dtw(const double* x, int n, int m, DtwPath& path, DtwScratch& scratch);
// The same for float32 cells, each widened exactly as it is added: the path of their float64 values.
// Word timing's cells are negated float32 means, so it keeps them at half the bytes (tiny's 101 x
// 1500: 0.6 MB, not 1.2, read down the anti-diagonals).
void dtw(const float* x, int n, int m, DtwPath& path, DtwScratch& scratch);

}  // namespace npw
