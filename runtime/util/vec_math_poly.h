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
// The float just above -126 ln2, below which e^x is not a normal float. Not -126 ln2 rounded to
// nearest: that float lies below it, so e^x of every clamped input came out subnormal, and each
// subnormal result costs an Intel core a microcode assist (~150 cycles a vector).
constexpr float kMinArg = -87.3365402f;
constexpr float kMaxArg = 88.3762626f;                          // ln(FLT_MAX): above this e^x overflows
// e^r, r^6 down to r^0 (coefficients 1 / k!).
constexpr Series<7> kTaylor = taylor<7>(1.0);
// 2^f = e^(f ln2) for |f| <= 1/2 by the same series in f (coefficients ln2^k / k!). For exp2 of
// arguments already scaled by log2(e) (the attention kernels fold it into their score scale), which
// saves the multiply and the two-step reduction.
constexpr Series<7> kExp2Taylor = taylor<7>(kLn2);

}  // namespace exp_poly

// erf(z) ~ z P(z^2) / Q(z^2) for |z| <= 4, P and Q of degree 5: our own fit (linearised least squares
// of the rational, reweighted towards the minimax error, in 40-digit arithmetic), whose largest
// absolute error on [0, 4] is 2e-8 with exact coefficients and 5e-8 with these float ones; beyond
// |z| = 3.9, where erf is within 4e-8 of +-1, the kernels return +-1 exactly. Coefficients from t^5 down
// to t^0, for Horner's scheme; tools/fit_erf_rational.py reproduces them.
namespace erf_poly {
constexpr exp_poly::Series<6> kP = {{1.9748429167520953e-06f, 0.0002880411921069026f, 0.004003611858934164f,
                                     0.05346737056970596f, 0.1962481141090393f, 1.128378987312317f}};
constexpr exp_poly::Series<6> kQ = {{3.7480986065929756e-05f, 0.0012163526844233274f, 0.015444351360201836f,
                                     0.11647607386112213f, 0.507251501083374f, 1.0f}};
constexpr float kSaturate = 3.9f;  // |z| from which erf(z) is taken as +-1
}  // namespace erf_poly
}  // namespace npw
