// The median filter word timing runs along the audio frames of each head's attention (OpenAI's
// timing.median_filter on the CPU): reflect padding as torch's F.pad(mode="reflect") (the edge
// sample is not repeated), then the middle of each sorted window. Rows no longer than width / 2
// are left as they are, as the reference does (reflect padding needs more samples than the pad).
#pragma once

namespace npw {

// Filters each of the `rows` rows of x (n floats, ld apart) in place; `width` odd in 1..63.
// `scratch` holds at least n + width floats. Throws npw::Error(InvalidArgument) for an even width.
void median_filter_rows(float* x, int rows, int n, int ld, int width, float* scratch);

// The middle value of w[0..6] (no NaN) as the filter's width-7 path computes it; for its tests.
void median7_network(const float* w, float* out);

}  // namespace npw
