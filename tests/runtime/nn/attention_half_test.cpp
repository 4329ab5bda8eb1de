// Attention over half keys and values (the decoder's cross-attention store): widening a half is
// exact, so each path must give the very bits it gives on the widened floats, at every SIMD level,
// for decoder shapes (transposed keys, 1, 5 and 37 query rows, key counts off the 16-key blocks).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "naive.h"
#include "nn/attention.h"
#include "nn/attention_kernels.h"
#include "model/half_rows.h"
#include "simd_levels.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using npw_test::random_vector;

// n floats rounded to halves, and those halves widened back.
struct HalfData {
  std::vector<uint16_t> h;
  std::vector<float> f;
};

HalfData half_data(std::size_t n, uint32_t seed) {
  const std::vector<float> x = random_vector(n, seed);
  HalfData d;
  d.h.resize(n);
  d.f.resize(n);
  floats_to_halves(x.data(), d.h.data(), n);
  halves_to_floats(d.h.data(), d.f.data(), n);
  return d;
}

struct Shape {
  int n_head, d_head, n_q, n_kv;
};

// One shape's inputs as the decoder's cross-attention store holds them: keys transposed (rows of at
// least n_kv) and value rows, as halves and widened; seeds seed, seed + 1, seed + 2.
struct CrossInputs {
  int width, ldq, ldv, ldo, ldk;
  std::vector<float> q;
  HalfData k, v;
};

CrossInputs cross_inputs(const Shape& s, uint32_t seed) {
  CrossInputs in;
  in.width = s.n_head * s.d_head;
  in.ldq = in.width + 3;
  in.ldv = in.width + 5;
  in.ldo = in.width + 1;
  in.ldk = (s.n_kv + 15) / 16 * 16 + 16;
  in.q = random_vector(static_cast<std::size_t>(s.n_q) * in.ldq, seed);
  in.k = half_data(static_cast<std::size_t>(in.width) * in.ldk, seed + 1);
  in.v = half_data(static_cast<std::size_t>(s.n_kv) * in.ldv, seed + 2);
  return in;
}

// The call on the widened floats, keys transposed; out left to the caller.
AttentionArgs float_args(const Shape& s, const CrossInputs& in) {
  AttentionArgs a;
  a.n_head = s.n_head;
  a.d_head = s.d_head;
  a.q = in.q.data();
  a.ldq = in.ldq;
  a.n_q = s.n_q;
  a.k = in.k.f.data();
  a.ldk = in.ldk;
  a.k_transposed = true;
  a.v = in.v.f.data();
  a.ldv = in.ldv;
  a.n_kv = s.n_kv;
  a.ldo = in.ldo;
  return a;
}

