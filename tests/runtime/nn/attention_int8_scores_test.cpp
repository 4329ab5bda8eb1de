// The attention tasks whose scores are made in int8 (AVX512_VNNI) and their key and value
// quantisation, called directly (MultiHeadAttention takes each only on some CPUs, so each is tested
// wherever its instructions exist): the keys' means, int8 values and scales, and the values' column
// statistics and chunk-ordered quads, against the rules written out in scalar code; the tasks (bf16,
// f32 or int8 values) against a naive double-precision attention on every tail of their 6-row block,
// odd key counts, per-row limits, a head that is not the first, padding that must not be read; keys
// sharing a large offset, which only the smoothing (the mean subtracted before rounding) keeps
// accurate, and for the int8 values the same with values sharing one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
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

// The int8 layouts and task of each level this CPU runs them at: AVX-512 (AVX512_VNNI, at the Avx512
// level) and AVX2 (its layouts on any AVX2 CPU, its task only with AVX-VNNI).
struct Variant {
  const char* name;
  const Int8AttentionOps* ops;
  bool task;
};
std::vector<Variant> variants() {
  std::vector<Variant> v;
  if (has_f32_kernel()) v.push_back({"avx512", int8_attention_ops(SimdLevel::Avx512), true});
  if (cpu_simd_level() >= SimdLevel::Avx2) {
    v.push_back({"avx2", int8_attention_ops(SimdLevel::Avx2), cpu_has_avx_vnni()});
  }
  return v;
}
std::vector<Variant> task_variants() {
  std::vector<Variant> v = variants();
  v.erase(std::remove_if(v.begin(), v.end(), [](const Variant& x) { return !x.task; }), v.end());
  return v;
}

