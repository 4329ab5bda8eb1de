// Multi-head attention against a naive double loop: odd head sizes, query counts across task tiles,
// row strides wider than the heads, causal masks with a cache offset, explicit per-row limits, a
// fully masked row, and with or without a pool.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <cstdio>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "naive.h"
#include "nn/attention.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using npw_test::max_rel_err;
using npw_test::random_vector;

std::vector<float> naive_attention(const AttentionArgs& a) {
  std::vector<float> out(static_cast<std::size_t>(a.n_q) * a.ldo, 0.0f);
  for (int h = 0; h < a.n_head; ++h) {
    for (int i = 0; i < a.n_q; ++i) {
      int lim = a.n_kv;
      if (a.kv_limit) lim = a.kv_limit[i];
      else if (a.causal) lim = std::min(a.n_kv, a.q_pos0 + i + 1);
      if (lim <= 0) continue;
      std::vector<double> s(lim);
      double mx = -INFINITY;
      for (int j = 0; j < lim; ++j) {
        double dot = 0;
        for (int d = 0; d < a.d_head; ++d) dot += static_cast<double>(a.q[i * a.ldq + h * a.d_head + d]) * a.k[j * a.ldk + h * a.d_head + d];
        s[j] = dot / std::sqrt(static_cast<double>(a.d_head));
        mx = std::max(mx, s[j]);
      }
      double sum = 0;
      for (double& v : s) sum += (v = std::exp(v - mx));
      for (int d = 0; d < a.d_head; ++d) {
        double o = 0;
        for (int j = 0; j < lim; ++j) o += s[j] / sum * a.v[j * a.ldv + h * a.d_head + d];
        out[i * a.ldo + h * a.d_head + d] = static_cast<float>(o);
      }
    }
  }
  return out;
}

// Heads side by side in rows of q, k and v (ldq, ldk, ldv floats apart) and of the output (ldo apart;
// out is set by the caller): the layout every test below starts from.
AttentionArgs heads(int n_head, int d_head, const std::vector<float>& q, int ldq, int n_q, const std::vector<float>& k,
                    int ldk, const std::vector<float>& v, int ldv, int n_kv, int ldo) {
  AttentionArgs a;
  a.n_head = n_head;
  a.d_head = d_head;
  a.q = q.data();
  a.ldq = ldq;
  a.n_q = n_q;
  a.k = k.data();
  a.ldk = ldk;
  a.v = v.data();
  a.ldv = ldv;
  a.n_kv = n_kv;
  a.ldo = ldo;
  return a;
}

// Whether the active level's f32 kernel takes this head size: its vector width must divide it.
bool kernel_takes(int d_head) {
  switch (active_simd_level()) {
    case SimdLevel::Avx512: return d_head % 16 == 0;
    case SimdLevel::Avx2: return d_head % 8 == 0;
    default: return false;
  }
}

struct Case {
  int n_head, d_head, n_q, n_kv, pad;
  bool causal;
  int q_pos0;
};

