// The int8 backend against references: the quantisation rule on hand-worked blocks, packing of every
// storage type (q8_0 bit-exactly as the file holds it), every kernel variant this machine runs against
// the scalar one (bit-identical: same integer sums, same f32 operations in the same order), the scalar
// one against a double-precision evaluation of the same quantised numbers, and the whole product
// against the f32 product within the error int8 allows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/int8_backend.h"
#include "backend/cpu/int8_kernels.h"
#include "backend/cpu/int8_pack.h"
#include "model/quant.h"
#include "naive.h"
#include "nn/ops.h"
#include "simd_levels.h"
#include "weight_views.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using npw_test::random_vector;

using npw_test::store;
using npw_test::view_of;

// Blocks whose scale is a power of two, so x / d is exact and the expected integers can be written down.
TEST(Int8Quantize, HandWorkedBlocks) {
  {
    // max |x| = 127: d = 1; halves round to even.
    float x[32] = {127.0f, -3.4f, 2.5f, -2.5f, 0.49f, 1.5f, -0.5f, 126.6f, -127.0f, 3.5f};
    const int8_t want[32] = {127, -3, 2, -2, 0, 2, 0, 127, -127, 4};
    int8_t q[32];
    EXPECT_EQ(int8_quantize_block(x, 32, q), 1.0f);
    for (int i = 0; i < 32; ++i) EXPECT_EQ(q[i], want[i]) << "element " << i;
  }
  {
    // max |x| = 127 / 8: d = 0.125, x * 8 exact; a partial block of 5.
    const float x[5] = {-15.875f, 0.0625f, 0.1875f, 7.0f, -0.3125f};
    const int8_t want[5] = {-127, 0, 2, 56, -2};
    int8_t q[5];
    EXPECT_EQ(int8_quantize_block(x, 5, q), 0.125f);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(q[i], want[i]) << "element " << i;
  }
  {
    const float zeros[32] = {};
    int8_t q[32];
    std::memset(q, 9, sizeof q);
    EXPECT_EQ(int8_quantize_block(zeros, 32, q), 0.0f);
    for (int8_t v : q) EXPECT_EQ(v, 0);
  }
}

// Random blocks: every value within half a step of x / d, and the extreme one at +-127.
TEST(Int8Quantize, RandomBlocksWithinHalfAStep) {
  const auto x = random_vector(32 * 50, 7, -3.0f, 3.0f);
  for (int b = 0; b < 50; ++b) {
    int8_t q[32];
    const float* blk = x.data() + 32 * b;
    const float d = int8_quantize_block(blk, 32, q);
    double amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(double(blk[i])));
    EXPECT_NEAR(d, amax / 127.0, 1e-7 * amax);
    for (int i = 0; i < 32; ++i) {
      EXPECT_LE(std::fabs(blk[i] / double(d) - q[i]), 0.5 + 1e-4) << "block " << b << " element " << i;
      if (std::fabs(blk[i]) == amax) {
        EXPECT_EQ(std::abs(int(q[i])), 127);
      }
    }
  }
}

// Every variant's activation quantiser gives int8_quantize_block's values and scales, bit for bit, on
// rows of every block count around the AVX-512 quantiser's groups of 16 blocks (a partial last block,
// zero blocks, a block whose largest magnitude is negative, wide ranges between blocks, blocks holding
// an infinity: scale infinity, the infinities' quants -127 (their products with 0 are NaN, whose
// integer conversion every variant must clamp like the rule), the finite values' 0).
TEST(Int8Quantize, EveryVariantQuantisesAsTheRule) {
  for (int n_in : {7, 32, 240, 500, 512, 530, 1536, 1550}) {
    const int nb = (n_in + 31) / 32, ldx = n_in + 3, M = 4;
    std::vector<float> x = random_vector(static_cast<std::size_t>(M) * ldx, 70 + n_in, -3.0f, 3.0f);
    for (int k = 0; k < std::min(n_in, 32); ++k) x[static_cast<std::size_t>(ldx) + k] = 0.0f;  // row 1, block 0
    if (n_in > 64) x[64] = -50.0f;                                                             // row 0, block 2
    for (int k = 0; k < n_in; ++k) x[2 * static_cast<std::size_t>(ldx) + k] *= std::ldexp(1.0f, (k / 32) % 20 - 10);
    for (int k = 0; k < n_in; k += 13) x[3 * static_cast<std::size_t>(ldx) + k] = k % 2 ? -INFINITY : INFINITY;
    for (Int8Isa isa : int8_supported_isas()) {
      const Int8Kernel& kern = int8_kernel(isa);
      const std::size_t ldq = static_cast<std::size_t>(nb) * 32;
      std::vector<uint8_t> q(M * ldq, 0xAB);
      std::vector<float> sc(static_cast<std::size_t>(M) * nb, -1.0f);
      const Int8Rows rows{q.data(), ldq, sc.data(), static_cast<std::size_t>(nb)};
      kern.quantize(x.data(), ldx, n_in, nb, 0, M, rows);
      for (int m = 0; m < M; ++m) {
        for (int b = 0; b < nb; ++b) {
          int8_t want[32] = {};
          const int n = std::min(32, n_in - b * 32);
          const float d = int8_quantize_block(x.data() + static_cast<std::size_t>(m) * ldx + b * 32, n, want);
          ASSERT_EQ(sc[static_cast<std::size_t>(m) * nb + b], d) << int8_isa_name(isa) << " n_in " << n_in << " row " << m << " block " << b;
          // The VNNI variant stores q + 128 as unsigned; AVX2 and scalar store q; AMX hands these 4
          // rows to the VNNI variant, so stores q + 128 too.
          const bool offset = isa == Int8Isa::Avx512Vnni || isa == Int8Isa::Amx;
          for (int k = 0; k < n; ++k) {
            const uint8_t got = q[m * ldq + b * 32 + k];
            ASSERT_EQ(offset ? static_cast<int>(got) - 128 : static_cast<int>(static_cast<int8_t>(got)), want[k])
                << int8_isa_name(isa) << " n_in " << n_in << " row " << m << " input " << b * 32 + k;
          }
        }
      }
    }
  }
}

