// Order statistics of repeated timings. The benchmark machine is shared and noisy, so every figure
// is a median with its spread (min, quartiles, max) instead of a mean that one hiccup can move.
#pragma once

#include <cstddef>
#include <vector>

namespace npw {

struct Summary {
  double median = 0.0;
  double min = 0.0;
  double q1 = 0.0;  // 25th percentile (linear interpolation between order statistics)
  double q3 = 0.0;  // 75th percentile
  double max = 0.0;
  std::size_t n = 0;
};

// Summary of the samples (order does not matter); all zeros when there are none.
Summary summarize(std::vector<double> samples);

// The same summary with every statistic mapped through f, which must be monotonic: increasing
// keeps the order, decreasing (e.g. rate = work / time) swaps min with max and q1 with q3.
template <typename F>
Summary map_summary(const Summary& s, F f, bool decreasing) {
  Summary r;
  r.n = s.n;
  r.median = f(s.median);
  r.min = f(decreasing ? s.max : s.min);
  r.q1 = f(decreasing ? s.q3 : s.q1);
  r.q3 = f(decreasing ? s.q1 : s.q3);
  r.max = f(decreasing ? s.min : s.max);
  return r;
}

}  // namespace npw
