// The CPU backend against naive loops: packing of every storage type, linear() with bias and strides,
// matmul() in every transpose combination, on one and several threads (both split directions), and
// its refusals of inconsistent calls, and the stop flag between row blocks of a long product.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <tuple>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/skinny_gemm.h"
#include "model/quant.h"
#include "naive.h"
#include "simd_levels.h"
#include "weight_views.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using npw_test::max_rel_err;
using npw_test::naive_gemm;
using npw_test::random_vector;

using npw_test::store;
using npw_test::view_of;

TEST(CpuBackend, PackWidensEveryTypeLikeTheDequantiser) {
  CpuBackend be(2);
  const int n_in = 96, n_out = 37;
  const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 1);
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                     GgmlType::Q8_0}) {
    const auto bytes = store(w, t, n_in, n_out, 3);
    auto packed = be.pack(view_of(bytes, t, n_in, n_out, 3));
    ASSERT_EQ(packed->n_in(), n_in);
    ASSERT_EQ(packed->n_out(), n_out);
    const auto& cp = static_cast<const CpuPackedMatrix&>(*packed);
    const std::size_t row = ggml_row_bytes(t, n_in);
    if (t == GgmlType::F16) {
      // Kept as the file's halves (bit for bit), half the bytes of f32.
      ASSERT_EQ(cp.storage(), CpuPackedMatrix::Storage::F16);
      EXPECT_EQ(cp.data(), nullptr);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(cp.half_data()) % 64, 0u);
      EXPECT_EQ(std::memcmp(cp.half_data(), bytes.data() + 3, static_cast<std::size_t>(n_out) * row), 0);
      EXPECT_EQ(cp.bytes(), static_cast<std::size_t>(n_in) * n_out * 2);
      continue;
    }
    if (is_scaled_int8_type(t) || is_offset_int8_type(t)) {
      // q8_0, q5_0, q4_0: kept as int8 quants and the file's half scales (1.0625 bytes a weight, as
      // q8_0's file; one half more for the gathers' 32-bit reads), whose products are the
      // dequantiser's values; q5_1, q4_1 with their offsets too (1.125 bytes); whole rows come back
      // exactly.
      const bool offsets = is_offset_int8_type(t);
      ASSERT_EQ(cp.storage(), CpuPackedMatrix::Storage::Q8);
      EXPECT_EQ(cp.data(), nullptr);
      EXPECT_EQ(cp.bytes(), static_cast<std::size_t>(n_in) * n_out * (offsets ? 18 : 17) / 16 + 2);
      const Q8Weights q8 = cp.q8();
      EXPECT_EQ(q8.m != nullptr, offsets) << ggml_type_name(t);
      std::vector<float> want(static_cast<std::size_t>(n_in)), got(want.size());
      for (int o = 0; o < n_out; ++o) {
        dequantize_row(t, bytes.data() + 3 + o * row, want.data(), n_in);
        for (int i = 0; i < n_in; ++i) {
          const std::size_t at = static_cast<std::size_t>(o) * n_in + i;
          const float p = static_cast<float>(q8.q[at]) * fp16_to_fp32(q8.d[at / kQ8Block]);
          got[i] = offsets ? p + fp16_to_fp32(q8.m[at / kQ8Block]) : p;
        }
        EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
            << ggml_type_name(t) << " row " << o;
        ASSERT_TRUE(cp.copy_row(o, got.data()));
        EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
            << ggml_type_name(t) << " copied row " << o;
      }
      continue;
    }
    ASSERT_EQ(cp.storage(), CpuPackedMatrix::Storage::F32);
    const float* got = cp.data();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(got) % 64, 0u);
    std::vector<float> want(w.size());
    for (int o = 0; o < n_out; ++o) dequantize_row(t, bytes.data() + 3 + o * row, want.data() + o * n_in, n_in);
    EXPECT_EQ(std::memcmp(got, want.data(), want.size() * sizeof(float)), 0) << ggml_type_name(t);
    if (t == GgmlType::F32) {
      EXPECT_EQ(std::memcmp(got, w.data(), w.size() * sizeof(float)), 0);
    }
  }
}