// Runs one shape with half keys, half values or both against the same call on the widened floats.
void expect_same_bits(const Shape& s, bool half_k, bool half_v, bool reduced, ThreadPool* pool) {
  const CrossInputs in = cross_inputs(s, 11);
  const int width = in.width, ldo = in.ldo;
  const HalfData& k = in.k;
  const HalfData& v = in.v;
  AttentionArgs a = float_args(s, in);
  a.reduced_precision = reduced;
  std::vector<float> want(static_cast<std::size_t>(s.n_q) * ldo, 0.0f), got(want.size(), 0.0f);

  CpuBackend backend(1);
  MultiHeadAttention mha(s.n_kv, pool ? pool->size() : 1, width, s.d_head);
  a.out = want.data();
  mha.run(backend, pool, a);

  AttentionArgs b = a;
  if (half_k) {
    b.k = nullptr;
    b.k_half = k.h.data();
  }
  if (half_v) {
    b.v = nullptr;
    b.v_half = v.h.data();
  }
  // Every output row of `out` equal to want's, bit for bit.
  auto expect_want = [&](const std::vector<float>& out, const char* what) {
    for (int i = 0; i < s.n_q; ++i) {
      ASSERT_EQ(std::memcmp(want.data() + static_cast<std::size_t>(i) * ldo, out.data() + static_cast<std::size_t>(i) * ldo,
                            sizeof(float) * width),
                0)
          << what << "row " << i << " of " << s.n_q << ", " << s.n_head << " heads of " << s.d_head << ", " << s.n_kv
          << " keys, half k " << half_k << " v " << half_v << (pool ? ", pooled" : "");
    }
  };
  b.out = got.data();
  EXPECT_FALSE(mha.uses_bf16(b));
  mha.run(backend, pool, b);
  expect_want(got, "");
  if (!half_v) return;
  // The half values head after head (AttentionArgs::v_head_stride, as the decoder keeps them): the same bits.
  const int ldh = s.d_head + 2;
  const std::size_t head_stride = static_cast<std::size_t>(ldh) * s.n_kv + 3;
  std::vector<uint16_t> vh(head_stride * s.n_head, 0x7C00);  // +inf where nothing is to be read
  for (int h = 0; h < s.n_head; ++h)
    for (int j = 0; j < s.n_kv; ++j)
      for (int d = 0; d < s.d_head; ++d)
        vh[h * head_stride + static_cast<std::size_t>(j) * ldh + d] = v.h[static_cast<std::size_t>(j) * in.ldv + h * s.d_head + d];
  AttentionArgs c = b;
  c.v_half = vh.data();
  c.ldv = ldh;
  c.v_head_stride = head_stride;
  std::vector<float> by_head(want.size(), 0.0f);
  c.out = by_head.data();
  EXPECT_FALSE(mha.uses_bf16(c));
  mha.run(backend, pool, c);
  expect_want(by_head, "head after head: ");
}

TEST(AttentionHalf, SameBitsAsOnWidenedFloats) {
  ThreadPool pool(2);
  const Shape shapes[] = {{6, 64, 1, 1500}, {6, 64, 5, 1500}, {6, 64, 37, 1500}, {3, 32, 5, 101},
                          {2, 64, 37, 77},  {4, 16, 1, 9},     {1, 24, 5, 50}};
  npw_test::at_every_level([&] {
    for (const Shape& s : shapes) {
      for (int kinds = 1; kinds < 4; ++kinds) {
        expect_same_bits(s, kinds & 1, kinds & 2, false, nullptr);
        expect_same_bits(s, kinds & 1, kinds & 2, false, &pool);
      }
      // A reduced-precision backend's transposed keys take the f32 paths too.
      expect_same_bits(s, true, true, true, &pool);
    }
  });
}

