// The vector exps of util/vec_math_avx2.h and util/vec_math_avx512.h never return a subnormal float:
// on Intel cores every subnormal result is a microcode assist (~150 cycles a vector), and the softmax
// paths clamp their arguments exactly where results fall out of the normal range. Also their accuracy
// against libm near those clamps and across the range softmax scores take.
// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as uninitialised; silenced
// before the headers are read, as the kernel files do.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "util/cpu_features.h"
#include "util/vec_math_avx2.h"
#include "util/vec_math_avx512.h"

namespace {

using Vec = std::function<void(const float*, float*)>;  // 16 inputs to 16 outputs

NPW_TARGET_AVX2 void avx2_exp(const float* x, float* y) {
  for (int h = 0; h < 16; h += 8) _mm256_storeu_ps(y + h, npw::avx2::exp_ps(_mm256_loadu_ps(x + h)));
}
NPW_TARGET_AVX2 void avx2_exp_nonpositive(const float* x, float* y) {
  for (int h = 0; h < 16; h += 8) _mm256_storeu_ps(y + h, npw::avx2::exp_nonpositive_ps(_mm256_loadu_ps(x + h)));
}
NPW_TARGET_AVX2 void avx2_exp2_nonpositive(const float* x, float* y) {
  for (int h = 0; h < 16; h += 8) _mm256_storeu_ps(y + h, npw::avx2::exp2_nonpositive_ps(_mm256_loadu_ps(x + h)));
}
NPW_TARGET_AVX512 void avx512_exp(const float* x, float* y) { _mm512_storeu_ps(y, npw::avx512::exp_ps(_mm512_loadu_ps(x))); }
NPW_TARGET_AVX512 void avx512_exp_nonpositive(const float* x, float* y) {
  _mm512_storeu_ps(y, npw::avx512::exp_nonpositive_ps(_mm512_loadu_ps(x)));
}
NPW_TARGET_AVX512 void avx512_exp2_nonpositive(const float* x, float* y) {
  _mm512_storeu_ps(y, npw::avx512::exp2_nonpositive_ps(_mm512_loadu_ps(x)));
}
NPW_TARGET_AVX512 void avx512_exp2_u8(const float* x, float* y) {
  _mm512_storeu_ps(y, npw::avx512::exp2_u8_ps(_mm512_loadu_ps(x)));
}

struct Case {
  const char* name;
  Vec fn;
  bool base2;      // 2^x instead of e^x
  double rel_err;  // bound of the relative error where the result is normal and above 2^-120
  bool avx512;
};

std::vector<Case> cases() {
  std::vector<Case> c;
  if (static_cast<int>(npw::cpu_simd_level()) >= static_cast<int>(npw::SimdLevel::Avx2)) {
    c.push_back({"avx2::exp_ps", avx2_exp, false, 4e-7, false});
    c.push_back({"avx2::exp_nonpositive_ps", avx2_exp_nonpositive, false, 4e-7, false});
    c.push_back({"avx2::exp2_nonpositive_ps", avx2_exp2_nonpositive, true, 4e-7, false});
  }
  if (static_cast<int>(npw::cpu_simd_level()) >= static_cast<int>(npw::SimdLevel::Avx512)) {
    c.push_back({"avx512::exp_ps", avx512_exp, false, 4e-7, true});
    c.push_back({"avx512::exp_nonpositive_ps", avx512_exp_nonpositive, false, 4e-7, true});
    c.push_back({"avx512::exp2_nonpositive_ps", avx512_exp2_nonpositive, true, 4e-7, true});
    c.push_back({"avx512::exp2_u8_ps", avx512_exp2_u8, true, 8e-5, true});
  }
  return c;
}

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// Every float in [lo, hi] (both negative) when dense, else steps of `step`.
std::vector<float> arguments(float lo, float hi, bool dense, float step = 0.0f) {
  std::vector<float> x;
  if (dense) {
    for (uint32_t b = bits(hi); b <= bits(lo); ++b) x.push_back(from_bits(b));  // negative: bits grow with magnitude
  } else {
    for (float v = lo; v <= hi; v += step) x.push_back(v);
  }
  while (x.size() % 16 != 0) x.push_back(hi);
  return x;
}

// Counts subnormal results and checks the accuracy of normal ones; returns the subnormal count.
int check(const Case& c, const std::vector<float>& x) {
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); i += 16) c.fn(x.data() + i, y.data() + i);
  int subnormal = 0, bad = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::fpclassify(y[i]) == FP_SUBNORMAL) {
      if (++subnormal <= 3) ADD_FAILURE() << c.name << "(" << x[i] << ") = " << y[i] << " is subnormal";
      continue;
    }
    const double want = c.base2 ? std::exp2(static_cast<double>(x[i])) : std::exp(static_cast<double>(x[i]));
    if (want < std::ldexp(1.0, -120)) {
      // Below the accurate range: zero, or a normal float no larger than 2^-120 (as the comments say).
      if (!(y[i] >= 0.0f && y[i] <= std::ldexp(1.0f, -120)) && ++bad <= 3) {
        ADD_FAILURE() << c.name << "(" << x[i] << ") = " << y[i] << ", want about " << want;
      }
    } else if (std::fabs(y[i] - want) > c.rel_err * want && ++bad <= 3) {
      ADD_FAILURE() << c.name << "(" << x[i] << ") = " << y[i] << ", want " << want;
    }
  }
  return subnormal;
}

TEST(VecMath, ExpsNeverReturnSubnormals) {
  const std::vector<Case> all = cases();
  if (all.empty()) GTEST_SKIP() << "no AVX2 on this CPU: only the portable exps run";
  // Every float around both clamps (e^x near -126 ln2, 2^x near -126 and -125), then the range a
  // softmax's shifted scores take, far below the clamps included.
  const std::vector<float> around_e = arguments(-87.5f, -87.2f, true);
  const std::vector<float> around_2 = arguments(-126.5f, -124.5f, true);
  const std::vector<float> wide = arguments(-1000.0f, 0.0f, false, 0.0371f);
  for (const Case& c : all) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(check(c, c.base2 ? around_2 : around_e), 0);
    EXPECT_EQ(check(c, wide), 0);
  }
}

TEST(VecMath, ExpsOfMinusInfinityAreTinyOrZero) {
  for (const Case& c : cases()) {
    float x[16], y[16];
    for (float& v : x) v = -std::numeric_limits<float>::infinity();
    c.fn(x, y);
    for (float v : y) {
      EXPECT_NE(std::fpclassify(v), FP_SUBNORMAL) << c.name;
      EXPECT_GE(v, 0.0f) << c.name;
      EXPECT_LE(v, std::ldexp(1.0f, -120)) << c.name;
    }
  }
}

}  // namespace
