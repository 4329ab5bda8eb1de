// The constants of the vector exp and erf shared by every SIMD width (vec_math_avx512.h, vec_math_avx2.h).
// exp:
// x = n ln2 + r with ln2 split in two (Cody-Waite) so that r is exact, then e^r by its Taylor series
// to r^6 (truncation error below 1.3e-7 relative for |r| <= ln2 / 2).
#pragma once

namespace npw {
namespace exp_poly {

constexpr double kLn2 = 0.693147180559945309417;

// c[i] = scale^(N-1-i) / (N-1-i)!: a Taylor series of e^(scale t) from t^(N-1) down to t^0.
template <int N>
struct Series {
  float c[N];
};
template <int N>
constexpr Series<N> taylor(double scale) {
  Series<N> s{};
  double term = 1.0;  // scale^k / k!
  for (int k = 0; k < N; ++k) {
    s.c[N - 1 - k] = static_cast<float>(term);
    term *= scale / (k + 1);
  }
  return s;
}

constexpr float kLog2e = static_cast<float>(1.0 / kLn2);
constexpr float kLn2Hi = 0.693359375f;                         // ln2 to a few mantissa bits: n * kLn2Hi is exact
constexpr float kLn2Lo = static_cast<float>(kLn2 - 0.693359375);  // the rest of ln2
constexpr float kMinArg2 = -126.0f;                             // below this 2^x is not a normal float
constexpr float kMinArg = static_cast<float>(-126.0 * kLn2);    // below this e^x is not a normal float
constexpr float kMaxArg = 88.3762626f;                          // ln(FLT_MAX): above this e^x overflows
// e^r, r^6 down to r^0 (coefficients 1 / k!).
constexpr Series<7> kTaylor = taylor<7>(1.0);
// 2^f = e^(f ln2) for |f| <= 1/2 by the same series in f (coefficients ln2^k / k!). For exp2 of
// arguments already scaled by log2(e) (the attention kernels fold it into their score scale), which
// saves the multiply and the two-step reduction.
constexpr Series<7> kExp2Taylor = taylor<7>(kLn2);

}  // namespace exp_poly

// erfc(z) ~ t exp(-z^2 + P(t)) with t = 1 / (1 + z / 2) for z >= 0 (Numerical Recipes' erfcc,
// fractional error below 1.2e-7): P's coefficients from t^9 down to t^0, for Horner's scheme.
namespace erf_poly {
constexpr exp_poly::Series<10> kErfc = {{0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                                         -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f}};
}  // namespace erf_poly
}  // namespace npw
