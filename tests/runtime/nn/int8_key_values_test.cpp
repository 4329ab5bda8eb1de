// Keys and values rounded once into the int8 task's layouts (int8_key_values.h; the decoder's window
// cross-attention): the conversions from transposed keys (halves and floats) give the very quads and
// scales of the conversion of the same keys given as rows, and half value rows those of their widened
// floats; the means of transposed rows match the rule; an attention call reading a prepared set gives
// the int8 task's result (against a naive double-precision attention, and close to the same call
// converting its own rows, equal to it when made from the same rows), with or without the keys and
// values it was made from; and what cannot be taken is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "naive.h"
#include "nn/attention.h"
#include "nn/attention_kernels.h"
#include "nn/half_rows.h"
#include "nn/int8_key_values.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using npw_test::random_vector;

constexpr uint32_t kPadQuads = 0xFFFFFFFFu;

bool has_vnni() { return active_simd_level() == SimdLevel::Avx512 && __builtin_cpu_supports("avx512vnni"); }

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

TEST(Int8KeyValues, TransposedKeysQuantiseAsRows) {
  if (!has_vnni()) GTEST_SKIP() << "no AVX512_VNNI at the active SIMD level";
  for (const int d_head : {16, 32, 64}) {
    const int n_head = 3, width = n_head * d_head, n_kv = 37, ldr = width + 3, ldkt = 53, ldkq = 64;
    // Transposed keys with an offset per row (what the smoothing takes out), held exactly by halves.
    Exact kt = exact_halves(static_cast<std::size_t>(width) * ldkt, 91, -2.0f, 2.0f);
    for (int c = 0; c < width; ++c) {
      for (int j = 0; j < ldkt; ++j) {
        float& x = kt.f[static_cast<std::size_t>(c) * ldkt + j];
        x += static_cast<float>(c % 5);  // small integers: the sum stays a half
      }
    }
    floats_to_halves(kt.f.data(), kt.h.data(), kt.f.size());
    halves_to_floats(kt.h.data(), kt.f.data(), kt.f.size());
    // Key 9 all zero in head 2.
    for (int d = 0; d < d_head; ++d) kt.h[static_cast<std::size_t>(2 * d_head + d) * ldkt + 9] = 0;
    halves_to_floats(kt.h.data(), kt.f.data(), kt.f.size());
    std::vector<float> rows(static_cast<std::size_t>(n_kv) * ldr);
    for (int j = 0; j < n_kv; ++j) {
      for (int c = 0; c < width; ++c) rows[static_cast<std::size_t>(j) * ldr + c] = kt.f[static_cast<std::size_t>(c) * ldkt + j];
    }

    std::vector<float> mean_h(width, NAN), mean_f(width, NAN);
    attention_int8_key_means_t(kt.h.data(), ldkt, n_kv, 0, 21, mean_h.data());  // an odd split of the rows
    attention_int8_key_means_t(kt.h.data(), ldkt, n_kv, 21, width, mean_h.data());
    attention_int8_key_means_t(kt.f.data(), ldkt, n_kv, 0, width, mean_f.data());
    for (int c = 0; c < width; ++c) {
      double sum = 0.0;
      for (int j = 0; j < n_kv; ++j) sum += kt.f[static_cast<std::size_t>(c) * ldkt + j];
      ASSERT_NEAR(mean_h[c], sum / n_kv, 1e-6 * (1.0 + std::fabs(sum / n_kv))) << "row " << c;
      ASSERT_EQ(mean_h[c], mean_f[c]) << "row " << c << ": halves widen exactly";
    }

    // The reference: keys as rows, against the same means.
    const int nq = width / 4;
    std::vector<uint32_t> want_q(static_cast<std::size_t>(nq) * ldkq, kPadQuads);
    std::vector<float> want_s(static_cast<std::size_t>(n_head) * ldkq, NAN);
    attention_int8_convert_keys(rows.data(), ldr, n_kv, width, d_head, mean_h.data(), want_q.data(), ldkq, want_s.data());
    for (const bool halves : {true, false}) {
      std::vector<uint32_t> kq(want_q.size(), kPadQuads);
      std::vector<float> ks(want_s.size(), NAN);
      // Two ranges of keys, as two threads convert them, the first ending off the 16-key blocks.
      for (const int j : {0, 19}) {
        const int j1 = j == 0 ? 19 : n_kv;
        if (halves) {
          attention_int8_convert_keys_t(kt.h.data(), ldkt, j, j1, width, d_head, mean_h.data(), kq.data(), ldkq, ks.data());
        } else {
          attention_int8_convert_keys_t(kt.f.data(), ldkt, j, j1, width, d_head, mean_h.data(), kq.data(), ldkq, ks.data());
        }
      }
      for (std::size_t i = 0; i < kq.size(); ++i) {
        ASSERT_EQ(kq[i], want_q[i]) << "d_head " << d_head << " quad row " << i / ldkq << " key " << i % ldkq
                                    << (halves ? " halves" : " floats");
      }
      for (std::size_t i = 0; i < ks.size(); ++i) {
        if (std::isnan(want_s[i])) {
          ASSERT_TRUE(std::isnan(ks[i])) << "scale written past the keys";
        } else {
          ASSERT_EQ(ks[i], want_s[i]) << "head " << i / ldkq << " key " << i % ldkq;
        }
      }
    }
  }
}

