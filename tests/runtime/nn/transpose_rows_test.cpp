// transpose_rows.h against the naive loop, at every SIMD level: every element moved (or rounded to a
// half as fp32_to_fp16 rounds it) to its place, nothing written past the rows and columns asked, on
// shapes around the 8 and 16 tiles, strides wider than the rows, and a window's 1500 x 384 keys.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "model/quant.h"
#include "naive.h"
#include "nn/transpose_rows.h"
#include "simd_levels.h"

namespace npw {
namespace {

struct Case {
  int rows, cols, extra_lds, extra_ldd;
};

TEST(TransposeRows, EveryElementInItsPlaceAtEveryLevel) {
  const Case cases[] = {{1, 1, 0, 0},   {7, 9, 0, 3},    {8, 8, 0, 0},     {15, 17, 5, 1},   {16, 16, 0, 0},
                        {17, 15, 3, 7}, {33, 48, 16, 5}, {64, 24, 0, 16},  {100, 64, 7, 0},  {1500, 384, 1168, 4}};
  npw_test::at_every_level([&] {
    for (const Case& k : cases) {
      const std::size_t lds = static_cast<std::size_t>(k.cols + k.extra_lds);
      const std::size_t ldd = static_cast<std::size_t>(k.rows + k.extra_ldd);
      auto src = npw_test::random_vector(static_cast<std::size_t>(k.rows) * lds, 7 + k.rows, -70000.0f, 70000.0f);
      // Values around the halves' rounding: ties, subnormals and overflow to infinity among them.
      if (k.rows * k.cols >= 4) {
        src[0] = 65520.0f;               // rounds up to +inf
        src[1] = 1.0f + 1.0f / 2048.0f;  // a tie, to even (1.0)
        src[2] = 3e-6f;                  // a half subnormal
        src[3] = -0.0f;
      }
      const float sentinel = 12345.0f;
      const uint16_t half_sentinel = 0x7e01;
      std::vector<float> want(static_cast<std::size_t>(k.cols) * ldd, sentinel), got(want.size(), sentinel);
      std::vector<uint16_t> want_h(want.size(), half_sentinel), got_h(want.size(), half_sentinel);
      for (int j = 0; j < k.rows; ++j) {
        for (int c = 0; c < k.cols; ++c) {
          const float v = src[static_cast<std::size_t>(j) * lds + c];
          want[static_cast<std::size_t>(c) * ldd + j] = v;
          want_h[static_cast<std::size_t>(c) * ldd + j] = fp32_to_fp16(v);
        }
      }
      transpose_rows(src.data(), lds, k.rows, k.cols, got.data(), ldd);
      transpose_rows_to_halves(src.data(), lds, k.rows, k.cols, got_h.data(), ldd);
      ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0) << k.rows << " x " << k.cols;
      ASSERT_EQ(std::memcmp(got_h.data(), want_h.data(), got_h.size() * sizeof(uint16_t)), 0)
          << k.rows << " x " << k.cols << " (halves)";
    }
  });
}

TEST(TransposeRows, NoRowsOrNoColumnsWriteNothing) {
  std::vector<float> dst(4, 1.0f);
  std::vector<uint16_t> dst_h(4, 1);
  const float src[4] = {2, 3, 4, 5};
  transpose_rows(src, 2, 0, 2, dst.data(), 2);
  transpose_rows(src, 2, 2, 0, dst.data(), 2);
  transpose_rows_to_halves(src, 2, 0, 2, dst_h.data(), 2);
  for (float v : dst) EXPECT_EQ(v, 1.0f);
  for (uint16_t v : dst_h) EXPECT_EQ(v, 1);
}

}  // namespace
}  // namespace npw