TEST(CpuBackend, PackRejectsBadTensors) {
  CpuBackend be(1);
  const auto w = random_vector(64 * 4, 2);
  const auto bytes = store(w, GgmlType::F32, 64, 4);
  TensorView v = view_of(bytes, GgmlType::F32, 64, 4);
  v.ne[2] = 2;
  EXPECT_THROW(be.pack(v), Error);
  v = view_of(bytes, GgmlType::F32, 64, 5);  // more rows than bytes
  EXPECT_THROW(be.pack(v), Error);
  v = view_of(bytes, GgmlType::Q8_0, 48, 1);  // not a block multiple
  EXPECT_THROW(be.pack(v), Error);
}

struct LinearCase {
  int M, n_in, n_out, extra_ldx, extra_ldy, threads;
  bool bias;
};

TEST(CpuBackend, LinearMatchesNaive) {
  const LinearCase cases[] = {
      {1, 7, 5, 0, 0, 1, true},        {37, 53, 29, 3, 5, 1, false},   {67, 97, 129, 1, 2, 3, true},
      {3, 129, 1001, 0, 7, 2, true},   {1500, 64, 64, 0, 0, 2, true},  {0, 16, 16, 0, 0, 2, true},
      {5, 31, 3, 2, 0, 2, false},
  };
  for (const auto& c : cases) {
    CpuBackend be(c.threads);
    const int ldx = c.n_in + c.extra_ldx, ldy = c.n_out + c.extra_ldy;
    const auto w = random_vector(static_cast<std::size_t>(c.n_in) * c.n_out, 10);
    const auto x = random_vector(static_cast<std::size_t>(std::max(c.M, 1)) * ldx, 11);
    const auto b = random_vector(c.n_out, 12);
    const auto bytes = store(w, GgmlType::F32, c.n_in, c.n_out);
    auto packed = be.pack(view_of(bytes, GgmlType::F32, c.n_in, c.n_out));

    std::vector<float> y(static_cast<std::size_t>(std::max(c.M, 1)) * ldy, 42.0f), want = y;
    be.linear(x.data(), c.M, ldx, *packed, c.bias ? b.data() : nullptr, y.data(), ldy);
    naive_gemm(false, true, c.M, c.n_out, c.n_in, 1.0f, x.data(), ldx, w.data(), c.n_in, 0.0f, want.data(), ldy);
    for (int m = 0; m < c.M; ++m) {
      for (int o = 0; o < c.n_out; ++o) {
        if (c.bias) want[m * ldy + o] += b[o];
      }
    }
    // Padding columns of Y are untouched.
    for (int m = 0; m < c.M; ++m) {
      for (int o = c.n_out; o < ldy; ++o) ASSERT_EQ(y[m * ldy + o], 42.0f);
    }
    EXPECT_LT(max_rel_err(y.data(), want.data(), y.size()), 1e-5)
        << "M " << c.M << " n_in " << c.n_in << " n_out " << c.n_out << " threads " << c.threads;
  }
}

// f16 weights (kept as halves) give what their f32 widening gives, to the rounding of a different
// summation order, on the skinny kernels, on the whole-matrix widening (split over two threads) and on
// the 256-row widened blocks (one thread), at every SIMD level, with and without bias.
TEST(CpuBackend, HalfWeightsEqualTheirWidening) {
  npw_test::at_every_level([&] {
    for (int threads : {1, 2}) {
      CpuBackend be(threads);
      for (int n_in : {16, 37, 45, 384}) {
        const int n_out = 301;  // across the 256-row widening blocks
        const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 90 + n_in);
        const auto half = store(w, GgmlType::F16, n_in, n_out);
        auto p16 = be.pack(view_of(half, GgmlType::F16, n_in, n_out));
        std::vector<float> widened(w.size());
        for (int o = 0; o < n_out; ++o)
          dequantize_row(GgmlType::F16, half.data() + static_cast<std::size_t>(o) * n_in * 2, widened.data() + o * n_in, n_in);
        const auto wide_bytes = store(widened, GgmlType::F32, n_in, n_out);
        auto p32 = be.pack(view_of(wide_bytes, GgmlType::F32, n_in, n_out));
        const auto b = random_vector(n_out, 91);
        for (int M : {1, 3, 8, 9, 70}) {
          const int ldx = n_in + 1, ldy = n_out + 2;
          const auto x = random_vector(static_cast<std::size_t>(M) * ldx, 92 + M);
          std::vector<float> y16(static_cast<std::size_t>(M) * ldy, 5.0f), y32 = y16;
          const float* bias = M % 2 ? b.data() : nullptr;
          be.linear(x.data(), M, ldx, *p16, bias, y16.data(), ldy);
          be.linear(x.data(), M, ldx, *p32, bias, y32.data(), ldy);
          EXPECT_LT(max_rel_err(y16.data(), y32.data(), y16.size()), 1e-5)
              << "M " << M << " n_in " << n_in << " threads " << threads;
        }
      }
    }
  });
}

