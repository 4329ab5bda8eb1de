// Reflect-padded running median; see median_filter.h. Word timing filters every alignment head's
// matrix (tokens x 1500 frames for a full window), so the width OpenAI uses (7) has its own path: a
// sorting network of min/max operations, which gives exactly the middle value a sort would (a
// network sorts any input; min and max of numbers are exact) at a fraction of nth_element's cost, on
// whole vectors where the CPU has them (median7_simd.h).
// Rows holding NaN (a frame every position attends to alike) take the general path, which orders
// NaN last as torch's sort does.
#include "decode/median_filter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "decode/median7_simd.h"
#include "util/cpu_features.h"
#include "util/error.h"

namespace npw {

namespace {

inline void order(float& a, float& b) {
  const float lo = std::min(a, b), hi = std::max(a, b);
  a = lo;
  b = hi;
}

// The middle of 7 numbers (none NaN) through an optimal 16-comparator sorting network for 7 inputs.
inline float median7(const float* w) {
  float a = w[0], b = w[1], c = w[2], d = w[3], e = w[4], f = w[5], g = w[6];
  order(a, g), order(c, d), order(e, f);
  order(a, c), order(b, e), order(d, g);
  order(a, b), order(c, f), order(d, e);
  order(b, c), order(e, g);
  order(c, d), order(e, f);
  order(b, c), order(d, e), order(f, g);
  return d;
}

void median_row_general(const float* padded, int n, int width, float* out) {
  float win[64];
  const int pad = width / 2;
  for (int i = 0; i < n; ++i) {
    std::memcpy(win, padded + i, static_cast<std::size_t>(width) * sizeof(float));
    // torch's sort puts NaN last; nth_element with this order does the same.
    std::nth_element(win, win + pad, win + width, [](float a, float b) {
      if (std::isnan(a)) return false;
      if (std::isnan(b)) return true;
      return a < b;
    });
    out[i] = win[pad];
  }
}

void median7_run(const float* padded, int n, float* out) {
  switch (active_simd_level()) {
    case SimdLevel::Avx512:
      return median7_run_avx512(padded, n, out);
    case SimdLevel::Avx2:
      return median7_run_avx2(padded, n, out);
    case SimdLevel::Scalar:
      break;
  }
  for (int i = 0; i < n; ++i) out[i] = median7(padded + i);
}

bool any_nan(const float* x, int n) {
  switch (active_simd_level()) {
    case SimdLevel::Avx512:
      return any_nan_avx512(x, n);
    case SimdLevel::Avx2:
      return any_nan_avx2(x, n);
    case SimdLevel::Scalar:
      break;
  }
  bool has_nan = false;
  for (int i = 0; i < n; ++i) has_nan |= std::isnan(x[i]);
  return has_nan;
}

}  // namespace

void median7_network(const float* w, float* out) { *out = median7(w); }

void median_filter_rows(float* x, int rows, int n, int ld, int width, float* scratch) {
  if (width < 1 || width % 2 == 0)
    throw Error(ErrorKind::InvalidArgument, "median filter: width " + std::to_string(width) + " is not an odd number");
  if (width > 63) throw Error(ErrorKind::InvalidArgument, "median filter: width " + std::to_string(width) + " exceeds 63");
  const int pad = width / 2;
  if (n <= pad || width == 1) return;
  float* padded = scratch;  // [n + 2 * pad]
  for (int r = 0; r < rows; ++r) {
    float* row = x + static_cast<std::ptrdiff_t>(r) * ld;
    for (int i = 0; i < pad; ++i) {
      padded[i] = row[pad - i];              // x[pad], ..., x[1]
      padded[pad + n + i] = row[n - 2 - i];  // x[n-2], ..., x[n-1-pad]
    }
    std::memcpy(padded + pad, row, static_cast<std::size_t>(n) * sizeof(float));
    // Only the width-7 network needs to know (the general path orders NaN itself).
    if (width == 7 && !any_nan(row, n)) {
      median7_run(padded, n, row);
    } else {
      median_row_general(padded, n, width, row);
    }
  }
}

}  // namespace npw