// q8_0, q5_0 and q4_0 are integers times their block's f16 scale: kept as they are, so every weight is
// the file's value bit for bit and whole rows come back exactly.
TEST(Int8Pack, ScaledIntegerTypesAreKeptBitExactly) {
  const int n_in = 96, n_out = 37;
  const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 3);
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q4_0}) {
    const auto bytes = store(w, t, n_in, n_out, 3);  // unaligned in the buffer
    auto packed = int8_pack(view_of(bytes, t, n_in, n_out, 3), nullptr);
    ASSERT_EQ(packed->n_out(), n_out);
    ASSERT_EQ(packed->n_in(), n_in);
    // 3 tiles x 3 blocks, q8_0's 544 bytes each, each tile's 3 x 544 bytes rounded up to whole cache
    // lines: q8_0's own size (no sums or wider scales beside the quants).
    EXPECT_EQ(packed->bytes(), std::size_t(3) * 1664);
    const std::size_t row = ggml_row_bytes(t, n_in);
    std::vector<float> want(n_in), got(n_in);
    for (int o = 0; o < n_out; ++o) {
      const uint8_t* src = bytes.data() + 3 + o * row;
      dequantize_row(t, src, want.data(), n_in);
      for (int b = 0; b < n_in / 32; ++b) {
        uint16_t d;
        std::memcpy(&d, src + b * ggml_row_bytes(t, 32), 2);  // every block starts with its scale
        ASSERT_EQ(packed->scale(o, b * 32), fp16_to_fp32(d)) << ggml_type_name(t) << " row " << o << " block " << b;
        for (int k = 0; k < 32; ++k) {
          const int i = b * 32 + k;
          ASSERT_EQ(static_cast<float>(packed->value(o, i)) * packed->scale(o, i), want[i])
              << ggml_type_name(t) << " row " << o << " col " << i;
        }
      }
      ASSERT_TRUE(packed->copy_row(o, got.data())) << ggml_type_name(t);
      EXPECT_EQ(std::memcmp(got.data(), want.data(), sizeof(float) * n_in), 0) << ggml_type_name(t) << " row " << o;
    }
  }
}