// The decoder's shapes: 1 to 9 rows of X (the skinny kernels take up to kSkinnyMaxRows, more go to
// sgemm), f32 weights, f16 ones (kept as halves) and q8_0 ones (kept as quants and scales), row lengths reaching every loop tail of the
// kernels (shorter than one vector, odd, one past a step) and output counts reaching every leftover
// of the blocks of output rows (1..9, 13, 300), on one thread and split over two, at every SIMD level
// this CPU has. The reference is the double-precision product on the weights as stored.
TEST(CpuBackend, FewRowsMatchNaiveAtEveryLevel) {
  npw_test::at_every_level([&] {
    for (int threads : {1, 2}) {
      CpuBackend be(threads);
      for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q4_0,
                            GgmlType::Q5_1, GgmlType::Q4_1}) {
        // Quantised rows are whole 32-blocks.
        const bool blocks = type != GgmlType::F32 && type != GgmlType::F16;
        const std::vector<int> lengths = blocks ? std::vector<int>{32, 64, 96, 416} : std::vector<int>{5, 16, 33, 45, 389};
        for (int n_in : lengths) {
          for (int n_out : {1, 2, 3, 4, 5, 7, 9, 13, 300}) {
            auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 20 + n_in);
            const auto bytes = store(w, type, n_in, n_out);
            // The weights as the kernels see them (halves widened back, quants times scales).
            for (int o = 0; o < n_out; ++o) {
              dequantize_row(type, bytes.data() + static_cast<std::size_t>(o) * ggml_row_bytes(type, n_in),
                             w.data() + static_cast<std::size_t>(o) * n_in, n_in);
            }
            auto packed = be.pack(view_of(bytes, type, n_in, n_out));
            const auto b = random_vector(n_out, 21);
            for (int M = 1; M <= 9; ++M) {
              const int ldx = n_in + 3, ldy = n_out + 2;
              const auto x = random_vector(static_cast<std::size_t>(M) * ldx, 22 + M);
              std::vector<float> y(static_cast<std::size_t>(M) * ldy, 42.0f), want = y;
              const bool bias = (M + n_out) % 2 == 0;
              be.linear(x.data(), M, ldx, *packed, bias ? b.data() : nullptr, y.data(), ldy);
              naive_gemm(false, true, M, n_out, n_in, 1.0f, x.data(), ldx, w.data(), n_in, 0.0f, want.data(), ldy);
              for (int m = 0; m < M; ++m) {
                for (int o = 0; o < n_out; ++o) want[m * ldy + o] += bias ? b[o] : 0.0f;
              }
              // The padding between rows of Y stays untouched.
              for (int m = 0; m < M; ++m) {
                for (int o = n_out; o < ldy; ++o) want[m * ldy + o] = 42.0f;
              }
              // f32 sums in another order than the naive loop's: the bound grows with the row length
              // (q4_0's coarse weights cancel more, 1.1e-5 at 416 inputs through OpenBLAS).
              const double bound = std::max(1e-5, 1e-6 + 1.2e-6 * std::sqrt(static_cast<double>(n_in)));
              EXPECT_LT(max_rel_err(y.data(), want.data(), y.size()), bound)
                  << ggml_type_name(type) << " M " << M << " n_in " << n_in << " n_out " << n_out << " threads "
                  << threads;
            }
          }
        }
      }
    }
  });
}

