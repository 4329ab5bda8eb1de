// Keys and values rounded once into the int8 task's layouts (int8_key_values.h; the decoder's window
// cross-attention): an attention call reading a prepared set gives the int8 task's result (against a
// naive double-precision attention, and the very bits of the same call converting its own rows), with
// or without the keys and values it was made from; and what cannot be taken (halves, transposed keys,
// more keys than room, a set made for other keys) is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "naive.h"
#include "nn/attention.h"
#include "nn/attention_kernels.h"
#include "model/half_rows.h"
#include "nn/int8_key_values.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using npw_test::random_vector;

// Rows [n][ld] of values that halves hold exactly (random floats rounded to halves), as halves and floats.
struct Exact {
  std::vector<uint16_t> h;
  std::vector<float> f;
};

Exact exact_halves(std::size_t n, uint32_t seed, float lo, float hi) {
  const std::vector<float> x = random_vector(n, seed, lo, hi);
  Exact e;
  e.h.resize(n);
  e.f.resize(n);
  floats_to_halves(x.data(), e.h.data(), n);
  halves_to_floats(e.h.data(), e.f.data(), n);
  return e;
}

struct Shape {
  int n_head, d_head, n_q, n_kv;
  float q_scale;
};

// A call over a set prepared from float rows (the decoder's set_audio), against the naive attention
// and against the same call converting its own rows (the encoder's int8 path).
void check_prepared(const Shape& s, ThreadPool& pool) {
  const int width = s.n_head * s.d_head, ld = width + 5;
  const std::vector<float> q = random_vector(static_cast<std::size_t>(s.n_q) * ld, 95, -s.q_scale, s.q_scale);
  const std::vector<float> k_rows = random_vector(static_cast<std::size_t>(s.n_kv) * ld, 96, -1.0f, 1.0f);
  const std::vector<float> v = random_vector(static_cast<std::size_t>(s.n_kv) * ld, 97, -1.0f, 1.0f);
  AttentionArgs a;
  a.n_head = s.n_head;
  a.d_head = s.d_head;
  a.q = q.data();
  a.ldq = ld;
  a.n_q = s.n_q;
  a.k = k_rows.data();
  a.ldk = ld;
  a.v = v.data();
  a.ldv = ld;
  a.n_kv = s.n_kv;
  a.ldo = ld;
  a.reduced_precision = true;

  Int8KeyValueStore store(2, s.n_kv + 3, width, s.d_head, "test");
  Int8KeysValues& kv = store.set(1);
  prepare_int8_keys_values(&pool, a, kv);
  ASSERT_EQ(kv.n_kv, s.n_kv);
  a.int8 = &kv;
  CpuBackend backend(1);
  MultiHeadAttention mha(s.n_kv + 3, pool.size(), width, s.d_head);
  ASSERT_TRUE(mha.uses_int8(a));
  ASSERT_FALSE(mha.uses_bf16(a));
  std::vector<float> got(static_cast<std::size_t>(s.n_q) * ld, 7.0f), alone(got);
  a.out = got.data();
  mha.run(backend, &pool, a);
  // The set alone, without the keys and values it was made from: the same bits.
  AttentionArgs only = a;
  only.k = only.v = nullptr;
  only.k_half = only.v_half = nullptr;
  only.out = alone.data();
  mha.run(backend, &pool, only);
  ASSERT_EQ(got, alone);

  AttentionArgs r = a;
  r.int8 = nullptr;
  // Keys as rows take the SIMD paths from kSimdMinRows rows on, and the int8 task there only where the
  // CPU prefers it for float rows (not on AMX, whose tiles take them in bf16); fewer rows (decoder
  // steps), or rows the tiles take, are compared with the naive attention alone.
  const bool own_too = s.n_q >= MultiHeadAttention::kSimdMinRows && simd_prefers_int8_attention_values();
  ASSERT_EQ(mha.uses_int8(r), own_too);
  std::vector<float> own(got), want(got.size(), 7.0f);
  r.out = own.data();
  if (own_too) mha.run(backend, &pool, r);
  std::vector<int> lim(s.n_q, s.n_kv);
  const float alpha = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.d_head)));
  for (int h = 0; h < s.n_head; ++h) {
    npw_test::naive_head_attention(q.data(), k_rows.data(), v.data(), ld, s.n_q, h * s.d_head, s.d_head, alpha,
                                   lim.data(), want.data());
  }
  const double e = npw_test::max_rel_err(got.data(), want.data(), got.size());
  const double e_own = npw_test::max_rel_err(got.data(), own.data(), got.size());
  std::printf("prepared int8 keys and values, %d heads of %d, %d rows, %d keys, q in +-%g: error %.3g", s.n_head,
              s.d_head, s.n_q, s.n_kv, s.q_scale, e);
  if (own_too) std::printf(", %.3g from the call converting its own", e_own);
  std::printf("\n");
  // Made from the same float rows as the call's own conversion: the very same bits.
  EXPECT_EQ(e_own, 0.0);
  // The int8 task's bounds (attention_int8_scores_test): 1e-2, 2e-2 for peaked rows.
  EXPECT_LE(e, s.q_scale > 1.0f ? 2e-2 : 1e-2);
}

