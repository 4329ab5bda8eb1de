// OpenAI's dtw_cpu and backtrace; see dtw.h.
#include "decode/dtw.h"

#include <algorithm>
#include <limits>
#include <string>

#include "util/error.h"

namespace npw {

void dtw(const double* x, int n, int m, DtwPath& path, DtwScratch& scratch) {
  if (n < 1 || m < 1)
    throw Error(ErrorKind::InvalidArgument, "dtw: empty matrix " + std::to_string(n) + "x" + std::to_string(m));
  const std::size_t W = static_cast<std::size_t>(m) + 1, H = static_cast<std::size_t>(n) + 1;
  if (scratch.cost.size() < W * H) {
    scratch.cost.resize(W * H);
    scratch.trace.resize(W * H);
  }
  float* cost = scratch.cost.data();
  signed char* trace = scratch.trace.data();
  std::fill(cost, cost + W * H, std::numeric_limits<float>::infinity());
  std::fill(trace, trace + W * H, static_cast<signed char>(-1));
  cost[0] = 0.0f;
  for (std::size_t j = 1; j < W; ++j) {
    for (std::size_t i = 1; i < H; ++i) {
      const float c0 = cost[(i - 1) * W + j - 1];
      const float c1 = cost[(i - 1) * W + j];
      const float c2 = cost[i * W + j - 1];
      float c;
      signed char t;
      if (c0 < c1 && c0 < c2) {
        c = c0;
        t = 0;
      } else if (c1 < c0 && c1 < c2) {
        c = c1;
        t = 1;
      } else {
        c = c2;
        t = 2;
      }
      cost[i * W + j] = static_cast<float>(x[(i - 1) * static_cast<std::size_t>(m) + (j - 1)] + static_cast<double>(c));
      trace[i * W + j] = t;
    }
  }
  for (std::size_t j = 0; j < W; ++j) trace[j] = 2;
  for (std::size_t i = 0; i < H; ++i) trace[i * W] = 1;
  std::size_t i = H - 1, j = W - 1;
  path.text_index.clear();
  path.time_index.clear();
  while (i > 0 || j > 0) {
    path.text_index.push_back(static_cast<int>(i) - 1);
    path.time_index.push_back(static_cast<int>(j) - 1);
    const signed char t = trace[i * W + j];
    if (t == 0) {
      --i;
      --j;
    } else if (t == 1) {
      --i;
    } else {
      --j;  // 2 (the reference raises on anything else, which its loop never writes)
    }
  }
  std::reverse(path.text_index.begin(), path.text_index.end());
  std::reverse(path.time_index.begin(), path.time_index.end());
}

}  // namespace npw
