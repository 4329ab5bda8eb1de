// The panel-packed products (backend/cpu/panel_gemm.h) against naive loops: the layout itself, every
// kernel on sizes that reach every edge (partial row tiles and row blocks, partial panels and column
// blocks, input dimensions split into unequal and several slices, strided and offset rows), and the CPU backend's
// many-rows packing: which storage it picks, and that its products equal the row-major ones. f32,
// f16 and q8_0 panels alike.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/panel_gemm.h"
#include "model/ggml_types.h"
#include "model/quant.h"
#include "naive.h"
#include "simd_levels.h"
#include "util/cpu_features.h"
#include "weight_views.h"

namespace npw {
namespace {

using npw_test::max_rel_err;
using npw_test::naive_gemm;
using npw_test::random_vector;
using npw_test::store;
using npw_test::view_of;

TEST(PanelGemm, LayoutInterleavesThirtyTwoColumnsAlongTheInput) {
  const int n_out = 45, n_in = 7;
  const auto w = random_vector(static_cast<std::size_t>(n_out) * n_in, 1);
  std::vector<float> p(panel_floats(n_out, n_in), -1.0f);
  ASSERT_EQ(p.size(), static_cast<std::size_t>(64) * n_in);
  pack_panels(n_out, n_in, [&](int o) { return w.data() + static_cast<std::size_t>(o) * n_in; }, p.data());
  for (int o = 0; o < 64; ++o) {
    for (int i = 0; i < n_in; ++i) {
      const float got = p[(static_cast<std::size_t>(o / 32) * n_in + i) * 32 + o % 32];
      EXPECT_EQ(got, o < n_out ? w[static_cast<std::size_t>(o) * n_in + i] : 0.0f) << o << " " << i;
    }
  }
}

struct Case {
  int rows, n_in, n_out, r0;
};

template <typename T>
using Kernel = void (*)(const float*, int, int, int, const T*, int, int, const float*, float*, int);

// T = float: the weights as they are; T = uint16_t: the weights rounded to halves, and the product
// checked against the naive one on their exact widening.
template <typename T>
void check_kernel(Kernel<T> kernel, const char* name) {
  // rows: within one tile, exactly one, one past, across the 24-tile row block; n_in: one slice,
  // 257 = 2 x 129, 600 = 3 x 200; n_out: partial first panel, exact panels, one column past.
  // Last tiles of every height at AVX-512 (rows mod 14: 1, 13, 0, 1, 1, 0, 1, 3, 4, 10, 8, 11, 6;
  // the short tiles run at the next even height) and at AVX2 (rows mod 6: 1, 1, 2, 3, 5, 2, 1, 3, 0,
  // 0, 0, 1, 2, 4, 1); n_out 300 and 520: column blocks of 8 panels (AVX2), the last one partial.
  const Case cases[] = {{1, 7, 5, 0},     {13, 192, 32, 3},   {14, 257, 33, 0},  {15, 1, 64, 2},
                        {29, 600, 100, 1}, {350, 64, 31, 5},  {337, 257, 96, 0}, {3, 5, 1, 0},
                        {18, 40, 33, 1},   {24, 100, 64, 0},  {36, 77, 40, 2},   {25, 384, 32, 0},
                        {104, 384, 70, 3}, {16, 100, 300, 1}, {199, 45, 520, 0}};
  for (const Case& c : cases) {
    for (bool with_bias : {false, true}) {
      const int ldx = c.n_in + 3, ldy = c.n_out + 5, total = c.r0 + c.rows + 2;
      auto w = random_vector(static_cast<std::size_t>(c.n_out) * c.n_in, 10 + c.n_in);
      std::vector<T> stored(w.size());
      for (std::size_t i = 0; i < w.size(); ++i) {
        if constexpr (std::is_same_v<T, float>) {
          stored[i] = w[i];
        } else {
          stored[i] = fp32_to_fp16(w[i]);
          w[i] = fp16_to_fp32(stored[i]);
        }
      }
      const auto x = random_vector(static_cast<std::size_t>(total) * ldx, 20 + c.rows);
      const auto b = random_vector(c.n_out, 30);
      AlignedBuffer<T> p(panel_floats(c.n_out, c.n_in));
      pack_panels(c.n_out, c.n_in, [&](int o) { return stored.data() + static_cast<std::size_t>(o) * c.n_in; }, p.data());
      std::vector<float> y(static_cast<std::size_t>(total) * ldy, 42.0f), want = y;
      kernel(x.data(), ldx, c.r0, c.r0 + c.rows, p.data(), c.n_out, c.n_in, with_bias ? b.data() : nullptr, y.data(), ldy);
      naive_gemm(false, true, c.rows, c.n_out, c.n_in, 1.0f, x.data() + static_cast<std::size_t>(c.r0) * ldx, ldx,
                 w.data(), c.n_in, 0.0f, want.data() + static_cast<std::size_t>(c.r0) * ldy, ldy);
      if (with_bias) {
        for (int r = c.r0; r < c.r0 + c.rows; ++r)
          for (int o = 0; o < c.n_out; ++o) want[static_cast<std::size_t>(r) * ldy + o] += b[o];
      }
      // Rows outside [r0, r0 + rows) and the padding columns are left as they were.
      for (int r = 0; r < total; ++r) {
        const bool inside = r >= c.r0 && r < c.r0 + c.rows;
        for (int o = inside ? c.n_out : 0; o < ldy; ++o) ASSERT_EQ(y[static_cast<std::size_t>(r) * ldy + o], 42.0f);
      }
      // Float sums of n_in products in some order, against double: rounding grows like sqrt(n_in).
      EXPECT_LT(max_rel_err(y.data(), want.data(), y.size()), 1e-6 + 1.2e-6 * std::sqrt(c.n_in))
          << name << ": rows " << c.rows << " n_in " << c.n_in << " n_out " << c.n_out << " bias " << with_bias;
    }
  }
}

TEST(PanelGemm, PortableMatchesNaive) {
  check_kernel<float>(panel_gemm_portable, "portable f32");
  check_kernel<uint16_t>(panel_gemm_portable, "portable f16");
}

TEST(PanelGemm, Avx512MatchesNaive) {
  if (cpu_simd_level() != SimdLevel::Avx512) GTEST_SKIP() << "no AVX-512 on this CPU";
  check_kernel<float>(panel_gemm_avx512, "avx512 f32");
  check_kernel<uint16_t>(panel_gemm_avx512, "avx512 f16");
}

TEST(PanelGemm, Avx2MatchesNaive) {
  if (cpu_simd_level() == SimdLevel::Scalar) GTEST_SKIP() << "no AVX2 on this CPU";
  check_kernel<float>(panel_gemm_avx2, "avx2 f32");
  check_kernel<uint16_t>(panel_gemm_avx2, "avx2 f16");
}

// q8_0 panels hold exactly the floats of f32 panels of the dequantised matrix, so both kernels give
// bit-equal products, on input dimensions whose slices start inside a block of 32 (608 = 3 x 203).
TEST(PanelGemm, Q8PanelsEqualF32PanelsOfTheDequantisedWeights) {
  using Q8Kernel = void (*)(const float*, int, int, int, const Q8Panels&, int, int, const float*, float*, int);
  using F32Kernel = Kernel<float>;
  std::vector<std::pair<Q8Kernel, F32Kernel>> kernels = {{panel_gemm_portable, panel_gemm_portable}};
  if (cpu_simd_level() == SimdLevel::Avx512) kernels.push_back({panel_gemm_avx512, panel_gemm_avx512});
  if (cpu_simd_level() != SimdLevel::Scalar) kernels.push_back({panel_gemm_avx2, panel_gemm_avx2});
  const Case cases[] = {{1, 32, 5, 0}, {15, 64, 33, 2}, {29, 608, 100, 1}, {337, 288, 64, 0}, {20, 96, 300, 1}};
  for (const auto& [q8_kernel, f32_kernel] : kernels) {
    for (const Case& c : cases) {
      const auto w = random_vector(static_cast<std::size_t>(c.n_out) * c.n_in, 50 + c.n_in);
      const auto bytes = store(w, GgmlType::Q8_0, c.n_in, c.n_out);
      const std::size_t row_bytes = ggml_row_bytes(GgmlType::Q8_0, c.n_in);
      const int n_blocks = c.n_in / 32;
      std::vector<float> deq(w.size());
      std::vector<uint16_t> scales(static_cast<std::size_t>(c.n_out) * n_blocks);
      std::vector<int8_t> quants(w.size());
      for (int o = 0; o < c.n_out; ++o) {
        const uint8_t* row = bytes.data() + static_cast<std::size_t>(o) * row_bytes;
        dequantize_row(GgmlType::Q8_0, row, deq.data() + static_cast<std::size_t>(o) * c.n_in, c.n_in);
        for (int b = 0; b < n_blocks; ++b) {
          std::memcpy(&scales[static_cast<std::size_t>(o) * n_blocks + b], row + b * 34, 2);
          std::memcpy(quants.data() + static_cast<std::size_t>(o) * c.n_in + b * 32, row + b * 34 + 2, 32);
        }
      }
      AlignedBuffer<float> fp(panel_floats(c.n_out, c.n_in));
      AlignedBuffer<uint16_t> dp(panel_floats(c.n_out, n_blocks));
      AlignedBuffer<int8_t> qp(panel_floats(c.n_out, c.n_in));
      pack_panels(c.n_out, c.n_in, [&](int o) { return deq.data() + static_cast<std::size_t>(o) * c.n_in; }, fp.data());
      pack_panels(c.n_out, c.n_in, [&](int o) { return quants.data() + static_cast<std::size_t>(o) * c.n_in; }, qp.data());
      pack_panels(c.n_out, n_blocks, [&](int o) { return scales.data() + static_cast<std::size_t>(o) * n_blocks; }, dp.data());
      const int ldx = c.n_in + 1, ldy = c.n_out + 2, total = c.r0 + c.rows;
      const auto x = random_vector(static_cast<std::size_t>(total) * ldx, 60 + c.rows);
      const auto b = random_vector(c.n_out, 61);
      std::vector<float> want(static_cast<std::size_t>(total) * ldy, 7.0f), got = want;
      f32_kernel(x.data(), ldx, c.r0, total, fp.data(), c.n_out, c.n_in, b.data(), want.data(), ldy);
      q8_kernel(x.data(), ldx, c.r0, total, Q8Panels{qp.data(), dp.data()}, c.n_out, c.n_in, b.data(), got.data(), ldy);
      ASSERT_EQ(got, want) << "rows " << c.rows << " n_in " << c.n_in << " n_out " << c.n_out;
    }
  }
}

// Weights kept in rows, read by the same kernels a slice at a time: the same floats as the panels of
// the same values, so the same products bit for bit (partial panels, slices with tails, blocks of 32
// split across slices), and the naive product within rounding, for f32, f16 and q8_0 rows (and the
// 4/5-bit types the backend keeps as quants, with and without offsets).
template <typename Rows>
void check_rows_against_panels(const char* name, GgmlType type) {
  using RowsKernel = void (*)(const float*, int, int, int, const Rows&, int, int, const float*, float*, int);
  using PanelsKernel = Kernel<float>;
  std::vector<std::pair<RowsKernel, PanelsKernel>> kernels = {{panel_gemm_portable, panel_gemm_portable}};
  if (cpu_simd_level() == SimdLevel::Avx512) kernels.push_back({panel_gemm_avx512, panel_gemm_avx512});
  if (cpu_simd_level() != SimdLevel::Scalar) kernels.push_back({panel_gemm_avx2, panel_gemm_avx2});
  const Case cases[] = {{1, 32, 5, 0},    {9, 64, 33, 2},    {35, 608, 100, 1},
                        {337, 288, 64, 0}, {14, 96, 17, 3},  {20, 96, 300, 1}};
  for (const auto& [rows_kernel, panels_kernel] : kernels) {
    for (const Case& c : cases) {
      const auto w = random_vector(static_cast<std::size_t>(c.n_out) * c.n_in, 70 + c.n_in);
      const auto bytes = store(w, type, c.n_in, c.n_out);
      CpuBackend be(1);
      auto rows_packed = be.pack(view_of(bytes, type, c.n_in, c.n_out));
      const auto& rp = static_cast<const CpuPackedMatrix&>(*rows_packed);
      // The rows' f32 values, and the same values in panels of the same storage.
      std::vector<float> deq(w.size());
      const std::size_t row_bytes = ggml_row_bytes(type, c.n_in);
      for (int o = 0; o < c.n_out; ++o) {
        dequantize_row(type, bytes.data() + static_cast<std::size_t>(o) * row_bytes,
                       deq.data() + static_cast<std::size_t>(o) * c.n_in, c.n_in);
      }
      Rows rows;
      if constexpr (std::is_same_v<Rows, FloatRows>) {
        rows = FloatRows{rp.data()};
      } else if constexpr (std::is_same_v<Rows, HalfRows>) {
        rows = HalfRows{rp.half_data()};
      } else {
        rows = rp.q8();
      }
      AlignedBuffer<float> fp(panel_floats(c.n_out, c.n_in));
      pack_panels(c.n_out, c.n_in, [&](int o) { return deq.data() + static_cast<std::size_t>(o) * c.n_in; }, fp.data());
      const int ldx = c.n_in + 2, ldy = c.n_out + 3, total = c.r0 + c.rows + 1;
      const auto x = random_vector(static_cast<std::size_t>(total) * ldx, 80 + c.rows);
      const auto b = random_vector(c.n_out, 81);
      std::vector<float> got(static_cast<std::size_t>(total) * ldy, 5.0f), want = got, naive = got;
      rows_kernel(x.data(), ldx, c.r0, c.r0 + c.rows, rows, c.n_out, c.n_in, b.data(), got.data(), ldy);
      panels_kernel(x.data(), ldx, c.r0, c.r0 + c.rows, fp.data(), c.n_out, c.n_in, b.data(), want.data(), ldy);
      ASSERT_EQ(got, want) << name << ": rows " << c.rows << " n_in " << c.n_in << " n_out " << c.n_out;
      naive_gemm(false, true, c.rows, c.n_out, c.n_in, 1.0f, x.data() + static_cast<std::size_t>(c.r0) * ldx, ldx,
                 deq.data(), c.n_in, 0.0f, naive.data() + static_cast<std::size_t>(c.r0) * ldy, ldy);
      for (int r = c.r0; r < c.r0 + c.rows; ++r)
        for (int o = 0; o < c.n_out; ++o) naive[static_cast<std::size_t>(r) * ldy + o] += b[o];
      EXPECT_LT(max_rel_err(got.data(), naive.data(), got.size()), 1e-6 + 1.2e-6 * std::sqrt(c.n_in)) << name;
    }
  }
}

// B [n_in][n_out] read by columns as W = B^T: the same floats as panels of B^T, so the same products
// bit for bit (partial panels, column blocks, slices with tails, B's rows wider than n_out).
TEST(PanelGemm, ColumnsEqualPanelsOfTheTranspose) {
  using ColumnsKernel = void (*)(const float*, int, int, int, const FloatColumns&, int, int, const float*, float*, int);
  std::vector<std::pair<ColumnsKernel, Kernel<float>>> kernels = {{panel_gemm_portable, panel_gemm_portable}};
  if (cpu_simd_level() == SimdLevel::Avx512) kernels.push_back({panel_gemm_avx512, panel_gemm_avx512});
  if (cpu_simd_level() != SimdLevel::Scalar) kernels.push_back({panel_gemm_avx2, panel_gemm_avx2});
  const Case cases[] = {{1, 7, 5, 0}, {37, 64, 1500, 1}, {14, 257, 33, 2}, {100, 96, 300, 0}};
  for (const auto& [columns_kernel, panels_kernel] : kernels) {
    for (const Case& c : cases) {
      // B's rows exactly n_out long for the odd widths: a read past a partial panel's last column would
      // leave the buffer at its last row (ASan's build).
      const std::size_t ldb = static_cast<std::size_t>(c.n_out) + (c.n_out % 2 ? 0 : 3);
      const auto b = random_vector(static_cast<std::size_t>(c.n_in) * ldb, 90 + c.n_out);
      std::vector<float> wt(static_cast<std::size_t>(c.n_out) * c.n_in);  // B^T
      for (int o = 0; o < c.n_out; ++o)
        for (int i = 0; i < c.n_in; ++i) wt[static_cast<std::size_t>(o) * c.n_in + i] = b[i * ldb + o];
      AlignedBuffer<float> fp(panel_floats(c.n_out, c.n_in));
      pack_panels(c.n_out, c.n_in, [&](int o) { return wt.data() + static_cast<std::size_t>(o) * c.n_in; }, fp.data());
      const int ldx = c.n_in + 1, ldy = c.n_out + 2, total = c.r0 + c.rows;
      const auto x = random_vector(static_cast<std::size_t>(total) * ldx, 91 + c.rows);
      std::vector<float> got(static_cast<std::size_t>(total) * ldy, 6.0f), want = got;
      columns_kernel(x.data(), ldx, c.r0, total, FloatColumns{b.data(), ldb}, c.n_out, c.n_in, nullptr, got.data(), ldy);
      panels_kernel(x.data(), ldx, c.r0, total, fp.data(), c.n_out, c.n_in, nullptr, want.data(), ldy);
      ASSERT_EQ(got, want) << "rows " << c.rows << " n_in " << c.n_in << " n_out " << c.n_out;
    }
  }
}

TEST(PanelGemm, RowsEqualPanelsOfTheSameValues) {
  check_rows_against_panels<FloatRows>("f32 rows", GgmlType::F32);
  check_rows_against_panels<HalfRows>("f16 rows", GgmlType::F16);
  check_rows_against_panels<Q8Weights>("q8_0 rows", GgmlType::Q8_0);
  check_rows_against_panels<Q8Weights>("q5_0 rows", GgmlType::Q5_0);
  // With offsets: quant x scale + offset in one FMA in the gather, dequantize_row's value all the same.
  check_rows_against_panels<Q8Weights>("q5_1 rows", GgmlType::Q5_1);
  check_rows_against_panels<Q8Weights>("q4_1 rows", GgmlType::Q4_1);
}

// The backend's row storages (pack(): what the decoder keeps) take the many-row kernel for more rows
// than the skinny kernels take, at AVX2 and AVX-512, split over rows or over columns; every level
// agrees with the naive product.
TEST(PanelGemm, RowStoragesMultiplyManyRowsAtEveryLevel) {
  npw_test::at_every_level([] {
    const int n_in = 96, n_out = 170;
    const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 90);
    const auto b = random_vector(n_out, 91);
    for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q4_1}) {
      const auto bytes = store(w, t, n_in, n_out);
      std::vector<float> deq(w.size());
      for (int o = 0; o < n_out; ++o) {
        dequantize_row(t, bytes.data() + static_cast<std::size_t>(o) * ggml_row_bytes(t, n_in),
                       deq.data() + static_cast<std::size_t>(o) * n_in, n_in);
      }
      for (int threads : {1, 2}) {
        CpuBackend be(threads);
        auto packed = be.pack(view_of(bytes, t, n_in, n_out));
        // 16 and 17: either side of the skinny path's limit at AVX2 (kSkinnyBlockedMaxRowsAvx2); 80:
        // past it at every level, split by columns.
        for (int M : {9, 16, 17, 35, 60, 80, 300}) {
          const int ldx = n_in + 1, ldy = n_out + 2;
          const auto x = random_vector(static_cast<std::size_t>(M) * ldx, 92 + M);
          std::vector<float> got(static_cast<std::size_t>(M) * ldy, 4.0f), want = got;
          be.linear(x.data(), M, ldx, *packed, b.data(), got.data(), ldy);
          naive_gemm(false, true, M, n_out, n_in, 1.0f, x.data(), ldx, deq.data(), n_in, 0.0f, want.data(), ldy);
          for (int r = 0; r < M; ++r)
            for (int o = 0; o < n_out; ++o) want[static_cast<std::size_t>(r) * ldy + o] += b[o];
          EXPECT_LT(max_rel_err(got.data(), want.data(), got.size()), 2e-5)
              << ggml_type_name(t) << " M " << M << " threads " << threads;
        }
      }
    }
  });
}