TEST(Int8KeyValues, PreparedCallsAreTheInt8Task) {
  if (!int8_key_values_wanted(64)) GTEST_SKIP() << "this CPU does not take the int8 attention task at this level";
  ThreadPool pool(2);
  // Prompts and alignment passes, and decoder steps (1 and 5 rows).
  const Shape shapes[] = {{6, 64, 64, 1500, 1.0f}, {2, 64, 100, 1500, 8.0f}, {3, 32, 70, 101, 1.0f},
                          {4, 16, 65, 9, 1.0f},    {2, 64, 17, 77, 1.0f},    {6, 64, 1, 1500, 1.0f},
                          {6, 64, 5, 1500, 8.0f},  {2, 32, 3, 33, 1.0f}};
  for (const Shape& s : shapes) check_prepared(s, pool);
}

TEST(Int8KeyValues, RefusesWhatItCannotTake) {
  EXPECT_THROW(Int8KeyValueStore(1, 100, 96, 64, "test"), Error) << "width not a multiple of the head";
  EXPECT_THROW(Int8KeyValueStore(0, 100, 128, 64, "test"), Error);
  EXPECT_THROW(Int8KeyValueStore(1, 100, 72, 24, "test"), Error) << "heads the task cannot take";
  Int8KeyValueStore store(1, 64, 128, 64, "test");
  const Exact kv = exact_halves(128 * 64, 99, -1.0f, 1.0f);
  const std::vector<float> q = random_vector(128, 4);
  std::vector<float> out(128);
  AttentionArgs a;
  a.n_head = 2;
  a.d_head = 64;
  a.q = q.data();
  a.ldq = 128;
  a.n_q = 1;
  a.k_half = kv.h.data();
  a.k_transposed = true;
  a.ldk = 64;
  a.v_half = kv.h.data();
  a.ldv = 128;
  a.n_kv = 64;
  a.out = out.data();
  a.ldo = 128;
  EXPECT_THROW(prepare_int8_keys_values(nullptr, a, store.set(0)), Error) << "halves";
  a.k_half = a.v_half = nullptr;
  a.k = kv.f.data();
  a.v = kv.f.data();
  EXPECT_THROW(prepare_int8_keys_values(nullptr, a, store.set(0)), Error) << "transposed keys";
  a.k_transposed = false;
  a.ldk = 128;
  a.n_kv = 65;
  EXPECT_THROW(prepare_int8_keys_values(nullptr, a, store.set(0)), Error) << "more keys than room";
  a.n_kv = 64;
  a.ldv = 100;
  EXPECT_THROW(prepare_int8_keys_values(nullptr, a, store.set(0)), Error) << "a row stride below the width";
  a.ldv = 128;
  // The layouts exist from the AVX2 level up (AVX-512 VNNI or plain AVX2 code); below it, a clear refusal.
  if (active_simd_level() == SimdLevel::Scalar) {
    EXPECT_THROW(prepare_int8_keys_values(nullptr, a, store.set(0)), Error) << "no layouts at the scalar level";
    return;
  }
  prepare_int8_keys_values(nullptr, a, store.set(0));
  EXPECT_EQ(store.set(0).n_kv, 64);
  // A set made for other keys than the call's.
  a.int8 = &store.set(0);
  a.n_kv = 63;
  a.reduced_precision = true;
  CpuBackend backend(1);
  MultiHeadAttention mha(64, 1, 128, 64);
  EXPECT_THROW(mha.run(backend, nullptr, a), Error);
}

}  // namespace
}  // namespace npw
