// OpenAI's dtw_cpu and backtrace; see dtw.h.
#include "decode/dtw.h"

#include <algorithm>
#include <limits>
#include <string>

#include "util/error.h"

namespace npw {

// The accumulated cost of cell (i, j) depends on (i - 1, j - 1), (i - 1, j) and (i, j - 1), so walked
// row by row (or column by column, as the reference does) every cell waits for the one before it: a
// compare, a widening, an add and a rounding, ~17 cycles a cell, 1 ms for 100 tokens x 1500 frames,
// serial. The cells of one anti-diagonal (i + j = d) are independent of each other, so the cost and
// the trace are kept by anti-diagonal (cost of (i, j) at [(i + j) * H + i]) and each diagonal's cells
// are formed in one loop the core overlaps. Every cell gets the very operations of the reference, so
// the costs, the trace and the path are the same.
template <typename Cell>
static void dtw_cells(const Cell* x, int n, int m, DtwPath& path, DtwScratch& scratch) {
  if (n < 1 || m < 1)
    throw Error(ErrorKind::InvalidArgument, "dtw: empty matrix " + std::to_string(n) + "x" + std::to_string(m));
  const std::size_t H = static_cast<std::size_t>(n) + 1, W = static_cast<std::size_t>(m) + 1;
  const std::size_t D = H + W - 1;  // anti-diagonals d = i + j of the (n + 1) x (m + 1) cells
  if (scratch.cost.size() < D * H) {
    scratch.cost.resize(D * H);
    scratch.trace.resize(D * H);
  }
  float* cost = scratch.cost.data();
  signed char* trace = scratch.trace.data();
  const float inf = std::numeric_limits<float>::infinity();
  // Diagonals 0 and 1 hold only border cells: (0, 0) = 0, the others infinite.
  std::fill(cost, cost + 2 * H, inf);
  cost[0] = 0.0f;
  const std::size_t um = static_cast<std::size_t>(m);
  for (std::size_t d = 2; d < D; ++d) {
    float* c = cost + d * H;
    const float* up = cost + (d - 1) * H;    // (i - 1, j) at up[i - 1], (i, j - 1) at up[i]
    const float* diag = cost + (d - 2) * H;  // (i - 1, j - 1) at diag[i - 1]
    signed char* t = trace + d * H;
    const std::size_t i0 = d >= W ? d - (W - 1) : 1, i1 = std::min(H - 1, d - 1);
    // The border cells of this diagonal, (0, d) and (d, 0), stay infinite.
    c[0] = inf;
    if (d < H) c[d] = inf;
    for (std::size_t i = i0; i <= i1; ++i) {
      const float c0 = diag[i - 1], c1 = up[i - 1], c2 = up[i];
      float v;
      signed char k;
      if (c0 < c1 && c0 < c2) {
        v = c0;
        k = 0;
      } else if (c1 < c0 && c1 < c2) {
        v = c1;
        k = 1;
      } else {
        v = c2;
        k = 2;
      }
      c[i] = static_cast<float>(x[(i - 1) * um + (d - i - 1)] + static_cast<double>(v));
      t[i] = k;
    }
  }
  // Backtrace from (n, m); the first row steps horizontally, the first column vertically.
  std::size_t i = H - 1, j = W - 1;
  path.text_index.clear();
  path.time_index.clear();
  while (i > 0 || j > 0) {
    path.text_index.push_back(static_cast<int>(i) - 1);
    path.time_index.push_back(static_cast<int>(j) - 1);
    const signed char k = i == 0 ? 2 : j == 0 ? 1 : trace[(i + j) * H + i];
    if (k == 0) {
      --i;
      --j;
    } else if (k == 1) {
      --i;
    } else {
      --j;  // 2 (the reference raises on anything else, which its loop never writes)
    }
  }
  std::reverse(path.text_index.begin(), path.text_index.end());
  std::reverse(path.time_index.begin(), path.time_index.end());
}

void dtw(const double* x, int n, int m, DtwPath& path, DtwScratch& scratch) { dtw_cells(x, n, m, path, scratch); }

void dtw(const float* x, int n, int m, DtwPath& path, DtwScratch& scratch) { dtw_cells(x, n, m, path, scratch); }

}  // namespace npw