// What pack_for_many_rows keeps: panels at the AVX2 and AVX-512 levels (halves for f16, int8 quants +
// scales for q8_0, q5_0 and q4_0, f32 for f32), rows at the scalar level (for OpenBLAS); q5_1 and
// q4_1 stay in rows (quants, scales and offsets) at every level.
TEST(PanelGemm, ManyRowsPackingPicksPanelsFromAvx2On) {
  npw_test::at_every_level([] {
    CpuBackend be(2);
    const int n_in = 64, n_out = 40;
    const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 5);
    for (GgmlType t : {GgmlType::F32, GgmlType::Q8_0, GgmlType::F16, GgmlType::Q5_0, GgmlType::Q4_0, GgmlType::Q5_1}) {
      const auto bytes = store(w, t, n_in, n_out);
      auto packed = be.pack_for_many_rows(view_of(bytes, t, n_in, n_out));
      const auto& cp = static_cast<const CpuPackedMatrix&>(*packed);
      const bool half = t == GgmlType::F16, panels = active_simd_level() != SimdLevel::Scalar && !is_offset_int8_type(t);
      const auto want = panels ? (half                    ? CpuPackedMatrix::Storage::F16Panels
                                  : is_scaled_int8_type(t) ? CpuPackedMatrix::Storage::Q8Panels
                                                          : CpuPackedMatrix::Storage::F32Panels)
                               : (half                    ? CpuPackedMatrix::Storage::F16
                                  : is_scaled_int8_type(t) || is_offset_int8_type(t) ? CpuPackedMatrix::Storage::Q8
                                                          : CpuPackedMatrix::Storage::F32);
      EXPECT_EQ(cp.storage(), want) << ggml_type_name(t);
      EXPECT_EQ(cp.n_in(), n_in);
      EXPECT_EQ(cp.n_out(), n_out);
    }
  });
}

