// The emulated device ops and the host-side quantisation against naive loops: odd shapes, padding,
// the int8 extremes (+-127, -128, saturating sums of -128 x -128), zero rows, bf16 subnormals and
// rounding; every instruction-set variant gives the same bits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "backend/npu/emulated_ops.h"
#include "backend/npu/host_quantize.h"
#include "util/cpu_features.h"
#include "util/thread_pool.h"

namespace npw {
namespace npu {
namespace {

std::vector<int32_t> naive_i8(const std::vector<int8_t>& A, const std::vector<int8_t>& B, int M, int N, int K) {
  std::vector<int32_t> C(static_cast<std::size_t>(M) * N);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      int64_t s = 0;
      for (int k = 0; k < K; ++k) s += int64_t(A[size_t(m) * K + k]) * B[size_t(n) * K + k];
      EXPECT_LE(std::llabs(s), int64_t(INT32_MAX));
      C[size_t(m) * N + n] = static_cast<int32_t>(s);
    }
  return C;
}

struct Shape {
  int M, N, K;
};

TEST(EmulatedGemmI8, EqualsNaiveOnOddShapesAndExtremes) {
  std::mt19937 rng(7);
  ThreadPool pool(2);
  const bool avx2 = cpu_simd_level() >= SimdLevel::Avx2;
  for (Shape s : {Shape{1, 1, 1}, Shape{3, 5, 17}, Shape{37, 70, 100}, Shape{256, 128, 64}, Shape{5, 3, 5120},
                  Shape{64, 33, 31}}) {
    for (int fill = 0; fill < 4; ++fill) {
      std::vector<int8_t> A(size_t(s.M) * s.K), B(size_t(s.N) * s.K);
      for (auto* v : {&A, &B}) {
        for (int8_t& x : *v) {
          switch (fill) {
            case 0: x = static_cast<int8_t>(int(rng() % 256) - 128); break;  // the whole range
            case 1: x = -128; break;                                          // the largest sums
            case 2: x = (rng() & 1) ? 127 : -127; break;
            default: x = 0; break;                                            // zero rows
          }
        }
      }
      if (fill == 1) B[0] = 127;  // mixed signs at the extreme
      const std::vector<int32_t> want = naive_i8(A, B, s.M, s.N, s.K);
      std::vector<int32_t> got(want.size(), 0x5a5a5a5a);
      emulate_gemm_i8(A.data(), B.data(), got.data(), s.M, s.N, s.K, &pool);
      EXPECT_EQ(got, want) << s.M << "x" << s.N << "x" << s.K << " fill " << fill;
      std::vector<int32_t> scalar(want.size()), vec(want.size());
      gemm_i8_rows_scalar(A.data(), B.data(), scalar.data(), 0, s.M, s.N, s.K);
      EXPECT_EQ(scalar, want);
      if (avx2) {
        gemm_i8_rows_avx2(A.data(), B.data(), vec.data(), 0, s.M, s.N, s.K);
        EXPECT_EQ(vec, want) << "avx2 " << s.M << "x" << s.N << "x" << s.K << " fill " << fill;
      }
    }
  }
  // -128 x -128 over the contract's largest K: 5120 * 16384 = 83886080, exact in int32.
  std::vector<int8_t> A(5120, -128), B(5120, -128);
  int32_t c = 0;
  emulate_gemm_i8(A.data(), B.data(), &c, 1, 1, 5120, nullptr);
  EXPECT_EQ(c, 5120 * 16384);
}

uint16_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return static_cast<uint16_t>(u >> 16);
}

TEST(EmulatedGemmBf16, RoundingAndSubnormals) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0); 1 + 3 * 2^-8 rounds up to even.
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(bf16_to_f32_ftz(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
  // Subnormal bf16 inputs are zero on the device (sign kept), normal ones are exact.
  EXPECT_EQ(bf16_to_f32_ftz(0x0001), 0.0f);
  EXPECT_TRUE(std::signbit(bf16_to_f32_ftz(0x8040)));
  EXPECT_EQ(bf16_to_f32_ftz(0x0080), std::ldexp(1.0f, -126));
  const uint16_t a[2] = {0x0040, bits(2.0f)}, b[2] = {bits(3.0f), bits(4.0f)};
  float c = -1;
  emulate_gemm_bf16(a, b, &c, 1, 1, 2, nullptr);
  EXPECT_EQ(c, 8.0f);  // the subnormal contributes nothing
}

TEST(EmulatedGemmBf16, VariantsAgreeAndStayWithinTheContractBound) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (Shape s : {Shape{3, 5, 17}, Shape{37, 20, 300}, Shape{8, 8, 5120}}) {
    std::vector<uint16_t> A(size_t(s.M) * s.K), B(size_t(s.N) * s.K);
    for (auto& x : A) x = f32_to_bf16(nd(rng));
    for (auto& x : B) x = f32_to_bf16(nd(rng) * 0.01f);
    A[0] = 0x0011;  // a subnormal
    std::vector<float> scalar(size_t(s.M) * s.N), got(scalar.size());
    gemm_bf16_rows_scalar(A.data(), B.data(), scalar.data(), 0, s.M, s.N, s.K);
    emulate_gemm_bf16(A.data(), B.data(), got.data(), s.M, s.N, s.K, nullptr);
    EXPECT_EQ(0, std::memcmp(scalar.data(), got.data(), got.size() * 4)) << "variants differ";
    const double u = std::ldexp(1.0, -24), gamma = (s.K - 1) * u / (1 - (s.K - 1) * u);
    for (int m = 0; m < s.M; ++m)
      for (int n = 0; n < s.N; ++n) {
        double exact = 0, abs_sum = 0;
        for (int k = 0; k < s.K; ++k) {
          const double p = double(bf16_to_f32_ftz(A[size_t(m) * s.K + k])) * bf16_to_f32_ftz(B[size_t(n) * s.K + k]);
          exact += p;
          abs_sum += std::fabs(p);
        }
        // One order's error against the exact sum: half the contract's emulator-vs-device bound.
        EXPECT_LE(std::fabs(got[size_t(m) * s.N + n] - exact), gamma * abs_sum + 1e-30);
      }
  }
}