// f32, f16, q4_1 and q5_1 (whose weights carry an offset): quantised from the values the file denotes
// with the one rule, at every SIMD level (the AVX-512 row quantiser where the int8 products use it,
// F16C widening of aligned halves), aligned and not; rows holding NaN or infinity by the rule too;
// columns past n_in and rows past n_out are zero (n_in = 240, as the first convolution's, is not a
// multiple of 32).
TEST(Int8Pack, OtherTypesQuantiseTheirValues) {
  struct Case {
    GgmlType type;
    int n_in;
    std::size_t skip;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  npw_test::at_every_level([&] {
    for (const Case c : {Case{GgmlType::F32, 240, 0}, Case{GgmlType::F32, 64, 1}, Case{GgmlType::F16, 96, 0},
                         Case{GgmlType::F16, 240, 0}, Case{GgmlType::F16, 96, 1}, Case{GgmlType::Q4_1, 64, 1},
                         Case{GgmlType::Q5_1, 96, 1}}) {
      const int n_out = 21;
      auto w = random_vector(static_cast<std::size_t>(c.n_in) * n_out, 4);
      if (c.type == GgmlType::F32 || c.type == GgmlType::F16) {
        w[static_cast<std::size_t>(3 * c.n_in + 5)] = nan;       // row 3, first block
        w[static_cast<std::size_t>(7 * c.n_in + c.n_in - 1)] = -inf;  // row 7, last block
        w[static_cast<std::size_t>(11 * c.n_in + 40)] = inf;
        w[static_cast<std::size_t>(11 * c.n_in + 41)] = nan;
        // A NaN in the lane that also holds the block's largest magnitude (inputs 2 and 18).
        w[static_cast<std::size_t>(5 * c.n_in + 2)] = 50.0f;
        w[static_cast<std::size_t>(5 * c.n_in + 18)] = nan;
      }
      const auto bytes = store(w, c.type, c.n_in, n_out, c.skip);
      auto packed = int8_pack(view_of(bytes, c.type, c.n_in, n_out, c.skip), nullptr);
      const std::size_t row = ggml_row_bytes(c.type, c.n_in);
      const std::string what = std::string(ggml_type_name(c.type)) + " n_in " + std::to_string(c.n_in) + " skip " +
                               std::to_string(c.skip);
      std::vector<float> vals(c.n_in);
      for (int o = 0; o < 32; ++o) {
        if (o < n_out) dequantize_row(c.type, bytes.data() + c.skip + o * row, vals.data(), c.n_in);
        for (int b = 0; b < packed->n_blocks(); ++b) {
          int8_t q[32] = {};
          float d = 0.0f;
          if (o < n_out) d = int8_quantize_block(vals.data() + b * 32, std::min(32, c.n_in - b * 32), q);
          // The block keeps d as its nearest half (ggml's q8_0 keeps the d it divided by the same way).
          ASSERT_EQ(packed->scales(o / kInt8Tile, b)[o % kInt8Tile], fp32_to_fp16(d)) << what << " row " << o << " block " << b;
          for (int k = 0; k < 32; ++k) {
            const int8_t want = b * 32 + k < c.n_in ? q[k] : 0;
            ASSERT_EQ(packed->value(o, b * 32 + k), want) << what << " row " << o << " col " << b * 32 + k;
          }
        }
      }
    }
  });
}

// Exact rows only from a q8_0 file's own quants; quantised-here weights decline.
TEST(Int8Pack, CopyRowOnlyForTheFilesOwnQuants) {
  const int n_in = 64, n_out = 20;
  const std::vector<float> w = random_vector(static_cast<std::size_t>(n_in) * n_out, 5);
  const std::vector<uint8_t> q8 = store(w, GgmlType::Q8_0, n_in, n_out);
  const TensorView v = view_of(q8, GgmlType::Q8_0, n_in, n_out);
  const std::unique_ptr<Int8PackedMatrix> p = int8_pack(v, nullptr);
  std::vector<float> want(n_in), got(n_in);
  for (int o = 0; o < n_out; ++o) {
    dequantize_row(GgmlType::Q8_0, q8.data() + static_cast<std::size_t>(o) * ggml_row_bytes(GgmlType::Q8_0, n_in), want.data(), n_in);
    ASSERT_TRUE(p->copy_row(o, got.data()));
    EXPECT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)), 0) << "row " << o;
  }
  const std::vector<uint8_t> f16 = store(w, GgmlType::F16, n_in, n_out);
  EXPECT_FALSE(int8_pack(view_of(f16, GgmlType::F16, n_in, n_out), nullptr)->copy_row(0, got.data()));
  const std::vector<uint8_t> q5_1 = store(w, GgmlType::Q5_1, n_in, n_out);
  EXPECT_FALSE(int8_pack(view_of(q5_1, GgmlType::Q5_1, n_in, n_out), nullptr)->copy_row(0, got.data()));
}

TEST(Int8Pack, RejectsBadTensors) {
  const auto w = random_vector(64 * 4, 2);
  const auto bytes = store(w, GgmlType::F32, 64, 4);
  TensorView v = view_of(bytes, GgmlType::F32, 64, 4);
  v.ne[2] = 2;
  EXPECT_THROW(int8_pack(v, nullptr), Error);
  v = view_of(bytes, GgmlType::F32, 64, 5);
  EXPECT_THROW(int8_pack(v, nullptr), Error);
  v = view_of(bytes, GgmlType::Q8_0, 48, 1);
  EXPECT_THROW(int8_pack(v, nullptr), Error);
  // A weight beyond a half scale's range (127 x 65504): refused with its row named, not packed as infinity.
  auto huge = w;
  huge[2 * 64 + 5] = 1e7f;
  const auto huge_bytes = store(huge, GgmlType::F32, 64, 4);
  try {
    int8_pack(view_of(huge_bytes, GgmlType::F32, 64, 4), nullptr);
    ADD_FAILURE() << "a weight of 1e7 was packed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 2"), std::string::npos) << e.what();
  }
  huge[2 * 64 + 5] = 8e6f;  // still within: 8e6 / 127 = 63K
  EXPECT_NO_THROW(int8_pack(view_of(store(huge, GgmlType::F32, 64, 4), GgmlType::F32, 64, 4), nullptr));
}

struct Shape {
  int M, n_in, n_out, extra_ldx, extra_ldy;
};

// Runs linear() with the given variant; Y starts as a sentinel so writes outside n_out are caught.
std::vector<float> run_linear(Int8Isa isa, int threads, const Shape& s, const PackedMatrix& w,
                              const std::vector<float>& x, const float* bias) {
  CpuInt8Backend be(threads, isa);
  const int ldy = s.n_out + s.extra_ldy;
  std::vector<float> y(static_cast<std::size_t>(s.M) * ldy, 42.0f);
  be.linear(x.data(), s.M, s.n_in + s.extra_ldx, w, bias, y.data(), ldy);
  return y;
}