// The product by a range of the weight rows equals those columns of the whole product, up to the
// order of the sums (a range moves outputs between full and tail blocks of the few-row kernels, and
// many rows go through the panel kernels at AVX2 and AVX-512), for every row storage, at every level, from
// outside and inside a pool; the panel layout answers that it has no ranges.
TEST(CpuBackend, RangeOfWeightRowsEqualsThoseColumnsOfTheProduct) {
  npw_test::at_every_level([&] {
    CpuBackend be(2);
    for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_1}) {
      const int n_in = 96, n_out = 301;
      const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 31);
      const auto bytes = store(w, type, n_in, n_out);
      auto packed = be.pack(view_of(bytes, type, n_in, n_out));
      for (int M : {1, 8, 9, 64, 100}) {
        const int ldx = n_in + 5;
        const auto x = random_vector(static_cast<std::size_t>(M) * ldx, 32 + M);
        std::vector<float> whole(static_cast<std::size_t>(M) * n_out);
        for (int m0 = 0; m0 < M; m0 += 8) {  // few-row products: the kernels the range uses
          be.linear(x.data() + static_cast<std::size_t>(m0) * ldx, std::min(8, M - m0), ldx, *packed, nullptr,
                    whole.data() + static_cast<std::size_t>(m0) * n_out, n_out);
        }
        for (auto [o0, o1] : {std::pair{0, n_out}, std::pair{0, 1}, std::pair{17, 150}, std::pair{256, 301},
                              std::pair{300, 301}, std::pair{40, 40}}) {
          const int ldy = o1 - o0 + 3;
          std::vector<float> y(static_cast<std::size_t>(M) * ldy, 42.0f);
          const bool done = be.linear_range(x.data(), M, ldx, *packed, o0, o1, y.data(), ldy);
          if (active_simd_level() == SimdLevel::Scalar) {
            EXPECT_FALSE(done);
            EXPECT_EQ(y[0], 42.0f);
            continue;
          }
          ASSERT_TRUE(done) << ggml_type_name(type);
          for (int m = 0; m < M; ++m) {
            for (int o = o0; o < o1; ++o) {
              const float got = y[static_cast<std::size_t>(m) * ldy + (o - o0)];
              const float want = whole[static_cast<std::size_t>(m) * n_out + o];
              ASSERT_NEAR(got, want, 1e-5f * (std::fabs(want) + 1.0f))
                  << ggml_type_name(type) << " M " << M << " range " << o0 << ".." << o1 << " row " << m << " col " << o;
            }
            for (int o = o1 - o0; o < ldy; ++o) ASSERT_EQ(y[static_cast<std::size_t>(m) * ldy + o], 42.0f);
          }
        }
        if (active_simd_level() == SimdLevel::Scalar) continue;
        // Two halves from the chunks of a pool, as the word-timing pass calls it.
        ThreadPool pool(2);
        std::vector<float> y(static_cast<std::size_t>(M) * n_out, 42.0f);
        pool.parallel_for(2, [&](int64_t c0, int64_t c1, int) {
          for (int64_t c = c0; c < c1; ++c) {
            const int o0 = c == 0 ? 0 : 150, o1 = c == 0 ? 150 : n_out;
            EXPECT_TRUE(be.linear_range(x.data(), M, ldx, *packed, o0, o1, y.data() + o0, n_out));
          }
        });
        EXPECT_LT(max_rel_err(y.data(), whole.data(), y.size()), 1e-5) << ggml_type_name(type) << " M " << M;
      }
      EXPECT_THROW(be.linear_range(nullptr, 1, n_in, *packed, 10, 302, nullptr, 400), Error);
      EXPECT_THROW(be.linear_range(nullptr, 1, n_in, *packed, 10, 5, nullptr, 400), Error);
    }
    if (active_simd_level() != SimdLevel::Scalar) {
      const int n_in = 64, n_out = 64;
      const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 33);
      auto panels = be.pack_for_many_rows(view_of(store(w, GgmlType::F32, n_in, n_out), GgmlType::F32, n_in, n_out));
      std::vector<float> x(n_in, 1.0f), y(n_out, 42.0f);
      EXPECT_FALSE(be.linear_range(x.data(), 1, n_in, *panels, 0, 32, y.data(), n_out));
      EXPECT_EQ(y[0], 42.0f);
    }
  });
}

TEST(CpuBackend, MatmulEveryTransposeMatchesNaive) {
  for (int threads : {1, 2}) {
    CpuBackend be(threads);
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (auto [M, N, K] : {std::tuple<int, int, int>{5, 3, 7}, {67, 71, 73}, {2, 701, 301}, {601, 3, 299}}) {
          const int lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 1, ldc = N + 3;
          const auto A = random_vector(static_cast<std::size_t>(ta ? K : M) * lda, 20);
          const auto B = random_vector(static_cast<std::size_t>(tb ? N : K) * ldb, 21);
          auto C = random_vector(static_cast<std::size_t>(M) * ldc, 22);
          auto want = C;
          be.matmul(ta, tb, M, N, K, 0.7f, A.data(), lda, B.data(), ldb, 0.5f, C.data(), ldc);
          naive_gemm(ta, tb, M, N, K, 0.7f, A.data(), lda, B.data(), ldb, 0.5f, want.data(), ldc);
          EXPECT_LT(max_rel_err(C.data(), want.data(), C.size()), 1e-5)
              << "ta " << ta << " tb " << tb << " " << M << "x" << N << "x" << K << " threads " << threads;
        }
      }
    }
  }
}

