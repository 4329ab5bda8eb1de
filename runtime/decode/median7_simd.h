// The width-7 median filter's comparator network over neighbouring outputs at once (median_filter.cpp
// picks one by the active SIMD level): word timing filters every alignment head's tokens x 1500 frames,
// 2-3 % of an alignment pass one output at a time.
#pragma once

namespace npw {

// out[i] = the middle of padded[i .. i + 6] for i in [0, n), none of them NaN; the same bits as the
// scalar network (median7_network) at every level.
void median7_run_avx512(const float* padded, int n, float* out);
void median7_run_avx2(const float* padded, int n, float* out);

// Whether x[0, n) holds a NaN (which sends a row to the general filter): a scalar test per element
// took two thirds of the width-7 filter's time.
bool any_nan_avx512(const float* x, int n);
bool any_nan_avx2(const float* x, int n);

}  // namespace npw