TEST(AttentionInt8Scores, KeysQuantiseAsTheRule) {
  if (variants().empty()) GTEST_SKIP() << "no int8 attention layouts at this CPU's SIMD level";
  for (const Variant& var : variants()) {
  SCOPED_TRACE(var.name);
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
    var.ops->key_means(k.data(), ld, n_kv, 0, 19, mean.data());  // an odd split of the columns
    var.ops->key_means(k.data(), ld, n_kv, 19, width, mean.data());
    for (int c = 0; c < width; ++c) {
      double sum = 0.0;
      for (int j = 0; j < n_kv; ++j) sum += k[static_cast<std::size_t>(j) * ld + c];
      ASSERT_NEAR(mean[c], sum / n_kv, 1e-6) << "column " << c;
    }

    const int nq = width / 4;
    std::vector<uint32_t> kq(static_cast<std::size_t>(nq) * ldkq, kPadQuads);
    std::vector<float> ks(static_cast<std::size_t>(n_head) * ldkq, NAN);
    // Two ranges of keys, as two threads convert them.
    var.ops->convert_keys(k.data(), ld, 20, width, d_head, mean.data(), kq.data(), ldkq, ks.data());
    var.ops->convert_keys(k.data() + static_cast<std::size_t>(20) * ld, ld, n_kv - 20, width, d_head, mean.data(),
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
}

struct Shape {
  int n_head, d_head, rows, n_kv;
  int lim_mode;  // 0: every row sees every key; 1: causal-like (row r sees r * n_kv / rows keys, row 0 none)
  float key_offset;  // added to every key (a different amount per column): what smoothing takes out
  float q_scale = 1.0f;  // queries in [-q_scale, q_scale]: 8 makes peaked rows (a few keys take most weight)
};

// Which of the int8-score tasks: bf16 value pairs, f32 values, or int8 values.
enum class Values { Bf16, F32, Int8 };

// The task over every head of a shape; returns its largest error against the naive attention. With
// value_offset every value is raised by that much times (1 + column % 5), and the error is taken on
// the outputs with their columns' offsets taken back off (the weights sum to one, so the naive
// output carries exactly that offset): what the int8 values' smoothing must keep.
// values_by_head: int8 values head after head (Int8ValueLayout), not side by side; got: the outputs.
double run_shape(const Shape& c, Values mode, float value_offset = 0.0f, bool values_by_head = false,
                 std::vector<float>* got = nullptr, const Int8AttentionOps* ops = int8_attention_ops(SimdLevel::Avx512)) {
  const int width = c.n_head * c.d_head, ld = width + 5;
  const int ldkq = (c.n_kv + 15) / 16 * 16 + 16;
  const int n_vpairs = (c.n_kv + 1) / 2;
  const auto q = random_vector(static_cast<std::size_t>(c.rows) * ld, 61, -c.q_scale, c.q_scale);
  auto k = random_vector(static_cast<std::size_t>(c.n_kv) * ld, 62, -1.0f, 1.0f);
  auto v = random_vector(static_cast<std::size_t>(c.n_kv) * ld, 63);
  for (int j = 0; j < c.n_kv; ++j) {
    for (int d = 0; d < width; ++d) {
      k[static_cast<std::size_t>(j) * ld + d] += c.key_offset * static_cast<float>(1 + d % 7);
      v[static_cast<std::size_t>(j) * ld + d] += value_offset * static_cast<float>(1 + d % 5);
    }
  }
  std::vector<float> mean(width);
  ops->key_means(k.data(), ld, c.n_kv, 0, width, mean.data());
  std::vector<uint32_t> kq(static_cast<std::size_t>(width / 4) * ldkq, kPadQuads);
  std::vector<float> ks(static_cast<std::size_t>(c.n_head) * ldkq, NAN);
  ops->convert_keys(k.data(), ld, c.n_kv, width, c.d_head, mean.data(), kq.data(), ldkq, ks.data());
  std::vector<uint32_t> vp(static_cast<std::size_t>(n_vpairs) * width, kNanPairs);
  if (mode == Values::Bf16) attention_bf16_convert_values(v.data(), ld, c.n_kv, width, vp.data());
  // Int8 values: quads in whole chunks; the quads past the keys hold 127s, which any read with a
  // nonzero weight would show.
  const int n_chunks = (c.n_kv + kAttentionInt8ChunkKeys - 1) / kAttentionInt8ChunkKeys;
  std::vector<uint32_t> vq(static_cast<std::size_t>(n_chunks) * (kAttentionInt8ChunkKeys / 4) * width, 0x7F7F7F7Fu);
  const Int8ValueLayout layout =
      values_by_head ? Int8ValueLayout{vq.data(), c.d_head, c.d_head,
                                       static_cast<std::size_t>(n_chunks) * (kAttentionInt8ChunkKeys / 4) * c.d_head}
                     : Int8ValueLayout{vq.data(), width, c.d_head, static_cast<std::size_t>(c.d_head)};
  std::vector<float> vstats(3 * static_cast<std::size_t>(width), NAN);
  float* vmean = vstats.data();
  float* vscale = vmean + width;
  float* vinv = vscale + width;
  if (mode == Values::Int8) {
    ops->value_stats(v.data(), ld, c.n_kv, 0, width, vmean, vscale, vinv);
    ops->convert_values(v.data(), ld, c.n_kv, 0, (c.n_kv + 3) / 4, width, vmean, vinv, layout);
  }

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
    if (mode == Values::F32) {
      // Scores scratch for 6 rows only, as the task promises; values read as they are.
      std::vector<float> s6(6 * static_cast<std::size_t>(lds), NAN);
      attention_task_int8_scores_f32_avx512(q.data() + col, ld, c.rows, kq.data() + col / 4 * ldkq, ldkq,
                                            ks.data() + static_cast<std::size_t>(h) * ldkq, c.n_kv, v.data() + col, ld,
                                            c.d_head, alpha, lim.data(), out.data() + col, ld, s6.data(), lds);
      continue;
    }
    if (mode == Values::Int8) {
      // Scratch for 6 rows, as the task promises, filled with what would show if read unwritten.
      std::vector<float> s6(6 * static_cast<std::size_t>(lds), NAN);
      const int ldp8 = n_chunks * kAttentionInt8ChunkKeys + 64, ldps = n_chunks + 3;
      std::vector<uint8_t> p8(6 * static_cast<std::size_t>(ldp8), 0xFF);
      std::vector<float> ps(6 * static_cast<std::size_t>(ldps), NAN);
      ops->task(q.data() + col, ld, c.rows, kq.data() + col / 4 * ldkq, ldkq,
                ks.data() + static_cast<std::size_t>(h) * ldkq, c.n_kv,
                layout.vq + static_cast<std::size_t>(h) * layout.head_stride, layout.ld, vmean + col, vscale + col,
                c.d_head, alpha, lim.data(), out.data() + col, ld, s6.data(), lds, p8.data(), ldp8, ps.data(), ldps);
      continue;
    }
    attention_task_int8_scores_avx512(q.data() + col, ld, c.rows, kq.data() + col / 4 * ldkq, ldkq,
                                      ks.data() + static_cast<std::size_t>(h) * ldkq, c.n_kv, vp.data() + col, width, c.d_head, alpha, lim.data(), out.data() + col, ld,
                                      s.data(), lds, pp.data(), ldp);
  }
  if (got) *got = out;
  std::vector<float> want(out.size(), 7.0f);  // columns past the heads stay untouched
  for (int h = 0; h < c.n_head; ++h) {
    npw_test::naive_head_attention(q.data(), k.data(), v.data(), ld, c.rows, h * c.d_head, c.d_head, alpha, lim.data(),
                                   want.data());
  }
  if (c.lim_mode == 1) {
    for (int d = 0; d < width; ++d) EXPECT_EQ(out[d], 0.0f) << "row 0 sees no key";
  }
  if (value_offset != 0.0f) {
    for (int r = 0; r < c.rows; ++r) {
      if (lim[r] == 0) continue;
      for (int d = 0; d < width; ++d) {
        const float off = value_offset * static_cast<float>(1 + d % 5);
        out[static_cast<std::size_t>(r) * ld + d] -= off;
        want[static_cast<std::size_t>(r) * ld + d] -= off;
      }
    }
  }
  return max_rel_err(out.data(), want.data(), out.size());
}

// The bound of a shape: 1e-2, and 2e-2 for peaked rows, whose softmax turns the scores' int8 rounding
// into larger weight errors (every int8-score task measures 1.2e-2 there, whatever its values).
double bound(const Shape& c) { return c.q_scale > 1.0f ? 2e-2 : 1e-2; }

const Shape kShapes[] = {Shape{1, 64, 7, 1, 0, 0.0f},     Shape{2, 64, 13, 3, 0, 0.0f},   Shape{2, 64, 60, 97, 0, 0.0f},
                         Shape{3, 64, 64, 150, 1, 0.0f},  Shape{1, 64, 61, 1500, 0, 0.0f}, Shape{2, 64, 17, 33, 1, 0.0f},
                         Shape{2, 32, 11, 65, 1, 0.0f},   Shape{3, 16, 5, 17, 0, 0.0f},    Shape{1, 64, 6, 130, 1, 0.0f},
                         Shape{2, 64, 60, 1500, 1, 0.0f}, Shape{2, 64, 60, 1500, 0, 25.0f}, Shape{1, 32, 9, 200, 1, 25.0f},
                         Shape{2, 64, 60, 1500, 0, 0.0f, 8.0f},   Shape{1, 64, 13, 150, 1, 0.0f, 8.0f}};

TEST(AttentionInt8Scores, TaskMatchesNaive) {
  if (!has_kernel()) GTEST_SKIP() << "no AVX512_BF16 + AVX512_VNNI at the active SIMD level";
  double worst = 0.0;
  for (const Shape& c : kShapes) {
    const double err = run_shape(c, Values::Bf16);
    worst = std::max(worst, err);
    EXPECT_LT(err, bound(c)) << "heads " << c.n_head << " d " << c.d_head << " rows " << c.rows << " kv " << c.n_kv
                         << " limits " << c.lim_mode << " key offset " << c.key_offset;
  }
  std::printf("int8-score attention task: worst error %.3g\n", worst);
}

// The same scores with f32 probabilities and values: the int8 rounding of the scores is then the only
// rounding beyond f32 (worst 3.0e-3 on the flat rows against the bf16-value task's 3.3e-3, 1.16e-2 on
// the peaked ones against 1.17e-2), under the same bounds.
TEST(AttentionInt8Scores, F32ValueTaskMatchesNaive) {
  if (!has_f32_kernel()) GTEST_SKIP() << "no AVX512_VNNI at the active SIMD level";
  double worst = 0.0;
  for (const Shape& c : kShapes) {
    const double err = run_shape(c, Values::F32);
    worst = std::max(worst, err);
    EXPECT_LT(err, bound(c)) << "heads " << c.n_head << " d " << c.d_head << " rows " << c.rows << " kv " << c.n_kv
                         << " limits " << c.lim_mode << " key offset " << c.key_offset;
  }
  std::printf("int8-score attention task, f32 values: worst error %.3g\n", worst);
}

// Both products in int8: the exps rounded to u8 per chunk of 64 keys, the values to int8 per column
// after their mean is taken off. Under the same bounds as the other tasks (worst 4.3e-3 on the flat rows
// against the bf16-value task's 3.3e-3, 1.25e-2 on the peaked ones against 1.17e-2), and then with every
// value raised by up to 125: the smoothing keeps the outputs' variation as precise as without the
// offset (an int8 scale over the raw values would lose it: 125 / 127 per step).
TEST(AttentionInt8Scores, Int8ValueTaskMatchesNaive) {
  if (task_variants().empty()) GTEST_SKIP() << "no AVX512_VNNI at the active SIMD level, no AVX-VNNI";
  for (const Variant& var : task_variants()) {
  SCOPED_TRACE(var.name);
  double worst = 0.0;
  for (const Shape& c : kShapes) {
    const double err = run_shape(c, Values::Int8, 0.0f, false, nullptr, var.ops);
    worst = std::max(worst, err);
    EXPECT_LT(err, bound(c)) << "heads " << c.n_head << " d " << c.d_head << " rows " << c.rows << " kv " << c.n_kv
                         << " limits " << c.lim_mode << " key offset " << c.key_offset;
  }
  std::printf("int8-score attention task (%s), int8 values: worst error %.3g\n", var.name, worst);
  double worst_offset = 0.0;
  for (const Shape& c : kShapes) {
    const double err = run_shape(c, Values::Int8, 25.0f, false, nullptr, var.ops);
    worst_offset = std::max(worst_offset, err);
    EXPECT_LT(err, bound(c)) << "value offset: heads " << c.n_head << " d " << c.d_head << " rows " << c.rows << " kv "
                         << c.n_kv << " limits " << c.lim_mode;
  }
  std::printf("int8-score attention task, int8 values offset by up to 125: worst error %.3g\n", worst_offset);
  }
}

// Values head after head (the decoder's cross-attention store) give the task the bits of values side by
// side (a call's own), every shape, with and without a value offset.
TEST(AttentionInt8Scores, Int8ValuesHeadAfterHeadGiveTheSameBits) {
  if (task_variants().empty()) GTEST_SKIP() << "no AVX512_VNNI at the active SIMD level, no AVX-VNNI";
  for (const Variant& var : task_variants()) {
  SCOPED_TRACE(var.name);
  for (const Shape& c : kShapes) {
    for (float offset : {0.0f, 25.0f}) {
      std::vector<float> side, by_head;
      run_shape(c, Values::Int8, offset, false, &side, var.ops);
      run_shape(c, Values::Int8, offset, true, &by_head, var.ops);
      ASSERT_EQ(side.size(), by_head.size());
      EXPECT_EQ(std::memcmp(side.data(), by_head.data(), side.size() * sizeof(float)), 0)
          << "heads " << c.n_head << " d " << c.d_head << " rows " << c.rows << " kv " << c.n_kv << " offset " << offset;
    }
  }
  }
}

// The AVX2 level's layouts and AVX-VNNI task give the AVX-512 ones' bits (every shape, with and without
// a value offset, values side by side and head after head): the two levels' outputs are one function.
TEST(AttentionInt8Scores, Avx2TaskGivesTheAvx512Bits) {
  if (task_variants().size() < 2) GTEST_SKIP() << "needs both AVX512_VNNI (at the Avx512 level) and AVX-VNNI";
  for (const Shape& c : kShapes) {
    for (float offset : {0.0f, 25.0f}) {
      for (bool by_head : {false, true}) {
        std::vector<float> a, b;
        run_shape(c, Values::Int8, offset, by_head, &a, int8_attention_ops(SimdLevel::Avx512));
        run_shape(c, Values::Int8, offset, by_head, &b, int8_attention_ops(SimdLevel::Avx2));
        ASSERT_EQ(a.size(), b.size());
        std::size_t diff = 0;
        while (diff < a.size() && std::memcmp(&a[diff], &b[diff], sizeof(float)) == 0) ++diff;
        EXPECT_EQ(diff, a.size()) << "heads " << c.n_head << " d " << c.d_head << " rows " << c.rows << " kv " << c.n_kv
                                  << " offset " << offset << " by head " << by_head << ": first difference at "
                                  << diff << (diff < a.size() ? ": " + std::to_string(a[diff]) + " against " +
                                                                    std::to_string(b[diff])
                                                              : std::string());
      }
    }
  }
}

// The values' column statistics and int8 quads against the rule written out in scalar code: means,
// largest deviations and factors over an odd split of the columns; every byte of every quad in its
// chunk slot, from two quad ranges converted separately (as two threads do); zero bytes past the keys;
// a column of zeros and one of deviations too small to scale (both all zero bytes, factor 0); in the
// layouts side by side and head after head.
TEST(AttentionInt8Scores, ValuesQuantiseAsTheRule) {
  if (variants().empty()) GTEST_SKIP() << "no int8 attention layouts at this CPU's SIMD level";
  for (const Variant& var : variants()) {
  SCOPED_TRACE(var.name);
  const int width = 3 * 64 + 16, ld = width + 3, kHead = 16;
  for (const int n_kv : {1, 7, 64, 150}) {
    auto v = random_vector(static_cast<std::size_t>(n_kv) * ld, 81, -3.0f, 2.0f);
    for (int j = 0; j < n_kv; ++j) {
      v[static_cast<std::size_t>(j) * ld + 5] = 0.0f;                             // a dead dimension
      v[static_cast<std::size_t>(j) * ld + 9] = j % 2 == 0 ? 1e-38f : -1e-38f;    // too small to scale
    }
    std::vector<float> stats(3 * static_cast<std::size_t>(width), NAN);
    float* mean = stats.data();
    float* scale = mean + width;
    float* inv = scale + width;
    var.ops->value_stats(v.data(), ld, n_kv, 0, 37, mean, scale, inv);
    var.ops->value_stats(v.data(), ld, n_kv, 37, width, mean, scale, inv);
    const int n_quads = (n_kv + 3) / 4;
    const int n_chunks = (n_quads + 15) / 16;
    // Side by side (heads of 16 columns or one head of them all: the same words) and head after head.
    for (int layout_kind = 0; layout_kind < 3; ++layout_kind) {
      std::vector<uint32_t> vq(static_cast<std::size_t>(n_chunks) * 16 * width, 0xA5A5A5A5u);
      const std::size_t head_quads = static_cast<std::size_t>(n_chunks) * 16 * kHead;
      const Int8ValueLayout layout = layout_kind == 0   ? Int8ValueLayout{vq.data(), width, kHead, kHead}
                                     : layout_kind == 1 ? Int8ValueLayout{vq.data(), width, width, static_cast<std::size_t>(width)}
                                                        : Int8ValueLayout{vq.data(), kHead, kHead, head_quads};
      // Column c's word of quad row `slot`.
      auto word_at = [&](int slot, int c) {
        return vq[static_cast<std::size_t>(c / layout.d_head) * layout.head_stride + static_cast<std::size_t>(slot) * layout.ld +
                  c % layout.d_head];
      };
      const int split = n_quads / 2 + 1;
      var.ops->convert_values(v.data(), ld, n_kv, split, n_quads, width, mean, inv, layout);
      var.ops->convert_values(v.data(), ld, n_kv, 0, std::min(split, n_quads), width, mean, inv, layout);
      for (int c = 0; c < width; ++c) {
        double sum = 0.0;
        for (int j = 0; j < n_kv; ++j) sum += v[static_cast<std::size_t>(j) * ld + c];
        ASSERT_NEAR(mean[c], sum / n_kv, 1e-6) << "column " << c;
        float m = 0.0f;
        for (int j = 0; j < n_kv; ++j) m = std::max(m, std::fabs(v[static_cast<std::size_t>(j) * ld + c] - mean[c]));
        EXPECT_EQ(scale[c], m / 127.0f) << "column " << c;
        float f = m > 0.0f ? 127.0f / m : 0.0f;
        if (!(f <= std::numeric_limits<float>::max())) f = 0.0f;
        EXPECT_EQ(inv[c], f) << "column " << c;
        for (int qd = 0; qd < n_quads; ++qd) {
          const int slot = qd / 16 * 16 + kInt8ChunkSlot(qd % 16);
          const uint32_t word = word_at(slot, c);
          for (int i = 0; i < 4; ++i) {
            const int j = 4 * qd + i;
            const int want =
                j < n_kv ? std::clamp(static_cast<int>(std::nearbyint((v[static_cast<std::size_t>(j) * ld + c] - mean[c]) * f)), -127, 127)
                         : 0;
            ASSERT_EQ(static_cast<int8_t>((word >> (8 * i)) & 0xFFu), want)
                << "n_kv " << n_kv << " column " << c << " row " << j << " layout " << layout_kind;
          }
        }
      }
      EXPECT_EQ(inv[5], 0.0f);
      EXPECT_EQ(inv[9], 0.0f);
      // Slots past the last quad are not written, in any head.
      for (int slot = 0; slot < n_chunks * 16; ++slot) {
        bool used = false;
        for (int qd = 0; qd < n_quads; ++qd) used = used || qd / 16 * 16 + kInt8ChunkSlot(qd % 16) == slot;
        if (!used) {
          for (int c = 0; c < width; c += kHead) EXPECT_EQ(word_at(slot, c), 0xA5A5A5A5u) << "slot " << slot << " column " << c;
        }
      }
    }
  }
  }
}

// Rows wider than one pass of the column sums (1024 columns: large's 1280 take two), cut at an odd column.
TEST(AttentionInt8Scores, MeansAndStatsOfRowsWiderThanAPass) {
  if (variants().empty()) GTEST_SKIP() << "no int8 attention layouts at this CPU's SIMD level";
  for (const Variant& var : variants()) {
  SCOPED_TRACE(var.name);
  const int width = 2100, ld = width + 7, n_kv = 9;
  const auto x = random_vector(static_cast<std::size_t>(n_kv) * ld, 91, -2.0f, 3.0f);
  std::vector<float> mean(width, NAN), stats(3 * static_cast<std::size_t>(width), NAN);
  var.ops->key_means(x.data(), ld, n_kv, 0, 3, mean.data());
  var.ops->key_means(x.data(), ld, n_kv, 3, width, mean.data());
  var.ops->value_stats(x.data(), ld, n_kv, 0, width, stats.data(), stats.data() + width, stats.data() + 2 * width);
  for (int c = 0; c < width; ++c) {
    // The sums' own order: four partial sums (row j into j % 4, the last row into the first), then paired.
    float part[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int j = 0; j < n_kv; ++j) part[j < 8 ? j % 4 : 0] += x[static_cast<std::size_t>(j) * ld + c];
    const float want = ((part[0] + part[1]) + (part[2] + part[3])) * (1.0f / n_kv);
    ASSERT_EQ(mean[c], want) << "column " << c;
    ASSERT_EQ(stats[c], want) << "column " << c;
    float m = 0.0f;
    for (int j = 0; j < n_kv; ++j) m = std::max(m, std::fabs(x[static_cast<std::size_t>(j) * ld + c] - want));
    ASSERT_EQ(stats[width + c], m / 127.0f) << "column " << c;
    ASSERT_EQ(stats[2 * width + c], 127.0f / m) << "column " << c;
  }
  }
}

// The chunk order is a 4 x 4 transpose of the quads: its own inverse, every slot used once.
TEST(AttentionInt8Scores, ChunkSlotsArePermutation) {
  std::vector<int> seen(16, 0);
  for (int g = 0; g < 16; ++g) {
    ++seen[kInt8ChunkSlot(g)];
    EXPECT_EQ(kInt8ChunkSlot(kInt8ChunkSlot(g)), g);
  }
  for (int g = 0; g < 16; ++g) EXPECT_EQ(seen[g], 1);
}

}  // namespace
}  // namespace npw