std::vector<Shape> shapes() {
  std::vector<Shape> out;
  // Under 16 rows the AMX variant hands every row to the VNNI one (17: a tile group and one row): 5
  // rows take its beam tiles in one run or two (a tile of each at a time), 6 in one, the other counts
  // up to 8 its streaming runs, tiles of 1-5 sums spreading a block over 2 or 4 sets of sums.
  for (int M : {1, 2, 3, 5, 6, 7, 8, 9, 17}) {
    for (int n_in : {32, 64, 96, 240, 530, 1536}) {
      for (int n_out : {16, 37, 61}) out.push_back({M, n_in, n_out, n_in % 64 == 0 ? 3 : 0, n_out == 37 ? 5 : 0});
    }
  }
  // Few rows read a thread's tiles as 3 runs far apart (5 rows: one or two, 6 rows: one): runs of several
  // tiles, leftover tiles after them, a partial last tile at the end of a run or among the leftovers
  // (11, 32, 9 tiles).
  for (int M : {1, 2, 4, 5, 6, 7, 8}) {
    for (int n_out : {171, 500, 129}) out.push_back({M, n_out == 129 ? 530 : 96, n_out, 0, n_out == 171 ? 3 : 0});
  }
  // Row counts around the register tile (4 rows) and the row split between threads.
  out.push_back({32, 64, 37, 0, 0});
  out.push_back({33, 240, 16, 1, 0});
  out.push_back({64, 1536, 61, 0, 2});
  out.push_back({100, 96, 100, 3, 0});
  out.push_back({1500, 96, 61, 1, 3});
  out.push_back({1500, 1536, 37, 7, 0});
  out.push_back({1500, 384, 100, 0, 1});
  // Many rows over a K the VNNI variant cuts into pieces of 64 blocks (partial sums kept in Y, the
  // bias added once): one block past a piece, two pieces and one block, with a leftover row group.
  out.push_back({100, 2080, 100, 0, 0});
  out.push_back({33, 4100, 37, 1, 2});
  return out;
}

// The AVX2 variant's dot products on this machine: vpdpbusd (AVX-VNNI) where the CPU has it, and the
// vpmaddubsw pair always (int8_set_avx2_dot(1)); one entry (the default) for every other variant.
std::vector<int> avx2_dots(Int8Isa isa) {
  return isa == Int8Isa::Avx2 && int8_avx2_has_vnni() ? std::vector<int>{0, 1} : std::vector<int>{0};
}

const char* dot_name(Int8Isa isa, int dot) {
  if (isa != Int8Isa::Avx2) return "";
  return dot == 0 && int8_avx2_has_vnni() ? " (avx-vnni)" : " (vpmaddubsw)";
}

TEST(Int8Kernels, EveryVariantEqualsTheScalarOne) {
  std::printf("[ int8     ] variants on this machine:");
  for (Int8Isa isa : int8_supported_isas()) {
    for (int dot : avx2_dots(isa)) std::printf(" %s%s", int8_isa_name(isa), dot_name(isa, dot));
  }
  std::printf("\n");
  for (const Shape& s : shapes()) {
    const auto w = random_vector(static_cast<std::size_t>(s.n_in) * s.n_out, 30 + s.n_in);
    const auto x = random_vector(static_cast<std::size_t>(s.M) * (s.n_in + s.extra_ldx), 40 + s.M, -2.0f, 2.0f);
    const auto b = random_vector(s.n_out, 50);
    const auto bytes = store(w, GgmlType::F32, s.n_in, s.n_out);
    auto packed = int8_pack(view_of(bytes, GgmlType::F32, s.n_in, s.n_out), nullptr);
    ASSERT_EQ(packed->bytes(), static_cast<std::size_t>(packed->n_tiles()) * ((packed->n_blocks() * 544 + 63) / 64 * 64));
    for (bool with_bias : {false, true}) {
      const float* bias = with_bias ? b.data() : nullptr;
      const auto want = run_linear(Int8Isa::Scalar, 1, s, *packed, x, bias);
      for (Int8Isa isa : int8_supported_isas()) {
        for (int dot : avx2_dots(isa)) {
          for (int threads : {1, 2}) {
            // 5 rows in one stream and in two (int8_set_beam_streams), whichever this CPU's vendor takes.
            for (int streams : s.M == 5 ? std::vector<int>{1, 2} : std::vector<int>{0}) {
              int8_set_beam_streams(streams);
              int8_set_avx2_dot(dot);
              const auto got = run_linear(isa, threads, s, *packed, x, bias);
              int8_set_avx2_dot(0);
              int8_set_beam_streams(0);
              ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
                  << int8_isa_name(isa) << dot_name(isa, dot) << " threads " << threads << " M " << s.M << " n_in "
                  << s.n_in << " n_out " << s.n_out << " bias " << with_bias << " streams " << streams;
            }
          }
        }
      }
    }
  }
}

