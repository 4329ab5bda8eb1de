// The decoding policy's softmax sums over a vocabulary row (log-softmax of every hypothesis at every
// step, sampling at a temperature, the timestamp rule's sum, the no-speech probability), kept in
// double as the scalar loops that had them were, with exp taken 8 (AVX-512) or 4 (AVX2) lanes at a
// time. Those loops called libm's exp 51,865 times per row: 0.29 ms a row on a Zen 5, 1.45 ms a
// 5-beam step, more than the decoder's own step on tiny (a CLI run spent 43 % of its CPU time there).
#pragma once

namespace npw {

// The largest of x[0, n) widened to double; -inf when n is 0 or every value is -inf. NaNs are passed
// over, as a loop of std::max(largest, x[i]) passes them.
double largest_value(const float* x, int n);

// The sum over i < n of exp((x[i] - shift) / divisor), in double (divisor > 0). The terms are summed
// in 8 (or 4) interleaved partial sums, then those in a fixed order: the result does not depend on
// anything but the inputs and the SIMD level. A NaN anywhere gives NaN; -inf terms give 0. Each exp is
// within about 2 ulp of the correctly rounded double, except that at the SIMD levels terms below
// e^-708 (3.3e-308, the bottom of the normal range) are 0, never subnormal (see exp_sum.cpp).
double exp_sum(const float* x, int n, double shift, double divisor);

// The same terms written to w[0, n) (w[i] = exp((x[i] - shift) / divisor)); returns their sum, as
// exp_sum() sums them.
double exp_values(const float* x, int n, double shift, double divisor, double* w);

}  // namespace npw