TEST(Int8KeyValues, HalfValuesAsTheirWidenedFloats) {
  if (!has_vnni()) GTEST_SKIP() << "no AVX512_VNNI at the active SIMD level";
  const int width = 2 * 64 + 16, ld = width + 5;
  for (const int n_kv : {1, 7, 64, 150}) {
    const Exact v = exact_halves(static_cast<std::size_t>(n_kv) * ld, 93, -3.0f, 2.0f);
    std::vector<float> sh(3 * static_cast<std::size_t>(width), NAN), sf(sh.size(), NAN);
    attention_int8_value_stats(v.h.data(), ld, n_kv, 0, 37, sh.data(), sh.data() + width, sh.data() + 2 * width);
    attention_int8_value_stats(v.h.data(), ld, n_kv, 37, width, sh.data(), sh.data() + width, sh.data() + 2 * width);
    attention_int8_value_stats(v.f.data(), ld, n_kv, 0, width, sf.data(), sf.data() + width, sf.data() + 2 * width);
    ASSERT_EQ(std::memcmp(sh.data(), sf.data(), sizeof(float) * sh.size()), 0) << n_kv << " keys";
    const int n_quads = (n_kv + 3) / 4, n_chunks = (n_quads + 15) / 16;
    std::vector<uint32_t> qh(static_cast<std::size_t>(n_chunks) * 16 * width, 0xA5A5A5A5u), qf(qh);
    const int split = n_quads / 2 + 1;
    attention_int8_convert_values(v.h.data(), ld, n_kv, split, n_quads, width, sh.data(), sh.data() + 2 * width, qh.data());
    attention_int8_convert_values(v.h.data(), ld, n_kv, 0, std::min(split, n_quads), width, sh.data(),
                                  sh.data() + 2 * width, qh.data());
    attention_int8_convert_values(v.f.data(), ld, n_kv, 0, n_quads, width, sf.data(), sf.data() + 2 * width, qf.data());
    ASSERT_EQ(qh, qf) << n_kv << " keys";
  }
}

struct Shape {
  int n_head, d_head, n_q, n_kv;
  float q_scale;
};

// A call over transposed half keys and half values with a prepared set, against the naive attention
// on the widened floats and against the same call converting its own rows (the encoder's int8 path on
// the widened keys as rows: only the keys' means differ, by the order of their adds).
enum class Keys { HalvesTransposed, FloatsTransposed, FloatRows };