TEST(Attention, MatchesNaive) {
  CpuBackend backend(2);
  ThreadPool pool3(3);
  const Case cases[] = {
      {3, 5, 131, 97, 2, false, 0},   {1, 16, 1, 1, 0, false, 0},  {4, 16, 1, 450, 0, false, 0},
      {2, 7, 67, 67, 3, true, 0},     {3, 9, 5, 21, 1, true, 16},  {6, 64, 150, 150, 0, false, 0},
      {5, 3, 64, 1, 0, false, 0},
  };
  for (const Case& c : cases) {
    for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool3}) {
      const int width = c.n_head * c.d_head, ld = width + c.pad;
      const auto q = random_vector(static_cast<std::size_t>(c.n_q) * ld, 1, -2.0f, 2.0f);
      const auto k = random_vector(static_cast<std::size_t>(c.n_kv) * (ld + 1), 2, -2.0f, 2.0f);
      const auto v = random_vector(static_cast<std::size_t>(c.n_kv) * (ld + 2), 3);
      std::vector<float> out(static_cast<std::size_t>(c.n_q) * (ld + 3), 7.0f);
      AttentionArgs a = heads(c.n_head, c.d_head, q, ld, c.n_q, k, ld + 1, v, ld + 2, c.n_kv, ld + 3);
      a.out = out.data();
      a.causal = c.causal;
      a.q_pos0 = c.q_pos0;

      MultiHeadAttention mha(c.n_kv + 5, pool ? pool->size() : 1);
      mha.run(backend, pool, a);
      auto want = naive_attention(a);
      for (int i = 0; i < c.n_q; ++i) {
        for (int j = width; j < a.ldo; ++j) {
          ASSERT_EQ(out[i * a.ldo + j], 7.0f) << "padding column written";
          want[i * a.ldo + j] = 7.0f;
        }
      }
      EXPECT_LT(max_rel_err(out.data(), want.data(), out.size()), 2e-6)
          << "heads " << c.n_head << " d " << c.d_head << " q " << c.n_q << " kv " << c.n_kv << " causal " << c.causal
          << " pool " << (pool ? pool->size() : 0);
    }
  }
}

TEST(Attention, PerRowLimitsAndFullyMaskedRows) {
  CpuBackend backend(1);
  ThreadPool pool(2);
  const int n_head = 2, d = 4, n_q = 70, n_kv = 33, w = n_head * d;
  const auto q = random_vector(n_q * w, 4), k = random_vector(n_kv * w, 5), v = random_vector(n_kv * w, 6);
  std::vector<int> limit(n_q);
  for (int i = 0; i < n_q; ++i) limit[i] = (i * 7) % (n_kv + 1);  // includes 0 and n_kv
  std::vector<float> out(n_q * w, 9.0f);
  AttentionArgs a = heads(n_head, d, q, w, n_q, k, w, v, w, n_kv, w);
  a.out = out.data();
  a.kv_limit = limit.data();
  MultiHeadAttention mha(n_kv, 2);
  mha.run(backend, &pool, a);
  const auto want = naive_attention(a);
  EXPECT_LT(max_rel_err(out.data(), want.data(), out.size()), 2e-6);
  for (int j = 0; j < w; ++j) EXPECT_EQ(out[j], 0.0f);  // row 0 sees no key
}