// Untransposed with beta 0 (the word-timing pass's form) the product runs on the panel kernels at AVX2
// and above, B's columns read in place: every level against the naive product, alpha 1 or not,
// strided, on one thread and split over two, partial panels and column blocks.
TEST(CpuBackend, UntransposedMatmulMatchesNaiveAtEveryLevel) {
  npw_test::at_every_level([] {
    for (int threads : {1, 2}) {
      CpuBackend be(threads);
      for (auto [M, N, K] : {std::tuple<int, int, int>{1, 5, 3}, {37, 1500, 64}, {9, 301, 77}, {250, 33, 129}}) {
        for (float alpha : {1.0f, 0.125f}) {
          const int lda = K + 3, ldb = N + 5, ldc = N + 2;
          const auto A = random_vector(static_cast<std::size_t>(M) * lda, 40 + M);
          const auto B = random_vector(static_cast<std::size_t>(K) * ldb, 41 + N);
          std::vector<float> C(static_cast<std::size_t>(M) * ldc, 9.0f), want = C;
          be.matmul(false, false, M, N, K, alpha, A.data(), lda, B.data(), ldb, 0.0f, C.data(), ldc);
          naive_gemm(false, false, M, N, K, alpha, A.data(), lda, B.data(), ldb, 0.0f, want.data(), ldc);
          for (int m = 0; m < M; ++m)
            for (int n = N; n < ldc; ++n) ASSERT_EQ(C[static_cast<std::size_t>(m) * ldc + n], 9.0f);
          EXPECT_LT(max_rel_err(C.data(), want.data(), C.size()), 1e-6 + 1.2e-6 * std::sqrt(K))
              << M << "x" << N << "x" << K << " alpha " << alpha << " threads " << threads << " at "
              << simd_level_name(active_simd_level());
        }
      }
    }
  });
}

class ForeignMatrix : public PackedMatrix {
 public:
  int n_out() const override { return 4; }
  int n_in() const override { return 4; }
};

TEST(CpuBackend, RefusesInconsistentCalls) {
  CpuBackend be(2);
  std::vector<float> x(64, 1.0f), y(64);
  const auto w = random_vector(16, 3);
  const auto bytes = store(w, GgmlType::F32, 4, 4);
  auto packed = be.pack(view_of(bytes, GgmlType::F32, 4, 4));
  EXPECT_THROW(be.linear(x.data(), 2, 3, *packed, nullptr, y.data(), 4), Error);  // ldx < n_in
  EXPECT_THROW(be.linear(x.data(), 2, 4, *packed, nullptr, y.data(), 3), Error);  // ldy < n_out
  EXPECT_THROW(be.linear(x.data(), -1, 4, *packed, nullptr, y.data(), 4), Error);
  ForeignMatrix foreign;
  EXPECT_THROW(be.linear(x.data(), 2, 4, foreign, nullptr, y.data(), 4), Error);
  EXPECT_THROW(be.matmul(false, false, 2, 2, 4, 1.0f, x.data(), 3, x.data(), 2, 0.0f, y.data(), 2), Error);
  EXPECT_THROW(be.set_threads(0), Error);
}

TEST(CpuBackend, ThreadsAreAdjustable) {
  CpuBackend be(1);
  EXPECT_EQ(be.threads(), 1);
  be.set_threads(3);
  EXPECT_EQ(be.threads(), 3);
  EXPECT_EQ(be.kind(), "cpu");
}

