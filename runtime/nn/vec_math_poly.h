// The constants of the vector exp and erf shared by every SIMD width (vec_math_avx512.h, vec_math_avx2.h).
// exp:
// x = n ln2 + r with ln2 split in two (Cody-Waite) so that r is exact, then e^r by its Taylor series
// to r^6 (truncation error below 1.3e-7 relative for |r| <= ln2 / 2).
#pragma once

namespace npw {
namespace exp_poly {

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;      // ln2 rounded to a few mantissa bits: n * kLn2Hi is exact
constexpr float kLn2Lo = -2.12194440e-4f;   // ln2 - kLn2Hi
constexpr float kMinArg = -87.33654f;       // below this e^x is not a normal float
constexpr float kMaxArg = 88.3762626f;      // above this e^x overflows
// Coefficients from r^6 down to r^0, for Horner's scheme.
constexpr float kTaylor[7] = {1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f};

// 2^f = e^(f ln2) for |f| <= 1/2 by the same series in f: coefficients ln2^k / k!, from f^6 down to
// f^0. For exp2 of arguments already scaled by log2(e) (the attention kernels fold it into their
// score scale), which saves the multiply and the two-step reduction.
constexpr float kExp2Taylor[7] = {1.5403530e-4f, 1.3333558e-3f, 9.6181291e-3f, 5.5504109e-2f,
                                  2.4022651e-1f, 6.9314718e-1f, 1.0f};
constexpr float kMinArg2 = -126.0f;  // below this 2^x is not a normal float

}  // namespace exp_poly

// erfc(z) ~ t exp(-z^2 + P(t)) with t = 1 / (1 + z / 2) for z >= 0 (Numerical Recipes' erfcc,
// fractional error below 1.2e-7): P's coefficients from t^9 down to t^0, for Horner's scheme.
namespace erf_poly {
constexpr float kErfc[10] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                             -0.18628806f, 0.09678418f,  0.37409196f, 1.00002368f, -1.26551223f};
}  // namespace erf_poly
}  // namespace npw