// The SIMD path (where this CPU has one) against the same naive loops, on the shapes it takes: head
// sizes that are multiples of 16, key counts across the 16- and 64-key tails, query counts across the
// 6- and 8-row register blocks and the 64-row tiles, causal masks and per-row limits. The portable
// path is run on the same arguments and must agree too.
TEST(Attention, SimdPathMatchesNaiveAndPortable) {
  CpuBackend backend(1);
  ThreadPool pool(2);
  struct SimdCase {
    int n_head, d_head, n_q, n_kv, pad;
    bool causal, limits;
  };
  const SimdCase cases[] = {
      {2, 16, 16, 1, 0, false, false},  {3, 16, 131, 97, 3, false, false}, {2, 32, 67, 67, 1, true, false},
      {6, 64, 150, 150, 0, false, false}, {1, 64, 200, 1500, 5, false, false}, {2, 48, 70, 33, 2, false, true},
      {1, 128, 17, 129, 0, true, false},  {4, 80, 23, 64, 0, false, false}, {3, 40, 61, 45, 1, true, false},
  };
  for (const SimdCase& c : cases) {
    const int width = c.n_head * c.d_head, ld = width + c.pad;
    const auto q = random_vector(static_cast<std::size_t>(c.n_q) * ld, 11, -2.0f, 2.0f);
    const auto k = random_vector(static_cast<std::size_t>(c.n_kv) * (ld + 1), 12, -2.0f, 2.0f);
    const auto v = random_vector(static_cast<std::size_t>(c.n_kv) * (ld + 2), 13);
    std::vector<int> limit(static_cast<std::size_t>(c.n_q));
    for (int i = 0; i < c.n_q; ++i) limit[i] = (i * 7) % (c.n_kv + 1);
    AttentionArgs a = heads(c.n_head, c.d_head, q, ld, c.n_q, k, ld + 1, v, ld + 2, c.n_kv, ld + 3);
    a.causal = c.causal;
    a.kv_limit = c.limits ? limit.data() : nullptr;
    auto want = naive_attention(a);
    for (int i = 0; i < c.n_q; ++i)
      for (int j = width; j < a.ldo; ++j) want[static_cast<std::size_t>(i) * a.ldo + j] = 7.0f;

    MultiHeadAttention mha(c.n_kv, 2, width);
    const SimdLevel saved = active_simd_level();
    // Every kernel this CPU can run (AVX-512 and AVX2 here), then the portable path.
    for (SimdLevel level : {SimdLevel::Avx512, SimdLevel::Avx2}) {
      if (level > cpu_simd_level()) continue;
      set_active_simd_level(level);
      EXPECT_EQ(mha.uses_simd(a), kernel_takes(c.d_head)) << simd_level_name(level) << " d " << c.d_head;
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        std::vector<float> out(static_cast<std::size_t>(c.n_q) * a.ldo, 7.0f);
        a.out = out.data();
        mha.run(backend, p, a);
        EXPECT_LT(max_rel_err(out.data(), want.data(), out.size()), 2e-6)
            << simd_level_name(level) << ": heads " << c.n_head << " d " << c.d_head << " q " << c.n_q << " kv " << c.n_kv;
      }
    }
    set_active_simd_level(SimdLevel::Scalar);
    EXPECT_FALSE(mha.uses_simd(a));
    std::vector<float> out(static_cast<std::size_t>(c.n_q) * a.ldo, 7.0f);
    a.out = out.data();
    mha.run(backend, &pool, a);
    set_active_simd_level(saved);
    EXPECT_LT(max_rel_err(out.data(), want.data(), out.size()), 2e-6) << "portable: d " << c.d_head;
  }
}