// q8_0 files may hold any int8, -128 included, and blocks whose quants are all at one end: the
// blocks' sums the VNNI kernels make reach +-4096 there. Every variant against the scalar one, and the
// scalar one against the exact sums, on blocks of all -128, all 127 and random quants.
TEST(Int8Kernels, ExtremeQ8_0QuantsInEveryVariant) {
  const int n_in = 96, n_out = 37;
  const std::size_t row = ggml_row_bytes(GgmlType::Q8_0, n_in);
  std::vector<uint8_t> bytes(row * n_out);
  uint32_t seed = 7;
  for (int o = 0; o < n_out; ++o) {
    for (int b = 0; b < n_in / 32; ++b) {
      uint8_t* blk = bytes.data() + o * row + b * 34;
      const uint16_t d = fp32_to_fp16(0.004f * static_cast<float>(1 + (o + 3 * b) % 7));
      std::memcpy(blk, &d, 2);
      for (int k = 0; k < 32; ++k) {
        seed = seed * 1664525u + 1013904223u;
        const int kind = (o + b) % 3;
        blk[2 + k] = static_cast<uint8_t>(kind == 0 ? -128 : kind == 1 ? 127 : static_cast<int>(seed >> 24) - 128);
      }
    }
  }
  auto packed = int8_pack(view_of(bytes, GgmlType::Q8_0, n_in, n_out), nullptr);
  for (int M : {1, 5, 9, 100}) {
    const Shape s{M, n_in, n_out, 0, 0};
    const auto x = random_vector(static_cast<std::size_t>(M) * n_in, 70 + M, -3.0f, 3.0f);
    const auto want = run_linear(Int8Isa::Scalar, 1, s, *packed, x, nullptr);
    for (int m = 0; m < M; ++m) {
      for (int o = 0; o < n_out; ++o) {
        double exact = 0.0;
        for (int k0 = 0; k0 < n_in; k0 += 32) {
          int8_t q[32];
          const float dx = int8_quantize_block(x.data() + m * n_in + k0, 32, q);
          long sum = 0;
          for (int k = 0; k < 32; ++k) sum += long(q[k]) * packed->value(o, k0 + k);
          exact += double(dx) * packed->scale(o, k0) * double(sum);
        }
        ASSERT_NEAR(want[static_cast<std::size_t>(m) * n_out + o], exact, 2e-6 * (1.0 + std::fabs(exact)) * 2.0)
            << "M " << M << " m " << m << " o " << o;
      }
    }
    for (Int8Isa isa : int8_supported_isas()) {
      for (int dot : avx2_dots(isa)) {
        for (int threads : {1, 2}) {
          int8_set_avx2_dot(dot);
          const auto got = run_linear(isa, threads, s, *packed, x, nullptr);
          int8_set_avx2_dot(0);
          ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
              << int8_isa_name(isa) << dot_name(isa, dot) << " threads " << threads << " M " << M;
        }
      }
    }
  }
}

// The scalar variant computes sum_b (d_w d_x) sum_k q_w q_x + bias: checked against a double-precision
// evaluation of exactly those numbers (the quantised activations re-derived with the public rule).
TEST(Int8Kernels, ScalarEqualsTheQuantisedProductInDoublePrecision) {
  for (const Shape s : {Shape{5, 240, 37, 3, 2}, Shape{17, 1536, 61, 0, 0}, Shape{3, 32, 16, 1, 0}}) {
    const int ldx = s.n_in + s.extra_ldx, ldy = s.n_out + s.extra_ldy;
    const auto w = random_vector(static_cast<std::size_t>(s.n_in) * s.n_out, 60);
    const auto x = random_vector(static_cast<std::size_t>(s.M) * ldx, 61);
    const auto b = random_vector(s.n_out, 62);
    const auto bytes = store(w, GgmlType::F32, s.n_in, s.n_out);
    auto packed = int8_pack(view_of(bytes, GgmlType::F32, s.n_in, s.n_out), nullptr);
    const auto got = run_linear(Int8Isa::Scalar, 1, s, *packed, x, b.data());
    for (int m = 0; m < s.M; ++m) {
      for (int o = 0; o < s.n_out; ++o) {
        double want = b[o];
        for (int k0 = 0; k0 < s.n_in; k0 += 32) {
          int8_t q[32];
          const int n = std::min(32, s.n_in - k0);
          const float dx = int8_quantize_block(x.data() + m * ldx + k0, n, q);
          long sum = 0;
          for (int k = 0; k < n; ++k) sum += long(q[k]) * packed->value(o, k0 + k);
          want += double(dx) * packed->scale(o, k0) * double(sum);
        }
        const double g = got[static_cast<std::size_t>(m) * ldy + o];
        EXPECT_NEAR(g, want, 2e-6 * (1.0 + std::fabs(want)) * std::sqrt(s.n_in / 32.0)) << "m " << m << " o " << o;
      }
      for (int o = s.n_out; o < ldy; ++o) ASSERT_EQ(got[static_cast<std::size_t>(m) * ldy + o], 42.0f);
    }
  }
}

