// The AVX512_BF16 attention task called directly (not through MultiHeadAttention, which prefers AMX
// where present, so this kernel is tested on AMX machines too) against a naive double-precision
// attention: head sizes 16, 32, 64, row counts that leave every tail of its 6-row block, small and odd
// key counts, per-row limits with a row that sees no key (zeros), a head that is not the first, and
// padding of keys and scratch that must not be read (NaN pairs there would show in the output).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "naive.h"
#include "nn/attention_kernels.h"
#include "util/cpu_features.h"

namespace npw {
namespace {

using npw_test::max_rel_err;
using npw_test::random_vector;

constexpr uint32_t kNanPairs = 0x7FC07FC0u;  // two quiet bf16 NaNs

struct Shape {
  int n_head, d_head, rows, n_kv;
  int lim_mode;  // 0: every row sees every key; 1: causal-like (row r sees r * n_kv / rows keys, row 0 none)
};

TEST(AttentionBf16Avx512, TaskMatchesNaive) {
  if (!simd_has_avx512_bf16()) GTEST_SKIP() << "no AVX512_BF16 at the active SIMD level";
  double worst = 0.0;
  for (const Shape& c : {Shape{1, 64, 7, 1, 0}, Shape{2, 64, 13, 3, 0}, Shape{2, 64, 60, 97, 0}, Shape{3, 64, 64, 150, 1},
                         Shape{1, 64, 61, 1500, 0}, Shape{2, 64, 17, 33, 1}, Shape{2, 32, 11, 65, 1}, Shape{3, 16, 5, 17, 0},
                         Shape{1, 64, 6, 130, 1}, Shape{2, 64, 60, 1500, 1}}) {
    const int width = c.n_head * c.d_head, ld = width + 5;
    const int ldkp = (c.n_kv + 15) / 16 * 16 + 16;
    const int n_vpairs = (c.n_kv + 1) / 2;
    const auto q = random_vector(static_cast<std::size_t>(c.rows) * ld, 51, -1.0f, 1.0f);
    const auto k = random_vector(static_cast<std::size_t>(c.n_kv) * ld, 52, -1.0f, 1.0f);
    const auto v = random_vector(static_cast<std::size_t>(c.n_kv) * ld, 53);
    std::vector<uint32_t> kp(static_cast<std::size_t>(width / 2) * ldkp, kNanPairs);
    std::vector<uint32_t> vp(static_cast<std::size_t>(n_vpairs) * width, kNanPairs);
    attention_bf16_convert_keys(k.data(), ld, c.n_kv, width, kp.data(), ldkp);
    attention_bf16_convert_values(v.data(), ld, c.n_kv, width, vp.data());

    std::vector<int> lim(c.rows, c.n_kv);
    if (c.lim_mode == 1) {
      for (int r = 0; r < c.rows; ++r) lim[r] = std::min(c.n_kv, static_cast<int>(static_cast<long>(r) * c.n_kv / std::max(1, c.rows - 1)));
    }
    const int lds = (c.n_kv + 15) / 16 * 16, ldp = (n_vpairs + 15) / 16 * 16;
    std::vector<float> s(16 * static_cast<std::size_t>(lds), NAN);
    std::vector<uint32_t> pp(16 * static_cast<std::size_t>(ldp), kNanPairs);
    const float alpha = static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.d_head)));
    std::vector<float> out(static_cast<std::size_t>(c.rows) * ld, 7.0f);
    for (int h = 0; h < c.n_head; ++h) {
      const std::size_t col = static_cast<std::size_t>(h) * c.d_head;
      attention_task_bf16_avx512(q.data() + col, ld, c.rows, kp.data() + col / 2 * ldkp, ldkp, c.n_kv, vp.data() + col,
                                 width, c.d_head, alpha, lim.data(), out.data() + col, ld, s.data(), lds, pp.data(), ldp);
    }

    std::vector<float> want(out.size(), 7.0f);  // columns past the heads stay untouched
    for (int h = 0; h < c.n_head; ++h) {
      npw_test::naive_head_attention(q.data(), k.data(), v.data(), ld, c.rows, h * c.d_head, c.d_head, alpha, lim.data(),
                                     want.data());
    }
    const double err = max_rel_err(out.data(), want.data(), out.size());
    worst = std::max(worst, err);
    EXPECT_LT(err, 1e-2) << "heads " << c.n_head << " d " << c.d_head << " rows " << c.rows << " kv " << c.n_kv
                         << " limits " << c.lim_mode;
    if (c.lim_mode == 1) {
      for (int d = 0; d < width; ++d) EXPECT_EQ(out[d], 0.0f) << "row 0 sees no key";
    }
  }
  std::printf("AVX512_BF16 attention task: worst error %.3g\n", worst);
}

}  // namespace
}  // namespace npw
