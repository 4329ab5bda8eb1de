// Reflect-padded running median; see median_filter.h.
#include "decode/median_filter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "util/error.h"

namespace npw {

void median_filter_rows(float* x, int rows, int n, int ld, int width, float* scratch) {
  if (width < 1 || width % 2 == 0)
    throw Error(ErrorKind::InvalidArgument, "median filter: width " + std::to_string(width) + " is not an odd number");
  const int pad = width / 2;
  if (n <= pad || width == 1) return;
  float* padded = scratch;  // [n + 2 * pad]
  float window[64];
  float* win = width <= 64 ? window : nullptr;
  if (!win) throw Error(ErrorKind::InvalidArgument, "median filter: width " + std::to_string(width) + " exceeds 63");
  for (int r = 0; r < rows; ++r) {
    float* row = x + static_cast<std::ptrdiff_t>(r) * ld;
    for (int i = 0; i < pad; ++i) {
      padded[i] = row[pad - i];          // x[pad], ..., x[1]
      padded[pad + n + i] = row[n - 2 - i];  // x[n-2], ..., x[n-1-pad]
    }
    std::memcpy(padded + pad, row, static_cast<std::size_t>(n) * sizeof(float));
    for (int i = 0; i < n; ++i) {
      std::memcpy(win, padded + i, static_cast<std::size_t>(width) * sizeof(float));
      // torch's sort puts NaN last; nth_element with this order does the same.
      std::nth_element(win, win + pad, win + width, [](float a, float b) {
        if (std::isnan(a)) return false;
        if (std::isnan(b)) return true;
        return a < b;
      });
      row[i] = win[pad];
    }
  }
}

}  // namespace npw