// A reduced-precision backend's half values with many query rows (a prompt's cross-attention) take
// the bf16 path, with transposed keys in halves or floats: the pairs made from them are those made
// from the widened floats, so the results are the bf16 path's on the widened (untransposed) floats,
// bit for bit (where the CPU makes the scores of keys given as rows in int8, on the transposed
// widened floats). Fewer rows keep the f32 path.
TEST(AttentionHalf, ManyRowsOfHalvesTakeTheBf16PathBitForBit) {
  ThreadPool pool(2);
  const Shape shapes[] = {{6, 64, 64, 1500}, {6, 64, 100, 1500}, {2, 64, 70, 77}, {3, 32, 65, 101}, {4, 16, 64, 9},
                          {2, 64, 63, 200}};
  int taken = 0;
  for (const Shape& s : shapes) {
    const CrossInputs in = cross_inputs(s, 21);
    const int width = in.width, ldo = in.ldo, ldk = in.ldk, ldr = width + 7;
    const HalfData& k = in.k;
    const HalfData& v = in.v;
    std::vector<float> k_rows(static_cast<std::size_t>(s.n_kv) * ldr);
    for (int j = 0; j < s.n_kv; ++j) {
      for (int c = 0; c < width; ++c) k_rows[static_cast<std::size_t>(j) * ldr + c] = k.f[static_cast<std::size_t>(c) * ldk + j];
    }
    // The reference: the bf16 path on the widened keys as rows (untransposed).
    AttentionArgs a = float_args(s, in);
    a.k = k_rows.data();
    a.ldk = ldr;
    a.k_transposed = false;
    a.reduced_precision = true;
    CpuBackend backend(1);
    MultiHeadAttention mha(s.n_kv, pool.size(), width, s.d_head);
    AttentionArgs b = a;
    b.k = nullptr;
    b.k_half = k.h.data();
    b.k_transposed = true;
    b.ldk = ldk;
    b.v = nullptr;
    b.v_half = v.h.data();
    // No bf16 path at this level (no AMX, and AVX512_BF16 not chosen), or not for this head size.
    if (!MultiHeadAttention::bf16_available() || !attention_bf16_takes(s.d_head)) continue;
    ASSERT_EQ(mha.uses_bf16(b), s.n_q >= MultiHeadAttention::kBf16HalfMinRows) << s.n_q << " rows";
    {
      // Half values head after head stay on the f32 paths (the pairs are made from rows of every head).
      AttentionArgs h = b;
      h.ldv = s.d_head;
      h.v_head_stride = static_cast<std::size_t>(s.d_head) * s.n_kv;
      EXPECT_FALSE(mha.uses_bf16(h));
    }
    if (!mha.uses_bf16(b)) continue;
    ++taken;
    std::vector<float> want(static_cast<std::size_t>(s.n_q) * ldo, 0.0f), got(want.size(), 1.0f);
    if (!mha.uses_bf16(a) || simd_prefers_int8_attention_scores()) {
      // Keys as rows make their scores (and maybe values) in int8 on this CPU
      // (attention_int8_*_avx512.cpp), keys transposed keep bf16: the reference is then the bf16 path
      // on transposed float keys.
      AttentionArgs r = b;
      r.k_half = nullptr;
      r.k = k.f.data();
      r.out = want.data();
      mha.run(backend, &pool, r);
    } else {
      a.out = want.data();
      mha.run(backend, &pool, a);
    }
    // Half keys, then the same keys transposed as floats (the layers kept in f32 for word timing).
    for (bool half_keys : {true, false}) {
      AttentionArgs c = b;
      if (!half_keys) {
        c.k_half = nullptr;
        c.k = k.f.data();
      }
      ASSERT_TRUE(mha.uses_bf16(c));
      std::fill(got.begin(), got.end(), 1.0f);
      c.out = got.data();
      mha.run(backend, &pool, c);
      for (int i = 0; i < s.n_q; ++i) {
        ASSERT_EQ(std::memcmp(want.data() + static_cast<std::size_t>(i) * ldo,
                              got.data() + static_cast<std::size_t>(i) * ldo, sizeof(float) * width),
                  0)
            << "row " << i << " of " << s.n_q << ", " << s.n_head << " heads of " << s.d_head << ", " << s.n_kv
            << " keys, half keys " << half_keys;
      }
    }
  }
  if (taken == 0) GTEST_SKIP() << "no bf16 attention path on this CPU at this level";
}

TEST(AttentionHalf, RejectsWhatItCannotTake) {
  CpuBackend backend(1);
  const HalfData kv = half_data(64 * 64, 3);
  const std::vector<float> q = random_vector(64, 4);
  std::vector<float> out(64);
  AttentionArgs a;
  a.n_head = 1;
  a.d_head = 64;
  a.q = q.data();
  a.ldq = 64;
  a.n_q = 1;
  a.k_half = kv.h.data();
  a.ldk = 64;
  a.v_half = kv.h.data();
  a.ldv = 64;
  a.n_kv = 64;
  a.out = out.data();
  a.ldo = 64;
  MultiHeadAttention no_scratch(64, 1, 64);
  a.k_transposed = true;
  EXPECT_THROW(no_scratch.run(backend, nullptr, a), Error) << "no scratch for half heads";
  MultiHeadAttention mha(64, 1, 64, 64);
  EXPECT_NO_THROW(mha.run(backend, nullptr, a));
  a.k_transposed = false;
  EXPECT_THROW(mha.run(backend, nullptr, a), Error) << "half keys must be transposed";
}

}  // namespace
}  // namespace npw