// Keys handed over already transposed (the decoder's cross-attention): any number of query rows,
// on the SIMD path (where the CPU has it; no scratch for transposing needed) and the portable one; the
// values side by side and head after head (v_head_stride), the same bits either way.
TEST(Attention, TransposedKeysMatchNaive) {
  CpuBackend backend(1);
  ThreadPool pool(2);
  struct TCase {
    int n_head, d_head, n_q, n_kv;
  };
  for (const TCase& c : {TCase{2, 16, 1, 1500}, TCase{3, 64, 5, 97}, TCase{1, 32, 70, 33}, TCase{2, 7, 3, 40}, TCase{2, 24, 9, 77}}) {
    const int width = c.n_head * c.d_head, ldkt = c.n_kv + 9;
    const auto q = random_vector(static_cast<std::size_t>(c.n_q) * width, 31, -2.0f, 2.0f);
    const auto k = random_vector(static_cast<std::size_t>(c.n_kv) * width, 32, -2.0f, 2.0f);
    const auto v = random_vector(static_cast<std::size_t>(c.n_kv) * width, 33);
    std::vector<float> kt(static_cast<std::size_t>(width) * ldkt, 1e30f);  // padding must never be read
    for (int j = 0; j < c.n_kv; ++j)
      for (int d = 0; d < width; ++d) kt[static_cast<std::size_t>(d) * ldkt + j] = k[static_cast<std::size_t>(j) * width + d];
    AttentionArgs a = heads(c.n_head, c.d_head, q, width, c.n_q, k, width, v, width, c.n_kv, width);
    const auto want = naive_attention(a);
    a.k = kt.data();
    a.ldk = ldkt;
    a.k_transposed = true;
    MultiHeadAttention mha(c.n_kv, 2);  // no transposition scratch
    const SimdLevel saved = active_simd_level();
    // Head after head: each head's rows ldh = d_head + 3 apart, heads a stride with room to spare.
    const int ldh = c.d_head + 3;
    const std::size_t head_stride = static_cast<std::size_t>(ldh) * c.n_kv + 5;
    std::vector<float> vh(head_stride * c.n_head, 1e30f);
    for (int h = 0; h < c.n_head; ++h)
      for (int j = 0; j < c.n_kv; ++j)
        for (int d = 0; d < c.d_head; ++d)
          vh[h * head_stride + static_cast<std::size_t>(j) * ldh + d] = v[static_cast<std::size_t>(j) * width + h * c.d_head + d];
    AttentionArgs b = a;
    b.v = vh.data();
    b.ldv = ldh;
    b.v_head_stride = head_stride;
    for (SimdLevel level : {SimdLevel::Avx512, SimdLevel::Avx2, SimdLevel::Scalar}) {
      set_active_simd_level(level);
      EXPECT_EQ(mha.uses_simd(a), kernel_takes(c.d_head));  // the level is clamped to what the CPU has
      std::vector<float> out(static_cast<std::size_t>(c.n_q) * width, 7.0f);
      a.out = out.data();
      mha.run(backend, &pool, a);
      EXPECT_LT(max_rel_err(out.data(), want.data(), out.size()), 2e-6)
          << simd_level_name(active_simd_level()) << " d " << c.d_head << " q " << c.n_q;
      std::vector<float> out_by_head(out.size(), 7.0f);
      b.out = out_by_head.data();
      mha.run(backend, &pool, b);
      EXPECT_EQ(std::memcmp(out.data(), out_by_head.data(), out.size() * sizeof(float)), 0)
          << "values head after head: " << simd_level_name(active_simd_level()) << " d " << c.d_head << " q " << c.n_q;
    }
    set_active_simd_level(saved);
    b.v_head_stride = static_cast<std::size_t>(ldh) * c.n_kv - 1;
    EXPECT_THROW(mha.run(backend, &pool, b), Error);  // heads overlapping
    b.v_head_stride = head_stride;
    b.k = k.data();
    b.ldk = width;
    b.k_transposed = false;
    EXPECT_THROW(mha.run(backend, &pool, b), Error);  // only with transposed keys
    a.ldk = c.n_kv - 1;
    EXPECT_THROW(mha.run(backend, &pool, a), Error);  // transposed rows shorter than n_kv
  }
}

// The reduced-precision (VNNI int8 scores and values; bf16: AMX tiles, or AVX512_BF16 without them; or
// VNNI int8 scores with f32 values) path, where the CPU has it and the head size is one it takes (16, 32, 64): within bf16 or
// int8 rounding of the naive result. Elsewhere (other head sizes, other CPUs) reduced_precision
// changes nothing: the f32 paths run, to f32 accuracy.
TEST(Attention, ReducedPrecisionPathIsCloseToNaive) {
  CpuBackend backend(1);
  ThreadPool pool(2);
  struct BCase {
    int n_head, d_head, n_q, n_kv;
    bool causal;
  };
  double worst = 0.0;
  for (const BCase& c : {BCase{2, 16, 16, 1, false}, BCase{3, 16, 131, 97, false}, BCase{2, 32, 67, 67, true},
                         BCase{6, 64, 150, 150, false}, BCase{1, 64, 200, 1500, false}, BCase{1, 128, 17, 129, true},
                         BCase{4, 80, 23, 65, false}}) {
    const int width = c.n_head * c.d_head, ld = width + 3;
    const auto q = random_vector(static_cast<std::size_t>(c.n_q) * ld, 41, -1.0f, 1.0f);
    const auto k = random_vector(static_cast<std::size_t>(c.n_kv) * ld, 42, -1.0f, 1.0f);
    const auto v = random_vector(static_cast<std::size_t>(c.n_kv) * ld, 43);
    AttentionArgs a = heads(c.n_head, c.d_head, q, ld, c.n_q, k, ld, v, ld, c.n_kv, width);
    a.causal = c.causal;
    a.reduced_precision = true;
    const auto want = naive_attention(a);
    MultiHeadAttention mha(c.n_kv, 2, width);
    const bool takes = c.d_head == 16 || c.d_head == 32 || c.d_head == 64;
    // AVX512_VNNI without AMX (Zen 4/5, Ice Lake): both products in int8, unless NPW_ATTENTION_VALUES=float.
    const bool int8 = simd_prefers_int8_attention_values() && takes;
    const bool bf16 = !int8 && (simd_has_amx_bf16() || simd_prefers_avx512_bf16_attention()) && takes;
    // Then VNNI without a bf16 task (Ice Lake; NPW_BF16_ATTENTION=0 on a Zen): int8 scores, f32 values.
    const bool int8_f32 = !int8 && !bf16 && simd_prefers_int8_scores_f32_values() && takes;
    EXPECT_EQ(mha.uses_int8(a), int8);
    EXPECT_EQ(mha.uses_bf16(a), bf16);
    EXPECT_EQ(mha.uses_int8_f32(a), int8_f32);
    std::vector<float> out(static_cast<std::size_t>(c.n_q) * width, 7.0f);
    a.out = out.data();
    mha.run(backend, &pool, a);
    const double err = max_rel_err(out.data(), want.data(), out.size());
    worst = std::max(worst, err);
    EXPECT_LT(err, int8 || bf16 || int8_f32 ? 1e-2 : 2e-6) << "d " << c.d_head << " q " << c.n_q << " kv " << c.n_kv;
  }
  std::printf("reduced-precision attention: worst error %.3g (path: %s)\n", worst,
              simd_prefers_int8_attention_values()    ? "VNNI scores and values"
              : simd_has_amx_bf16()                   ? "AMX"
              : simd_prefers_avx512_bf16_attention()  ? "AVX512_BF16"
              : simd_prefers_int8_scores_f32_values() ? "VNNI scores, f32 values"
                                                      : "f32");
}