// A stop flag (Backend::set_cancel) reaches a long product: raised before the call, not one row block
// runs and Y keeps what it held; lowered, the product is whole and right; a short product is never cut.
TEST(CpuBackend, StopFlagIsPolledBetweenRowBlocksOfALongProduct) {
  const int M = 600, n_in = 512, n_out = 2048;  // 629 M multiply-adds: several row blocks
  const auto x = random_vector(static_cast<std::size_t>(M) * n_in, 11);
  const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 12);
  const auto bias = random_vector(static_cast<std::size_t>(n_out), 13);
  for (GgmlType t : {GgmlType::F32, GgmlType::F16}) {
    SCOPED_TRACE(ggml_type_name(t));
    CpuBackend be(2);
    const auto bytes = store(w, t, n_in, n_out, 0);
    auto packed = be.pack(view_of(bytes, t, n_in, n_out, 0));
    std::vector<float> want(static_cast<std::size_t>(M) * n_out);
    be.linear(x.data(), M, n_in, *packed, bias.data(), want.data(), n_out);

    std::atomic<bool> stop{true};
    be.set_cancel(&stop);
    std::vector<float> y(want.size(), 7.0f);
    be.linear(x.data(), M, n_in, *packed, bias.data(), y.data(), n_out);
    EXPECT_TRUE(std::all_of(y.begin(), y.end(), [](float v) { return v == 7.0f; }));

    // A short product (one row block's worth) runs whole even with the flag up: the caller's own
    // check after it decides.
    std::fill(y.begin(), y.end(), 7.0f);
    be.linear(x.data(), 8, n_in, *packed, bias.data(), y.data(), n_out);
    EXPECT_LT(max_rel_err(y.data(), want.data(), static_cast<std::size_t>(8) * n_out), 1e-4);  // skinny kernels

    stop = false;
    std::fill(y.begin(), y.end(), 7.0f);
    be.linear(x.data(), M, n_in, *packed, bias.data(), y.data(), n_out);
    EXPECT_LT(max_rel_err(y.data(), want.data(), y.size()), 1e-5);
    be.set_cancel(nullptr);
  }
}

// The blocked few-row path (9 rows up to linear()'s limit: groups of 8 over blocks of weight rows)
// polls the flag too once its product is long (a large model's vocabulary times a prompt), and
// otherwise gives exactly what the same rows give 8 at a time; so do 64 rows, which at AVX2 go to the
// panel kernel (and then give what the same call gives without a flag).
TEST(CpuBackend, StopFlagReachesTheBlockedFewRowProducts) {
  // The most rows linear() gives the skinny kernels at this level, and 64 (at AVX2 the panel kernel's),
  // each over enough weights for more than two row blocks (2 x 2^28 multiply-adds).
  const int few = active_simd_level() == SimdLevel::Avx2 ? kSkinnyBlockedMaxRowsAvx2 : kSkinnyBlockedMaxRows;
  for (const int M : {few, 64}) {
    const int n_in = 2048, n_out = (1 << 29) / (M * n_in) + 32;
    const auto x = random_vector(static_cast<std::size_t>(M) * n_in, 21);
    const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 22);
    CpuBackend be(2);
    const auto bytes = store(w, GgmlType::F16, n_in, n_out, 0);
    auto packed = be.pack(view_of(bytes, GgmlType::F16, n_in, n_out, 0));
    std::vector<float> want(static_cast<std::size_t>(M) * n_out);
    if (M == few) {
      for (int r0 = 0; r0 < M; r0 += 8) {
        be.linear(x.data() + static_cast<std::size_t>(r0) * n_in, std::min(8, M - r0), n_in, *packed, nullptr,
                  want.data() + static_cast<std::size_t>(r0) * n_out, n_out);
      }
    } else {
      be.linear(x.data(), M, n_in, *packed, nullptr, want.data(), n_out);
    }
    std::atomic<bool> stop{true};
    be.set_cancel(&stop);
    std::vector<float> y(want.size(), 7.0f);
    be.linear(x.data(), M, n_in, *packed, nullptr, y.data(), n_out);
    EXPECT_TRUE(std::all_of(y.begin(), y.end(), [](float v) { return v == 7.0f; })) << M << " rows";
    stop = false;
    be.linear(x.data(), M, n_in, *packed, nullptr, y.data(), n_out);
    EXPECT_EQ(y, want) << M << " rows";
    be.set_cancel(nullptr);
  }
}