// Against the f32 product: the error int8 quantisation of both operands allows (~1 % relative L2 for
// uniform random data), and the best variant through the registered name.
TEST(Int8Backend, CloseToTheF32Product) {
  auto be = make_backend("cpu-int8", 2);
  EXPECT_EQ(be->kind(), "cpu-int8");
  CpuBackend f32(2);
  const Shape s{300, 384, 200, 5, 3};
  const int ldx = s.n_in + s.extra_ldx, ldy = s.n_out + s.extra_ldy;
  const auto w = random_vector(static_cast<std::size_t>(s.n_in) * s.n_out, 70);
  const auto x = random_vector(static_cast<std::size_t>(s.M) * ldx, 71);
  const auto b = random_vector(s.n_out, 72);
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0}) {
    const auto bytes = store(w, t, s.n_in, s.n_out);
    auto p8 = be->pack(view_of(bytes, t, s.n_in, s.n_out));
    auto p32 = f32.pack(view_of(bytes, t, s.n_in, s.n_out));
    EXPECT_LT(p8->bytes() * 3, static_cast<std::size_t>(s.n_in) * s.n_out * sizeof(float))
        << "int8 records should be well under a third of f32";
    std::vector<float> y8(static_cast<std::size_t>(s.M) * ldy), y32(y8.size());
    be->linear(x.data(), s.M, ldx, *p8, b.data(), y8.data(), ldy);
    f32.linear(x.data(), s.M, ldx, *p32, b.data(), y32.data(), ldy);
    double num = 0, den = 0;
    for (int m = 0; m < s.M; ++m) {
      for (int o = 0; o < s.n_out; ++o) {
        const double d = double(y8[m * ldy + o]) - y32[m * ldy + o];
        num += d * d;
        den += double(y32[m * ldy + o]) * y32[m * ldy + o];
      }
    }
    const double rel = std::sqrt(num / den);
    std::printf("[ int8     ] %s weights: rel-L2 to f32 %.3e\n", ggml_type_name(t), rel);
    EXPECT_LT(rel, 0.02) << ggml_type_name(t);
    EXPECT_GT(rel, 0.0) << "int8 cannot be exact on random data: is the f32 path running?";
  }
}

// A product by a range of the weight rows gives those columns of the whole product bit for bit (the
// same integer sums and f32 steps per output), with every kernel variant, from outside and inside a
// pool, for ranges that end inside a record (the partial record goes through a small buffer: the
// padding of Y stays untouched); ranges that start inside a record are declined.
TEST(Int8Backend, RangeOfWeightRowsEqualsThoseColumnsOfTheProduct) {
  const int n_in = 96, n_out = 301;
  const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 41);
  const auto bytes = store(w, GgmlType::Q8_0, n_in, n_out);
  for (Int8Isa isa : int8_supported_isas()) {
    CpuInt8Backend be(2, isa);
    auto packed = be.pack(view_of(bytes, GgmlType::Q8_0, n_in, n_out));
    for (int M : {1, 5, 8, 16, 37, 100}) {
      const int ldx = n_in + 7;
      const auto x = random_vector(static_cast<std::size_t>(M) * ldx, 42 + M);
      std::vector<float> whole(static_cast<std::size_t>(M) * n_out);
      be.linear(x.data(), M, ldx, *packed, nullptr, whole.data(), n_out);
      for (auto [o0, o1] : {std::pair{0, n_out}, std::pair{0, 5}, std::pair{16, 150}, std::pair{288, 301},
                            std::pair{32, 64}, std::pair{48, 48}}) {
        const int ldy = o1 - o0 + 3;
        std::vector<float> y(static_cast<std::size_t>(M) * ldy, 42.0f);
        ASSERT_TRUE(be.linear_range(x.data(), M, ldx, *packed, o0, o1, y.data(), ldy)) << int8_isa_name(isa);
        for (int m = 0; m < M; ++m) {
          for (int o = o0; o < o1; ++o) {
            ASSERT_EQ(y[static_cast<std::size_t>(m) * ldy + (o - o0)], whole[static_cast<std::size_t>(m) * n_out + o])
                << int8_isa_name(isa) << " M " << M << " range " << o0 << ".." << o1 << " row " << m << " col " << o;
          }
          for (int o = o1 - o0; o < ldy; ++o) ASSERT_EQ(y[static_cast<std::size_t>(m) * ldy + o], 42.0f);
        }
      }
      // Two ranges from a pool's chunks, as the word-timing pass calls it.
      ThreadPool pool(2);
      std::vector<float> y(static_cast<std::size_t>(M) * n_out, 42.0f);
      pool.parallel_for(2, [&](int64_t c0, int64_t c1, int) {
        for (int64_t c = c0; c < c1; ++c) {
          const int o0 = c == 0 ? 0 : 160, o1 = c == 0 ? 160 : n_out;
          EXPECT_TRUE(be.linear_range(x.data(), M, ldx, *packed, o0, o1, y.data() + o0, n_out));
        }
      });
      EXPECT_EQ(y, whole) << int8_isa_name(isa) << " M " << M;
      std::vector<float> untouched(static_cast<std::size_t>(M) * n_out, 42.0f);
      EXPECT_FALSE(be.linear_range(x.data(), M, ldx, *packed, 8, 40, untouched.data(), n_out));
      EXPECT_EQ(untouched[0], 42.0f);
    }
    EXPECT_THROW(be.linear_range(nullptr, 1, n_in, *packed, 16, 302, nullptr, 400), Error);
  }
}