// Without room for the transposed keys, or with too few query rows or an odd head size, run() keeps
// the portable path.
TEST(Attention, SimdPathOnlyWhereItFits) {
  std::vector<float> buf(64);
  AttentionArgs a;
  a.n_head = 2;
  a.d_head = 16;
  a.q = a.k = a.v = a.out = buf.data();
  a.ldq = a.ldk = a.ldv = a.ldo = 32;
  a.n_q = 64;
  a.n_kv = 64;
  EXPECT_FALSE(MultiHeadAttention(64, 1).uses_simd(a));
  MultiHeadAttention mha(64, 1, 32);
  EXPECT_EQ(mha.uses_simd(a), active_simd_level() != SimdLevel::Scalar);
  a.n_q = MultiHeadAttention::kSimdMinRows - 1;
  EXPECT_FALSE(mha.uses_simd(a));
  a.n_q = 64;
  a.d_head = 8;  // AVX2 vectors are 8 floats, AVX-512's 16
  a.n_head = 4;
  EXPECT_EQ(mha.uses_simd(a), active_simd_level() == SimdLevel::Avx2);
  a.d_head = 4;
  a.n_head = 8;
  EXPECT_FALSE(mha.uses_simd(a));
}

TEST(Attention, RefusesWhatTheScratchCannotHold) {
  CpuBackend backend(1);
  ThreadPool pool(3);
  std::vector<float> buf(64 * 64);
  AttentionArgs a;
  a.n_head = 2;
  a.d_head = 4;
  a.q = a.k = a.v = buf.data();
  a.out = buf.data() + 32 * 8;
  a.ldq = a.ldk = a.ldv = a.ldo = 8;
  a.n_q = 4;
  a.n_kv = 17;
  MultiHeadAttention mha(16, 2);
  EXPECT_THROW(mha.run(backend, nullptr, a), Error);  // too many keys
  a.n_kv = 16;
  EXPECT_THROW(mha.run(backend, &pool, a), Error);  // pool larger than the scratch
  a.ldq = 7;
  EXPECT_THROW(mha.run(backend, nullptr, a), Error);
  EXPECT_THROW(MultiHeadAttention(0, 1), Error);
}

}  // namespace
}  // namespace npw