TEST(HostQuantize, RowRuleSaturationPaddingAndZeros) {
  std::vector<int8_t> q(64, 99);
  // max|x| maps to +-127 exactly; ties round to even; padding is zeroed.
  const float x[5] = {-2.54f, 1.0f, 0.01f, 2.54f, 0.0f};
  const float d = quantize_row_i8(x, 5, 64, q.data());
  EXPECT_FLOAT_EQ(d, 2.54f / 127.0f);
  EXPECT_EQ(q[0], -127);
  EXPECT_EQ(q[3], 127);
  EXPECT_EQ(q[1], static_cast<int8_t>(std::nearbyint(1.0f * (1.0f / d))));
  for (int k = 4; k < 64; ++k) EXPECT_EQ(q[k], 0) << k;
  // An all-zero row: scale 0, all zeros (no division by zero).
  const std::vector<float> zeros(40, 0.0f);
  EXPECT_EQ(quantize_row_i8(zeros.data(), 40, 64, q.data()), 0.0f);
  for (int k = 0; k < 64; ++k) EXPECT_EQ(q[k], 0);
  // The scalar and AVX2 paths give the same bits on long random rows.
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  std::vector<float> row(1000);
  for (float& v : row) v = nd(rng);
  row[17] = 0.5f * row[3];
  std::vector<int8_t> a(1024), b(1024);
  const SimdLevel saved = active_simd_level();
  set_active_simd_level(SimdLevel::Scalar);
  const float da = quantize_row_i8(row.data(), 1000, 1024, a.data());
  set_active_simd_level(saved);
  const float db = quantize_row_i8(row.data(), 1000, 1024, b.data());
  EXPECT_EQ(da, db);
  EXPECT_EQ(a, b);
  for (int k = 0; k < 1000; ++k) {
    const float want = std::nearbyint(row[size_t(k)] / da);
    EXPECT_LE(std::fabs(a[size_t(k)] - want), 1.0f) << k;  // 1/d vs division: at most one step at a tie
    EXPECT_LE(std::abs(int(a[size_t(k)])), 127);
  }
}

TEST(HostQuantize, DequantizeAppliesBothScalesAndBias) {
  const int32_t c[9] = {1, -2, 3, 4, 5, 6, 7, 8, 2147483647};
  float cs[9], bias[9], y[9];
  for (int j = 0; j < 9; ++j) {
    cs[j] = 0.5f * (j + 1);
    bias[j] = float(j);
  }
  dequantize_row_i8(c, 9, 0.25f, cs, bias, y);
  for (int j = 0; j < 9; ++j) EXPECT_EQ(y[j], float(c[j]) * (0.25f * cs[j]) + bias[j]) << j;
  dequantize_row_i8(c, 9, 0.25f, cs, nullptr, y);
  for (int j = 0; j < 9; ++j) EXPECT_EQ(y[j], float(c[j]) * (0.25f * cs[j])) << j;
}

}  // namespace
}  // namespace npu
}  // namespace npw