// linear_many quantises the rows once and runs every job's tiles in one pass: the same bits as one
// linear() per job, for few rows (tiles split across jobs between threads) and many (rows split).
TEST(Int8Backend, LinearManyEqualsOneProductPerJob) {
  // Large enough that even one row is worth the pool (2^18 multiply-adds); 10, 13 and 17 tiles, so
  // that the split between two threads falls inside a job.
  const int n_in = 512, ldx = 517;
  const int n_outs[3] = {160, 197, 261};
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<std::unique_ptr<Int8PackedMatrix>> packed;
  for (int j = 0; j < 3; ++j) {
    bytes.push_back(store(random_vector(static_cast<std::size_t>(n_in) * n_outs[j], 80 + j), GgmlType::F32, n_in, n_outs[j]));
    packed.push_back(int8_pack(view_of(bytes.back(), GgmlType::F32, n_in, n_outs[j]), nullptr));
  }
  const auto bias = random_vector(261, 90);
  for (int M : {1, 5, 6, 8, 37, 300}) {
    const auto x = random_vector(static_cast<std::size_t>(M) * ldx, 91 + M);
    for (Int8Isa isa : int8_supported_isas()) {
      for (int threads : {1, 2}) {
        CpuInt8Backend be(threads, isa);
        std::vector<std::vector<float>> want(3), got(3);
        LinearJob jobs[3];
        for (int j = 0; j < 3; ++j) {
          const int ldy = n_outs[j] + j;  // 0, 1 and 2 floats of padding, which must stay untouched
          want[j].assign(static_cast<std::size_t>(M) * ldy, 42.0f);
          got[j].assign(want[j].size(), 42.0f);
          const float* b = j == 1 ? nullptr : bias.data();
          be.linear(x.data(), M, ldx, *packed[j], b, want[j].data(), ldy);
          jobs[j] = LinearJob{packed[j].get(), b, got[j].data(), ldy};
        }
        be.linear_many(x.data(), M, ldx, jobs, 3);
        for (int j = 0; j < 3; ++j) {
          ASSERT_EQ(std::memcmp(got[j].data(), want[j].data(), got[j].size() * sizeof(float)), 0)
              << int8_isa_name(isa) << " threads " << threads << " M " << M << " job " << j;
        }
      }
    }
  }
  // Jobs that do not share n_in, or a matrix from another backend, are refused by name.
  CpuInt8Backend be(2);
  const auto other_bytes = store(random_vector(64 * 16, 95), GgmlType::F32, 64, 16);
  const auto other = int8_pack(view_of(other_bytes, GgmlType::F32, 64, 16), nullptr);
  std::vector<float> x(static_cast<std::size_t>(4) * ldx, 0.5f), y(4 * 160);
  const LinearJob mixed[2] = {{packed[0].get(), nullptr, y.data(), 160}, {other.get(), nullptr, y.data(), 16}};
  EXPECT_THROW(be.linear_many(x.data(), 4, ldx, mixed, 2), Error);
  CpuBackend f32(1);
  const auto f32_packed = f32.pack(view_of(bytes[0], GgmlType::F32, n_in, 160));
  const LinearJob foreign[2] = {{packed[0].get(), nullptr, y.data(), 160}, {f32_packed.get(), nullptr, y.data(), 160}};
  EXPECT_THROW(be.linear_many(x.data(), 4, ldx, foreign, 2), Error);
}

// linear_of_gelu() is gelu() then linear(), to the bit, with X left as it is; a variant or level without
// the fused path says so and writes nothing. At every level and with every variant, on rows and
// columns around the quantiser's 16-block groups and the padding of a partial block.
TEST(Int8Backend, LinearOfGeluIsGeluThenLinear) {
  int fused = 0;
  npw_test::at_every_level([&] {
    for (const Shape s : {Shape{1, 96, 37, 0, 0}, Shape{5, 530, 61, 3, 2}, Shape{17, 1536, 100, 5, 0},
                          Shape{300, 530, 37, 0, 1}, Shape{1500, 384, 61, 1, 0}}) {
      const int ldx = s.n_in + s.extra_ldx, ldy = s.n_out + s.extra_ldy;
      const auto w = random_vector(static_cast<std::size_t>(s.n_in) * s.n_out, 60 + s.n_in);
      const auto x = random_vector(static_cast<std::size_t>(s.M) * ldx, 61 + s.M, -4.0f, 3.0f);
      const auto b = random_vector(s.n_out, 62);
      const auto bytes = store(w, GgmlType::F32, s.n_in, s.n_out);
      auto packed = int8_pack(view_of(bytes, GgmlType::F32, s.n_in, s.n_out), nullptr);
      std::vector<float> gx = x;
      gelu(gx.data(), gx.size(), nullptr);
      for (Int8Isa isa : int8_supported_isas()) {
        if (static_cast<int>(isa) > static_cast<int>(int8_best_isa()) && isa != Int8Isa::Scalar) continue;
        for (int threads : {1, 2}) {
          CpuInt8Backend be(threads, isa);
          std::vector<float> want(static_cast<std::size_t>(s.M) * ldy, 42.0f), got(want.size(), 42.0f);
          be.linear(gx.data(), s.M, ldx, *packed, b.data(), want.data(), ldy);
          std::vector<float> xin = x;
          const bool took = be.linear_of_gelu(xin.data(), s.M, ldx, *packed, b.data(), got.data(), ldy);
          const bool can = int8_kernel(isa).quantize_gelu && active_simd_level() == SimdLevel::Avx512;
          ASSERT_EQ(took, can) << int8_isa_name(isa);
          ASSERT_EQ(std::memcmp(xin.data(), x.data(), x.size() * sizeof(float)), 0) << "X changed";
          if (!took) {
            for (float v : got) ASSERT_EQ(v, 42.0f) << "written without the fused path";
            continue;
          }
          ++fused;
          ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
              << int8_isa_name(isa) << " threads " << threads << " M " << s.M << " n_in " << s.n_in;
        }
      }
    }
  });
  if (cpu_simd_level() == SimdLevel::Avx512 && int8_isa_supported(Int8Isa::Avx512Vnni)) {
    EXPECT_GT(fused, 0);
  }
}