void check_prepared(const Shape& s, Keys keys, ThreadPool& pool) {
  const bool half_keys = keys == Keys::HalvesTransposed;
  const int width = s.n_head * s.d_head, ld = width + 5, ldkt = (s.n_kv + 15) / 16 * 16 + 16;
  const std::vector<float> q = random_vector(static_cast<std::size_t>(s.n_q) * ld, 95, -s.q_scale, s.q_scale);
  const Exact kt = exact_halves(static_cast<std::size_t>(width) * ldkt, 96, -1.0f, 1.0f);
  const Exact v = exact_halves(static_cast<std::size_t>(s.n_kv) * ld, 97, -1.0f, 1.0f);
  std::vector<float> k_rows(static_cast<std::size_t>(s.n_kv) * ld);
  for (int j = 0; j < s.n_kv; ++j) {
    for (int c = 0; c < width; ++c) k_rows[static_cast<std::size_t>(j) * ld + c] = kt.f[static_cast<std::size_t>(c) * ldkt + j];
  }
  AttentionArgs a;
  a.n_head = s.n_head;
  a.d_head = s.d_head;
  a.q = q.data();
  a.ldq = ld;
  a.n_q = s.n_q;
  a.k_transposed = true;
  a.ldk = ldkt;
  if (half_keys) {
    a.k_half = kt.h.data();
  } else {
    a.k = kt.f.data();
  }
  a.v_half = v.h.data();
  if (keys == Keys::FloatRows) {
    // The decoder's set_audio: keys and values as the products' float rows.
    a.k = k_rows.data();
    a.ldk = ld;
    a.k_transposed = false;
    a.v_half = nullptr;
    a.v = v.f.data();
  }
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
  r.k_transposed = false;
  r.k_half = nullptr;
  r.k = k_rows.data();
  r.ldk = ld;
  r.v_half = nullptr;
  r.v = v.f.data();
  // Keys as rows take the SIMD paths from kSimdMinRows rows on; fewer (decoder steps) are compared
  // with the naive attention alone.
  const bool own_too = s.n_q >= MultiHeadAttention::kSimdMinRows;
  ASSERT_EQ(mha.uses_int8(r), own_too);
  std::vector<float> own(got), want(got.size(), 7.0f);
  r.out = own.data();
  if (own_too) mha.run(backend, &pool, r);
  std::vector<int> lim(s.n_q, s.n_kv);
  const float alpha = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.d_head)));
  for (int h = 0; h < s.n_head; ++h) {
    npw_test::naive_head_attention(q.data(), k_rows.data(), v.f.data(), ld, s.n_q, h * s.d_head, s.d_head, alpha,
                                   lim.data(), want.data());
  }
  const double e = npw_test::max_rel_err(got.data(), want.data(), got.size());
  const double e_own = npw_test::max_rel_err(got.data(), own.data(), got.size());
  std::printf("prepared int8 keys and values, %d heads of %d, %d rows, %d keys, q in +-%g, %s keys: error %.3g",
              s.n_head, s.d_head, s.n_q, s.n_kv, s.q_scale,
              half_keys ? "half" : keys == Keys::FloatRows ? "float row" : "float", e);
  if (own_too) std::printf(", %.3g from the call converting its own", e_own);
  std::printf("\n");
  // Made from the same float rows as the call's own conversion: the very same bits.
  if (keys == Keys::FloatRows) {
    EXPECT_EQ(e_own, 0.0);
  }
  // The int8 task's bounds (attention_int8_scores_test): 1e-2, 2e-2 for peaked rows.
  EXPECT_LE(e, s.q_scale > 1.0f ? 2e-2 : 1e-2);
  // The same roundings up to ties that the means' last bits move.
  EXPECT_LE(e_own, 1e-3);
}

TEST(Int8KeyValues, PreparedCallsAreTheInt8Task) {
  if (!int8_key_values_wanted(64)) GTEST_SKIP() << "this CPU does not take the int8 attention task at this level";
  ThreadPool pool(2);
  // Prompts and alignment passes, and decoder steps (1 and 5 rows).
  const Shape shapes[] = {{6, 64, 64, 1500, 1.0f}, {2, 64, 100, 1500, 8.0f}, {3, 32, 70, 101, 1.0f},
                          {4, 16, 65, 9, 1.0f},    {2, 64, 17, 77, 1.0f},    {6, 64, 1, 1500, 1.0f},
                          {6, 64, 5, 1500, 8.0f},  {2, 32, 3, 33, 1.0f}};
  for (const Shape& s : shapes) {
    for (const Keys keys : {Keys::HalvesTransposed, Keys::FloatsTransposed, Keys::FloatRows}) check_prepared(s, keys, pool);
  }
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
  a.ldk = 64;
  a.v_half = kv.h.data();
  a.ldv = 128;
  a.n_kv = 64;
  a.out = out.data();
  a.ldo = 128;
  EXPECT_THROW(prepare_int8_keys_values(nullptr, a, store.set(0)), Error) << "keys must be transposed";
  a.k_transposed = true;
  a.n_kv = 65;
  EXPECT_THROW(prepare_int8_keys_values(nullptr, a, store.set(0)), Error) << "more keys than room";
  a.n_kv = 64;
  if (!has_vnni()) return;
  prepare_int8_keys_values(nullptr, a, store.set(0));
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
