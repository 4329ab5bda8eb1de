// The attention task whose scores are made in int8 (AVX512_VNNI) and its key quantisation, called
// directly (MultiHeadAttention takes it only on CPUs without AMX where the vendor rule picks the bf16
// task, so it is tested wherever the instructions exist): the keys' means, int8 values and scales
// against the rule written out in scalar code; the task against a naive double-precision
// attention on every tail of its 6-row block, odd key counts, per-row limits, a head that is not the
// first, padding that must not be read; and keys sharing a large offset, which only the smoothing
// (the mean subtracted before rounding) keeps accurate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "naive.h"
#include "nn/attention_kernels.h"
#include "util/cpu_features.h"

namespace npw {
namespace {

using npw_test::max_rel_err;
using npw_test::random_vector;

constexpr uint32_t kNanPairs = 0x7FC07FC0u;  // two quiet bf16 NaNs
constexpr uint32_t kPadQuads = 0xFFFFFFFFu;  // four u8 255s (k8 = 127): would show if read as keys

bool has_kernel() { return simd_has_avx512_bf16() && __builtin_cpu_supports("avx512vnni"); }
// The f32-value task and the key quantisation need AVX512_VNNI alone (Ice Lake has no AVX512_BF16).
bool has_f32_kernel() { return active_simd_level() == SimdLevel::Avx512 && __builtin_cpu_supports("avx512vnni"); }

TEST(AttentionInt8Scores, KeysQuantiseAsTheRule) {
  if (!has_f32_kernel()) GTEST_SKIP() << "no AVX512_VNNI at the active SIMD level";
  for (const int d_head : {16, 32, 64}) {
    const int n_head = 3, width = n_head * d_head, ld = width + 3, n_kv = 37, ldkq = 64;
    auto k = random_vector(static_cast<std::size_t>(n_kv) * ld, 71, -2.0f, 2.0f);
    for (int d = 0; d < width; ++d) k[static_cast<std::size_t>(5) * ld + d] = 0.5f;  // key 5 - mean: not all zero
    // Key 11 all zero in head 2; in head 0 keys 13 and 14 hold 1e-38 and -1e-38 and every other key 0,
    // so those two keys minus the mean are below the magnitude an int8 scale can take (zeros).
    for (int d = 0; d < d_head; ++d) k[static_cast<std::size_t>(11) * ld + 2 * d_head + d] = 0.0f;
    for (int j = 0; j < n_kv; ++j) {
      for (int d = 0; d < d_head; ++d) k[static_cast<std::size_t>(j) * ld + d] = j == 13 ? 1e-38f : j == 14 ? -1e-38f : 0.0f;
    }

    std::vector<float> mean(width, NAN);
    attention_int8_key_means(k.data(), ld, n_kv, 0, 19, mean.data());  // an odd split of the columns
    attention_int8_key_means(k.data(), ld, n_kv, 19, width, mean.data());
    for (int c = 0; c < width; ++c) {
      double sum = 0.0;
      for (int j = 0; j < n_kv; ++j) sum += k[static_cast<std::size_t>(j) * ld + c];
      ASSERT_NEAR(mean[c], sum / n_kv, 1e-6) << "column " << c;
    }

    const int nq = width / 4;
    std::vector<uint32_t> kq(static_cast<std::size_t>(nq) * ldkq, kPadQuads);
    std::vector<float> ks(static_cast<std::size_t>(n_head) * ldkq, NAN);
    // Two ranges of keys, as two threads convert them.
    attention_int8_convert_keys(k.data(), ld, 20, width, d_head, mean.data(), kq.data(), ldkq, ks.data());
    attention_int8_convert_keys(k.data() + static_cast<std::size_t>(20) * ld, ld, n_kv - 20, width, d_head, mean.data(),
                                kq.data() + 20, ldkq, ks.data() + 20);
    for (int j = 0; j < ldkq; ++j) {
      for (int h = 0; h < n_head; ++h) {
        if (j >= n_kv) {
          EXPECT_TRUE(std::isnan(ks[static_cast<std::size_t>(h) * ldkq + j])) << "scale written past the keys";
          for (int p = 0; p < d_head / 4; ++p) EXPECT_EQ(kq[static_cast<std::size_t>(h * d_head / 4 + p) * ldkq + j], kPadQuads);
          continue;
        }
        float x[64];
        float m = 0.0f;
        for (int d = 0; d < d_head; ++d) {
          x[d] = k[static_cast<std::size_t>(j) * ld + h * d_head + d] - mean[h * d_head + d];
          m = std::max(m, std::fabs(x[d]));
        }
        float inv = m > 0.0f ? 127.0f / m : 0.0f;
        if (!(inv <= std::numeric_limits<float>::max())) inv = 0.0f;  // too small to scale: zeros
        const float scale = m / 127.0f;
        for (int d = 0; d < d_head; ++d) {
          const int v = std::clamp(static_cast<int>(std::nearbyint(x[d] * inv)), -127, 127);
          const uint32_t quad = kq[static_cast<std::size_t>(h * d_head / 4 + d / 4) * ldkq + j];
          ASSERT_EQ(static_cast<int>((quad >> (8 * (d % 4))) & 0xFFu), v + 128)
              << "d_head " << d_head << " key " << j << " head " << h << " dim " << d;
        }
        EXPECT_EQ(ks[static_cast<std::size_t>(h) * ldkq + j], scale);
      }
    }
  }
}

struct Shape {
  int n_head, d_head, rows, n_kv;
  int lim_mode;  // 0: every row sees every key; 1: causal-like (row r sees r * n_kv / rows keys, row 0 none)
  float key_offset;  // added to every key (a different amount per column): what smoothing takes out
};

// The task over every head of a shape (the bf16-value one, or with f32_values the f32-value one);
// returns its largest error against the naive attention.
double run_shape(const Shape& c, bool f32_values) {
  const int width = c.n_head * c.d_head, ld = width + 5;
  const int ldkq = (c.n_kv + 15) / 16 * 16 + 16;
  const int n_vpairs = (c.n_kv + 1) / 2;
  const auto q = random_vector(static_cast<std::size_t>(c.rows) * ld, 61, -1.0f, 1.0f);
  auto k = random_vector(static_cast<std::size_t>(c.n_kv) * ld, 62, -1.0f, 1.0f);
  const auto v = random_vector(static_cast<std::size_t>(c.n_kv) * ld, 63);
  for (int j = 0; j < c.n_kv; ++j) {
    for (int d = 0; d < width; ++d) k[static_cast<std::size_t>(j) * ld + d] += c.key_offset * static_cast<float>(1 + d % 7);
  }
  std::vector<float> mean(width);
  attention_int8_key_means(k.data(), ld, c.n_kv, 0, width, mean.data());
  std::vector<uint32_t> kq(static_cast<std::size_t>(width / 4) * ldkq, kPadQuads);
  std::vector<float> ks(static_cast<std::size_t>(c.n_head) * ldkq, NAN);
  attention_int8_convert_keys(k.data(), ld, c.n_kv, width, c.d_head, mean.data(), kq.data(), ldkq, ks.data());
  std::vector<uint32_t> vp(static_cast<std::size_t>(n_vpairs) * width, kNanPairs);
  if (!f32_values) attention_bf16_convert_values(v.data(), ld, c.n_kv, width, vp.data());

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
    if (f32_values) {
      // Scores scratch for 6 rows only, as the task promises; values read as they are.
      std::vector<float> s6(6 * static_cast<std::size_t>(lds), NAN);
      attention_task_int8_scores_f32_avx512(q.data() + col, ld, c.rows, kq.data() + col / 4 * ldkq, ldkq,
                                            ks.data() + static_cast<std::size_t>(h) * ldkq, c.n_kv, v.data() + col, ld,
                                            c.d_head, alpha, lim.data(), out.data() + col, ld, s6.data(), lds);
      continue;
    }
    attention_task_int8_scores_avx512(q.data() + col, ld, c.rows, kq.data() + col / 4 * ldkq, ldkq,
                                      ks.data() + static_cast<std::size_t>(h) * ldkq, c.n_kv, vp.data() + col, width, c.d_head, alpha, lim.data(), out.data() + col, ld,
                                      s.data(), lds, pp.data(), ldp);
  }
  std::vector<float> want(out.size(), 7.0f);  // columns past the heads stay untouched
  for (int h = 0; h < c.n_head; ++h) {
    npw_test::naive_head_attention(q.data(), k.data(), v.data(), ld, c.rows, h * c.d_head, c.d_head, alpha, lim.data(),
                                   want.data());
  }
  if (c.lim_mode == 1) {
    for (int d = 0; d < width; ++d) EXPECT_EQ(out[d], 0.0f) << "row 0 sees no key";
  }
  return max_rel_err(out.data(), want.data(), out.size());
}

const Shape kShapes[] = {Shape{1, 64, 7, 1, 0, 0.0f},     Shape{2, 64, 13, 3, 0, 0.0f},   Shape{2, 64, 60, 97, 0, 0.0f},
                         Shape{3, 64, 64, 150, 1, 0.0f},  Shape{1, 64, 61, 1500, 0, 0.0f}, Shape{2, 64, 17, 33, 1, 0.0f},
                         Shape{2, 32, 11, 65, 1, 0.0f},   Shape{3, 16, 5, 17, 0, 0.0f},    Shape{1, 64, 6, 130, 1, 0.0f},
                         Shape{2, 64, 60, 1500, 1, 0.0f}, Shape{2, 64, 60, 1500, 0, 25.0f}, Shape{1, 32, 9, 200, 1, 25.0f}};

TEST(AttentionInt8Scores, TaskMatchesNaive) {
  if (!has_kernel()) GTEST_SKIP() << "no AVX512_BF16 + AVX512_VNNI at the active SIMD level";
  double worst = 0.0;
  for (const Shape& c : kShapes) {
    const double err = run_shape(c, false);
    worst = std::max(worst, err);
    EXPECT_LT(err, 1e-2) << "heads " << c.n_head << " d " << c.d_head << " rows " << c.rows << " kv " << c.n_kv
                         << " limits " << c.lim_mode << " key offset " << c.key_offset;
  }
  std::printf("int8-score attention task: worst error %.3g\n", worst);
}

// The same scores with f32 probabilities and values: the int8 rounding of the scores is then the only
// rounding beyond f32 (worst 3.0e-3 here against the bf16-value task's 3.3e-3), under the same bound.
TEST(AttentionInt8Scores, F32ValueTaskMatchesNaive) {
  if (!has_f32_kernel()) GTEST_SKIP() << "no AVX512_VNNI at the active SIMD level";
  double worst = 0.0;
  for (const Shape& c : kShapes) {
    const double err = run_shape(c, true);
    worst = std::max(worst, err);
    EXPECT_LT(err, 1e-2) << "heads " << c.n_head << " d " << c.d_head << " rows " << c.rows << " kv " << c.n_kv
                         << " limits " << c.lim_mode << " key offset " << c.key_offset;
  }
  std::printf("int8-score attention task, f32 values: worst error %.3g\n", worst);
}

}  // namespace
}  // namespace npw
