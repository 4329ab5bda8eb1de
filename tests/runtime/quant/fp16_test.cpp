// Half-float conversion checked against the IEEE binary16 definition: every one of the 65536 encodings,
// every rounding tie between neighbouring halves, and (where the compiler has _Float16) a sweep of
// f32 bit patterns against the compiler's own conversion.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "model/quant.h"

namespace npw {
namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// binary16 decoded straight from its definition, in double.
double half_value(uint16_t h) {
  const int sign = h >> 15;
  const int exp = (h >> 10) & 0x1F;
  const int mant = h & 0x3FF;
  double v;
  if (exp == 0) {
    v = std::ldexp(static_cast<double>(mant), -24);
  } else if (exp == 31) {
    v = mant ? NAN : INFINITY;
  } else {
    v = std::ldexp(static_cast<double>(1024 + mant), exp - 25);
  }
  return sign ? -v : v;
}

bool is_nan_half(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0; }

TEST(Fp16, DecodesEveryEncoding) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    if (is_nan_half(static_cast<uint16_t>(h))) {
      ASSERT_TRUE(std::isnan(f)) << h;
      // Sign and payload survive widening.
      EXPECT_EQ(bits(f), ((h & 0x8000u) << 16) | 0x7F800000u | ((h & 0x3FFu) << 13)) << h;
      continue;
    }
    const double want = half_value(static_cast<uint16_t>(h));
    ASSERT_EQ(static_cast<double>(f), want) << "half 0x" << std::hex << h;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << h;  // including -0
  }
}

TEST(Fp16, EveryEncodingRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t back = fp32_to_fp16(fp16_to_fp32(static_cast<uint16_t>(h)));
    if (is_nan_half(static_cast<uint16_t>(h))) {
      EXPECT_TRUE(is_nan_half(back)) << h;
      EXPECT_EQ(back & 0x8000, h & 0x8000) << h;
      if (h & 0x200) {
        EXPECT_EQ(back, h) << "quiet NaN payload lost for " << h;
      }
      continue;
    }
    ASSERT_EQ(back, h) << "half 0x" << std::hex << h;
  }
}

// Between each pair of neighbouring finite halves (subnormals included), the exact midpoint goes to the
// even one and the floats just either side of it go to the nearer one.
TEST(Fp16, TiesRoundToEven) {
  for (uint16_t sign : {uint16_t{0}, uint16_t{0x8000}}) {
    for (uint32_t h = 0; h < 0x7BFF; ++h) {
      const uint16_t lo = static_cast<uint16_t>(sign | h);
      const uint16_t hi = static_cast<uint16_t>(sign | (h + 1));
      const double mid_d = (half_value(lo) + half_value(hi)) / 2;
      const float mid = static_cast<float>(mid_d);
      ASSERT_EQ(static_cast<double>(mid), mid_d) << "midpoint not representable";
      const uint16_t even = (h & 1) ? hi : lo;
      ASSERT_EQ(fp32_to_fp16(mid), even) << "tie above half 0x" << std::hex << lo;
      const float toward_lo = std::nextafter(mid, sign ? INFINITY : -INFINITY);
      const float toward_hi = std::nextafter(mid, sign ? -INFINITY : INFINITY);
      ASSERT_EQ(fp32_to_fp16(toward_lo), lo) << std::hex << lo;
      ASSERT_EQ(fp32_to_fp16(toward_hi), hi) << std::hex << lo;
    }
  }
}

TEST(Fp16, OverflowUnderflowAndSpecials) {
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(65519.99f), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);  // tie between 65504 and 2^16 goes to the even one: inf
  EXPECT_EQ(fp32_to_fp16(-65520.0f), 0xFC00);
  EXPECT_EQ(fp32_to_fp16(1e10f), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(INFINITY), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(-INFINITY), 0xFC00);
  EXPECT_EQ(fp32_to_fp16(0.0f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000);  // tie between 0 and the smallest subnormal
  EXPECT_EQ(fp32_to_fp16(std::nextafter(0x1p-25f, 1.0f)), 0x0001);
  EXPECT_EQ(fp32_to_fp16(-0x1p-26f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(from_bits(0x00000001u)), 0x0000);  // f32 subnormal
  EXPECT_EQ(fp32_to_fp16(0x1p-14f), 0x0400);                // smallest normal half
  EXPECT_EQ(fp32_to_fp16(0x1p-14f - 0x1p-25f), 0x0400);     // rounds up out of the subnormals
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3C00);
  EXPECT_EQ(fp32_to_fp16(-2.0f), 0xC000);
  const uint16_t qnan = fp32_to_fp16(std::nanf(""));
  EXPECT_TRUE(is_nan_half(qnan));
  // A signalling f32 NaN whose payload lives only in the low bits must not turn into infinity.
  EXPECT_TRUE(is_nan_half(fp32_to_fp16(from_bits(0x7F800001u))));
  EXPECT_TRUE(is_nan_half(fp32_to_fp16(from_bits(0xFF800001u))));
}

#ifdef __FLT16_MAX__
// The compiler's conversion is an independent round-to-nearest-even implementation.
TEST(Fp16, MatchesCompilerConversionOnASweep) {
  uint64_t checked = 0;
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 997) {
    const float f = from_bits(static_cast<uint32_t>(u));
    if (std::isnan(f)) continue;
    const _Float16 ref = static_cast<_Float16>(f);
    uint16_t ref_bits;
    std::memcpy(&ref_bits, &ref, 2);
    ASSERT_EQ(fp32_to_fp16(f), ref_bits) << "f32 bits 0x" << std::hex << u;
    ++checked;
  }
  EXPECT_GT(checked, 4000000u);
}
#endif

}  // namespace
}  // namespace npw