// Products through the many-rows packing equal those through pack() (rows and OpenBLAS), for
// dequantised types too, on one thread and split over two, with strides; and a matrix packed into
// panels still multiplies correctly when the active level is lowered afterwards (AVX2's kernel, the
// portable loop).
TEST(PanelGemm, ManyRowsProductsEqualRowProducts) {
  if (active_simd_level() == SimdLevel::Scalar) GTEST_SKIP() << "panels are chosen from the AVX2 level on";
  const int n_in = 288, n_out = 170;
  const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 6);
  const auto b = random_vector(n_out, 7);
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_1}) {
    const auto bytes = store(w, t, n_in, n_out);
    const auto want_storage = t == GgmlType::F16             ? CpuPackedMatrix::Storage::F16Panels
                              : is_offset_int8_type(t) ? CpuPackedMatrix::Storage::Q8
                              : is_scaled_int8_type(t) ? CpuPackedMatrix::Storage::Q8Panels
                                                    : CpuPackedMatrix::Storage::F32Panels;
    for (int threads : {1, 2}) {
      CpuBackend be(threads);
      auto rows = be.pack(view_of(bytes, t, n_in, n_out));
      auto panels = be.pack_for_many_rows(view_of(bytes, t, n_in, n_out));
      ASSERT_EQ(static_cast<const CpuPackedMatrix&>(*panels).storage(), want_storage);
      for (int M : {1, 9, 14, 300, 1500}) {
        const int ldx = n_in + 1, ldy = n_out + 3;
        const auto x = random_vector(static_cast<std::size_t>(M) * ldx, 40 + M);
        std::vector<float> want(static_cast<std::size_t>(M) * ldy, 3.0f), got = want;
        const float* bias = M % 2 ? b.data() : nullptr;
        be.linear(x.data(), M, ldx, *rows, bias, want.data(), ldy);
        be.linear(x.data(), M, ldx, *panels, bias, got.data(), ldy);
        // Both sides are f32 sums in some order (the same kernel for more than 8 rows).
        const double bound = 1e-6 + 1.2e-6 * std::sqrt(n_in);
        EXPECT_LT(max_rel_err(got.data(), want.data(), got.size()), bound)
            << ggml_type_name(t) << " M " << M << " threads " << threads;
        if (M == 300) {
          const SimdLevel saved = active_simd_level();
          for (SimdLevel lower : {SimdLevel::Avx2, SimdLevel::Scalar}) {
            if (lower >= saved) continue;
            set_active_simd_level(lower);
            std::fill(got.begin(), got.end(), 3.0f);
            be.linear(x.data(), M, ldx, *panels, bias, got.data(), ldy);
            set_active_simd_level(saved);
            EXPECT_LT(max_rel_err(got.data(), want.data(), got.size()), bound)
                << ggml_type_name(t) << " at " << simd_level_name(lower);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace npw