// whole_products(): a convolution's im2col rows overlapping in memory (ldx = stride x channels, less
// than n_in) are read where they are, with the same result as the rows copied out one by one.
TEST(Int8Backend, OverlappingRowsAreTheirCopies) {
  EXPECT_TRUE(CpuInt8Backend(1).whole_products());
  for (const int stride : {1, 2}) {
    const int channels = 80, n_in = 3 * channels, n_out = 61, M = 301, ldx = stride * channels;
    const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 95);
    const auto frames = random_vector(static_cast<std::size_t>(M - 1) * ldx + n_in, 96);
    std::vector<float> rows(static_cast<std::size_t>(M) * n_in);
    for (int m = 0; m < M; ++m) std::copy_n(frames.data() + static_cast<std::size_t>(m) * ldx, n_in, rows.data() + static_cast<std::size_t>(m) * n_in);
    const auto bytes = store(w, GgmlType::F32, n_in, n_out);
    auto packed = int8_pack(view_of(bytes, GgmlType::F32, n_in, n_out), nullptr);
    for (Int8Isa isa : int8_supported_isas()) {
      for (int threads : {1, 2}) {
        CpuInt8Backend be(threads, isa);
        std::vector<float> want(static_cast<std::size_t>(M) * n_out), got(want.size());
        be.linear(rows.data(), M, n_in, *packed, nullptr, want.data(), n_out);
        be.linear(frames.data(), M, ldx, *packed, nullptr, got.data(), n_out);
        ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
            << int8_isa_name(isa) << " threads " << threads << " stride " << stride;
      }
    }
  }
}

TEST(Int8Backend, MatmulIsTheF32Product) {
  auto be = make_backend("cpu-int8", 2);
  CpuBackend f32(2);
  const int M = 67, N = 71, K = 73;
  const auto A = random_vector(static_cast<std::size_t>(M) * K, 80);
  const auto B = random_vector(static_cast<std::size_t>(N) * K, 81);
  std::vector<float> c1(static_cast<std::size_t>(M) * N), c2(c1.size());
  be->matmul(false, true, M, N, K, 0.5f, A.data(), K, B.data(), K, 0.0f, c1.data(), N);
  f32.matmul(false, true, M, N, K, 0.5f, A.data(), K, B.data(), K, 0.0f, c2.data(), N);
  EXPECT_EQ(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)), 0);
}

// The default variant is the best the CPU runs, capped by the process-wide SIMD level.
TEST(Int8Backend, DefaultVariantFollowsTheSimdLevel) {
  const SimdLevel saved = active_simd_level();
  if (saved == SimdLevel::Avx512) {
    EXPECT_EQ(CpuInt8Backend(1).isa(), int8_supported_isas().back());
  }
  set_active_simd_level(SimdLevel::Scalar);
  EXPECT_EQ(CpuInt8Backend(1).isa(), Int8Isa::Scalar);
  if (int8_isa_supported(Int8Isa::Avx2)) {
    set_active_simd_level(SimdLevel::Avx2);
    EXPECT_EQ(CpuInt8Backend(1).isa(), Int8Isa::Avx2);
  }
  set_active_simd_level(saved);
  std::printf("[ int8     ] default variant at level %s: %s\n", simd_level_name(saved), int8_isa_name(CpuInt8Backend(1).isa()));
}

class Foreign : public PackedMatrix {
 public:
  int n_out() const override { return 4; }
  int n_in() const override { return 4; }
};

TEST(Int8Backend, RefusesInconsistentCalls) {
  CpuInt8Backend be(1);
  const auto w = random_vector(64 * 8, 90);
  const auto bytes = store(w, GgmlType::F32, 64, 8);
  auto packed = be.pack(view_of(bytes, GgmlType::F32, 64, 8));
  std::vector<float> x(64 * 4), y(8 * 4);
  EXPECT_THROW(be.linear(x.data(), 2, 0, *packed, nullptr, y.data(), 8), Error);
  EXPECT_THROW(be.linear(x.data(), 2, 64, *packed, nullptr, y.data(), 7), Error);
  EXPECT_THROW(be.linear(x.data(), -1, 64, *packed, nullptr, y.data(), 8), Error);
  Foreign foreign;
  EXPECT_THROW(be.linear(x.data(), 1, 4, foreign, nullptr, y.data(), 4), Error);
  EXPECT_THROW(be.set_threads(0), Error);
  for (Int8Isa isa : {Int8Isa::Scalar, Int8Isa::Avx2, Int8Isa::Avx512Vnni, Int8Isa::Amx}) {
    if (!int8_isa_supported(isa)) {
      EXPECT_THROW(CpuInt8Backend(1, isa), Error) << int8_isa_name(isa);
    }
  }
}

}  // namespace
}  // namespace npw