// The 4- and 5-bit types kept as quants (q5_0, q4_0; q5_1, q4_1 with their offsets) multiply exactly
// as the matrix of their dequantised values kept as f32 rows does, bit for bit, at every level and
// for few and many rows: the kernels form every weight as dequantize_row does (for the offset types in
// one FMA, which is the same value: the quant x scale product is exact).
// Rows longer than the skinny kernels' staged chunk of scales (2048 inputs) too: the second chunk's
// scales are its own, not the first's again. Every row count of the skinny kernels: q8_0's block
// scale is broadcast once per block where the registers allow it (M = 1, 2, 4, 5, 7, 8 at AVX2, all but
// 8 at AVX-512), once per vector elsewhere; both must give the f32 rows' bits.
TEST(CpuBackend, QuantsMultiplyAsTheirDequantisedValues) {
  npw_test::at_every_level([&] {
    CpuBackend be(2);
    for (const int n_in : {160, 2048 + 160}) {
      const int n_out = 75;
      const auto w = random_vector(static_cast<std::size_t>(n_in) * n_out, 55, -2.0f, 3.0f);
      const auto b = random_vector(n_out, 56);
      for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q4_0, GgmlType::Q5_1, GgmlType::Q4_1}) {
        const auto bytes = store(w, type, n_in, n_out);
        std::vector<float> deq(w.size());
        for (int o = 0; o < n_out; ++o) {
          dequantize_row(type, bytes.data() + static_cast<std::size_t>(o) * ggml_row_bytes(type, n_in),
                         deq.data() + static_cast<std::size_t>(o) * n_in, n_in);
        }
        const auto deq_bytes = store(deq, GgmlType::F32, n_in, n_out);
        auto quants = be.pack(view_of(bytes, type, n_in, n_out));
        auto floats = be.pack(view_of(deq_bytes, GgmlType::F32, n_in, n_out));
        for (int M : {1, 2, 3, 4, 5, 6, 7, 8, 40}) {
          const int ldx = n_in + 1, ldy = n_out + 2;
          const auto x = random_vector(static_cast<std::size_t>(M) * ldx, 57 + M);
          std::vector<float> got(static_cast<std::size_t>(M) * ldy, 1.0f), want = got;
          be.linear(x.data(), M, ldx, *quants, b.data(), got.data(), ldy);
          be.linear(x.data(), M, ldx, *floats, b.data(), want.data(), ldy);
          EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
              << ggml_type_name(type) << " M " << M << " n_in " << n_in;
        }
      }
    }
  });
}

// copy_row gives a row exactly as the file dequantises it (the decoder's embedding reads it there
// instead of the file) for the row storages, and declines the panel layouts.
TEST(CpuBackendCopyRow, RowsEqualTheFileDequantised) {
  const int n_in = 96, n_out = 37;
  const std::vector<float> w = random_vector(static_cast<std::size_t>(n_in) * n_out, 77, -3.0f, 3.0f);
  CpuBackend be(1);
  for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q4_0, GgmlType::Q5_1,
                        GgmlType::Q4_1}) {
    for (std::size_t skip : {std::size_t{0}, std::size_t{3}}) {
      const std::vector<uint8_t> bytes = store(w, type, n_in, n_out, skip);
      const TensorView v = view_of(bytes, type, n_in, n_out, skip);
      const std::unique_ptr<PackedMatrix> p = be.pack(v);
      std::vector<float> want(n_in), got(n_in, -7.0f);
      for (int o : {0, 1, 17, n_out - 1}) {
        dequantize_row(type, v.data + static_cast<std::size_t>(o) * ggml_row_bytes(type, n_in), want.data(), n_in);
        ASSERT_TRUE(p->copy_row(o, got.data())) << ggml_type_name(type);
        EXPECT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)), 0)
            << ggml_type_name(type) << " row " << o << " skip " << skip;
      }
      EXPECT_FALSE(p->copy_row(-1, got.data()));
      EXPECT_FALSE(p->copy_row(n_out, got.data()));
    }
  }
  // Packed for many rows: panels on AVX-512 (declined), rows elsewhere (exact).
  const std::vector<uint8_t> bytes = store(w, GgmlType::F16, n_in, n_out);
  const std::unique_ptr<PackedMatrix> many = be.pack_for_many_rows(view_of(bytes, GgmlType::F16, n_in, n_out));
  std::vector<float> want(n_in), got(n_in);
  dequantize_row(GgmlType::F16, bytes.data() + 5 * ggml_row_bytes(GgmlType::F16, n_in), want.data(), n_in);
  if (many->copy_row(5, got.data())) {
    EXPECT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)), 0);
  }
}

}  // namespace
}  // namespace npw
