// The decoder's step attention against a naive double loop: f32 and half caches (the naive loop on the
// halves' exact values), rows of several sequences each over its own cache and key count (none, fewer than one block of 8 keys, odd, many), head sizes the SIMD
// kernels take (8, 64, 72: one, eight and nine vectors) and one they leave to the portable loops (12),
// strides wider than the heads, with and without a pool, at every SIMD level this CPU has; keys and
// values split into a shared prefix and the rest; and its refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "model/quant.h"
#include "naive.h"
#include "nn/step_attention.h"
#include "simd_levels.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using npw_test::max_rel_err;
using npw_test::random_vector;

// One head of one row in double precision.
void naive_head(const float* q, const float* k, int ldk, const float* v, int ldv, int n_kv, int d, float* out) {
  if (n_kv == 0) {
    for (int i = 0; i < d; ++i) out[i] = 0.0f;
    return;
  }
  std::vector<double> s(static_cast<std::size_t>(n_kv));
  double mx = -INFINITY;
  for (int j = 0; j < n_kv; ++j) {
    double dot = 0.0;
    for (int i = 0; i < d; ++i) dot += static_cast<double>(q[i]) * k[static_cast<std::size_t>(j) * ldk + i];
    s[j] = dot / std::sqrt(static_cast<double>(d));
    mx = std::max(mx, s[j]);
  }
  double sum = 0.0;
  for (double& x : s) sum += (x = std::exp(x - mx));
  for (int i = 0; i < d; ++i) {
    double o = 0.0;
    for (int j = 0; j < n_kv; ++j) o += s[j] / sum * v[static_cast<std::size_t>(j) * ldv + i];
    out[i] = static_cast<float>(o);
  }
}

// The halves of x, and x replaced by the floats they stand for (what a reference sees).
std::vector<uint16_t> round_to_halves(std::vector<float>& x) {
  std::vector<uint16_t> h(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = fp16_to_fp32(h[i] = fp32_to_fp16(x[i]));
  return h;
}

TEST(StepAttention, MatchesNaiveForEverySequenceAndHead) {
  const int max_kv = 200;
  ThreadPool pool(2);
  npw_test::at_every_level([&] {
    for (int d_head : {8, 12, 64, 72}) {
      for (int variant = 0; variant < 4; ++variant) {
        const bool use_pool = variant & 1, half = variant & 2;
        const int n_head = 3, width = n_head * d_head, ld = width + 5;
        const std::vector<int> n_kvs = {0, 1, 7, 8, 9, 37, 200};
        const int n_rows = static_cast<int>(n_kvs.size());
        // Each row its own sequence: a cache of max_kv rows of keys and values.
        auto k = random_vector(static_cast<std::size_t>(n_rows) * max_kv * ld, 3 + d_head, -2.0f, 2.0f);
        auto v = random_vector(static_cast<std::size_t>(n_rows) * max_kv * ld, 4 + d_head);
        std::vector<uint16_t> kh(k.size()), vh(v.size());
        if (half) {
          kh = round_to_halves(k);
          vh = round_to_halves(v);
        }
        const auto q = random_vector(static_cast<std::size_t>(n_rows) * width, 5 + d_head, -2.0f, 2.0f);
        std::vector<float> out(static_cast<std::size_t>(n_rows) * width, 7.0f), want(out.size());
        std::vector<StepRow> rows(static_cast<std::size_t>(n_rows));
        for (int r = 0; r < n_rows; ++r) {
          const std::size_t cache = static_cast<std::size_t>(r) * max_kv * ld;
          rows[r] = StepRow{q.data() + r * width, k.data() + cache, v.data() + cache, n_kvs[r], out.data() + r * width};
          if (half) {
            rows[r].k = rows[r].v = nullptr;
            rows[r].kh = kh.data() + cache;
            rows[r].vh = vh.data() + cache;
          }
          for (int h = 0; h < n_head; ++h) {
            naive_head(q.data() + r * width + h * d_head, k.data() + cache + h * d_head, ld, v.data() + cache + h * d_head,
                       ld, n_kvs[r], d_head, want.data() + r * width + h * d_head);
          }
        }
        StepAttention att(max_kv, 2);
        att.run(use_pool ? &pool : nullptr, rows.data(), n_rows, n_head, d_head, ld, ld);
        EXPECT_LT(max_rel_err(out.data(), want.data(), out.size()), 2e-6)
            << "d_head " << d_head << " pool " << use_pool << " half " << half;
      }
    }
  });
}

// Keys and values split into a shared prefix (another buffer, as KvCache's prefix slot) and a row's
// own rest give the very bits of the same rows in one run, for every split point (none, one key, inside
// and at the end of a block of 8, every key), f32 and half rows, at every SIMD level; rows sharing one
// prefix and rows with none in one call.
TEST(StepAttention, SharedPrefixSplitChangesNoBit) {
  const int max_kv = 40, n_head = 2, d_head = 64, width = n_head * d_head, ld = width + 3;
  ThreadPool pool(2);
  npw_test::at_every_level([&] {
    for (bool half : {false, true}) {
      for (int n_shared : {0, 1, 7, 8, 13, max_kv}) {
        const int n_rows = 3;
        // Whole caches of each row (the reference), and the same rows cut at n_shared: row 0's
        // first keys in a prefix buffer that rows 0 and 1 read, each row's rest in its own buffer.
        auto k = random_vector(static_cast<std::size_t>(n_rows) * max_kv * ld, 40 + n_shared, -2.0f, 2.0f);
        auto v = random_vector(k.size(), 41 + n_shared);
        const std::size_t per_row = static_cast<std::size_t>(max_kv) * ld;
        for (std::size_t i = 0; i < static_cast<std::size_t>(n_shared) * ld; ++i) {  // rows 0 and 1 share it
          k[per_row + i] = k[i];
          v[per_row + i] = v[i];
        }
        const std::vector<uint16_t> kh = round_to_halves(k), vh = round_to_halves(v);
        std::vector<float> ks(k.begin(), k.begin() + static_cast<long>(n_shared) * ld), vs(v.begin(), v.begin() + static_cast<long>(n_shared) * ld);
        std::vector<uint16_t> ksh(kh.begin(), kh.begin() + static_cast<long>(n_shared) * ld), vsh(vh.begin(), vh.begin() + static_cast<long>(n_shared) * ld);
        const auto q = random_vector(static_cast<std::size_t>(n_rows) * width, 42, -2.0f, 2.0f);
        std::vector<float> whole(static_cast<std::size_t>(n_rows) * width), split(whole.size());
        std::vector<StepRow> a(n_rows), b(n_rows);
        for (int r = 0; r < n_rows; ++r) {
          const std::size_t c = r * per_row;
          a[r] = StepRow{q.data() + r * width, k.data() + c, v.data() + c, max_kv, whole.data() + r * width};
          const std::size_t own = r < 2 ? c + static_cast<std::size_t>(n_shared) * ld : c;
          b[r] = StepRow{q.data() + r * width, k.data() + own, v.data() + own, max_kv, split.data() + r * width};
          if (r < 2) {
            b[r].n_shared = n_shared;
            b[r].ks = ks.data();
            b[r].vs = vs.data();
            b[r].ksh = ksh.data();
            b[r].vsh = vsh.data();
          }
          if (half) {
            a[r].k = a[r].v = b[r].k = b[r].v = nullptr;
            a[r].kh = kh.data() + c;
            a[r].vh = vh.data() + c;
            b[r].kh = kh.data() + own;
            b[r].vh = vh.data() + own;
          }
          if (r < 2 && n_shared > 0) {
            if (half) {
              b[r].ks = b[r].vs = nullptr;
            } else {
              b[r].ksh = b[r].vsh = nullptr;
            }
          }
        }
        StepAttention att(max_kv, 2);
        att.run(&pool, a.data(), n_rows, n_head, d_head, ld, ld);
        att.run(&pool, b.data(), n_rows, n_head, d_head, ld, ld);
        for (std::size_t i = 0; i < whole.size(); ++i) {
          ASSERT_EQ(whole[i], split[i]) << "half " << half << " n_shared " << n_shared << " element " << i;
        }
      }
    }
  });
}

// The same keys and values stored head-major ([head][pos][d_head], KvCache's layout: positions d_head
// apart, heads a stride apart) give the very bits of the row-major layout, f32 and half, with a shared
// prefix (stored the same way) and without, at every SIMD level.
TEST(StepAttention, HeadMajorCacheGivesTheRowMajorBits) {
  const int max_kv = 45, n_head = 3, d_head = 64, width = n_head * d_head;
  const std::size_t hs = static_cast<std::size_t>(max_kv) * d_head + 16;  // a stride past the positions
  ThreadPool pool(2);
  npw_test::at_every_level([&] {
    for (bool half : {false, true}) {
      for (int n_shared : {0, 13}) {
        const int n_rows = 2;
        // Row-major caches per row (rows 0 and 1 share their first n_shared positions)...
        auto k = random_vector(static_cast<std::size_t>(n_rows) * max_kv * width, 60 + n_shared, -2.0f, 2.0f);
        auto v = random_vector(k.size(), 61 + n_shared);
        const std::size_t per_row = static_cast<std::size_t>(max_kv) * width;
        for (std::size_t i = 0; i < static_cast<std::size_t>(n_shared) * width; ++i) {
          k[per_row + i] = k[i];
          v[per_row + i] = v[i];
        }
        const std::vector<uint16_t> kh = round_to_halves(k), vh = round_to_halves(v);
        // ... and the same values head-major: per row a block of n_head strides.
        const std::size_t per_row_hm = n_head * hs;
        std::vector<float> khm(n_rows * per_row_hm, 9.0f), vhm(khm.size(), 9.0f);
        std::vector<uint16_t> khhm(khm.size()), vhhm(khm.size());
        for (int r = 0; r < n_rows; ++r)
          for (int p = 0; p < max_kv; ++p)
            for (int h = 0; h < n_head; ++h)
              for (int i = 0; i < d_head; ++i) {
                const std::size_t from = r * per_row + static_cast<std::size_t>(p) * width + h * d_head + i;
                const std::size_t to = r * per_row_hm + h * hs + static_cast<std::size_t>(p) * d_head + i;
                khm[to] = k[from];
                vhm[to] = v[from];
                khhm[to] = kh[from];
                vhhm[to] = vh[from];
              }
        const auto q = random_vector(static_cast<std::size_t>(n_rows) * width, 62, -2.0f, 2.0f);
        std::vector<float> rm(static_cast<std::size_t>(n_rows) * width), hm(rm.size());
        std::vector<StepRow> a(n_rows), b(n_rows);
        for (int r = 0; r < n_rows; ++r) {
          const std::size_t c = r * per_row, chm = r * per_row_hm;
          a[r] = StepRow{q.data() + r * width, k.data() + c, v.data() + c, max_kv, rm.data() + r * width};
          // Row 1 reads its first n_shared positions from row 0's (the prefix), its own from n_shared on.
          const std::size_t own = r == 1 ? chm + static_cast<std::size_t>(n_shared) * d_head : chm;
          b[r] = StepRow{q.data() + r * width, khm.data() + own, vhm.data() + own, max_kv, hm.data() + r * width};
          if (r == 1 && n_shared > 0) {
            b[r].n_shared = n_shared;
            b[r].ks = khm.data();
            b[r].vs = vhm.data();
            b[r].ksh = khhm.data();
            b[r].vsh = vhhm.data();
          }
          if (half) {
            a[r].k = a[r].v = b[r].k = b[r].v = nullptr;
            a[r].kh = kh.data() + c;
            a[r].vh = vh.data() + c;
            b[r].kh = khhm.data() + own;
            b[r].vh = vhhm.data() + own;
            b[r].ks = b[r].vs = nullptr;
          } else {
            b[r].ksh = b[r].vsh = nullptr;
          }
        }
        StepAttention att(max_kv, 2);
        att.run(&pool, a.data(), n_rows, n_head, d_head, width, width);
        att.run(&pool, b.data(), n_rows, n_head, d_head, d_head, d_head, hs);
        for (std::size_t i = 0; i < rm.size(); ++i) {
          ASSERT_EQ(rm[i], hm[i]) << "half " << half << " n_shared " << n_shared << " element " << i;
        }
      }
    }
  });
}

// Beams after their prompt: many consecutive rows reading one shared prefix (and a row between them
// that reads another, or none), each with its own number of own keys (none, fewer than a block,
// more), are attended together - the prefix's keys and values read once for the group - and every
// row gets the bits it gets attended alone: 1-9 rows (groups of up to eight, kernels of up to five
// rows), head sizes of one, three, eight and nine vectors of 8, f32 and half caches, every SIMD level.
TEST(StepAttention, RowsSharingAPrefixGetTheBitsOfEachRowAlone) {
  const int max_kv = 60, n_head = 2;
  ThreadPool pool(2);
  npw_test::at_every_level([&] {
    for (int d_head : {8, 24, 64, 72}) {
      const int width = n_head * d_head, ld = width + 5;
      for (bool half : {false, true}) {
        for (int n_rows : {1, 2, 3, 5, 6, 9}) {
          for (int n_shared : {1, 7, 33}) {
            const std::size_t own_len = max_kv;
            auto ks = random_vector(static_cast<std::size_t>(n_shared) * ld, 70 + n_shared, -2.0f, 2.0f);
            auto vs = random_vector(ks.size(), 71 + n_shared);
            auto k = random_vector(static_cast<std::size_t>(n_rows) * own_len * ld, 72 + n_rows, -2.0f, 2.0f);
            auto v = random_vector(k.size(), 73 + n_rows);
            const std::vector<uint16_t> ksh = round_to_halves(ks), vsh = round_to_halves(vs), kh = round_to_halves(k),
                                        vh = round_to_halves(v);
            const auto q = random_vector(static_cast<std::size_t>(n_rows) * width, 74 + d_head, -2.0f, 2.0f);
            std::vector<float> together(static_cast<std::size_t>(n_rows) * width, 5.0f), alone(together.size(), 6.0f);
            std::vector<StepRow> rows(static_cast<std::size_t>(n_rows));
            for (int r = 0; r < n_rows; ++r) {
              const std::size_t c = static_cast<std::size_t>(r) * own_len * ld;
              // Own keys: 0, 3, 8, 19, ... so that some rows end inside a block of keys.
              const int n_own = std::min(max_kv - n_shared, (r * 11) % 23 + (r == 0 ? 0 : 3 * (r % 2)));
              StepRow& row = rows[static_cast<std::size_t>(r)];
              row.q = q.data() + static_cast<std::size_t>(r) * width;
              row.n_kv = n_shared + n_own;
              row.out = together.data() + static_cast<std::size_t>(r) * width;
              // Row 4 (in the middle of a group of beams) reads no prefix: its keys are its own.
              const bool shares = r != 4;
              if (!shares) row.n_kv = n_own + 2;
              if (half) {
                row.kh = kh.data() + c;
                row.vh = vh.data() + c;
              } else {
                row.k = k.data() + c;
                row.v = v.data() + c;
              }
              if (shares) {
                row.n_shared = n_shared;
                if (half) {
                  row.ksh = ksh.data();
                  row.vsh = vsh.data();
                } else {
                  row.ks = ks.data();
                  row.vs = vs.data();
                }
              }
            }
            StepAttention att(max_kv, 2);
            att.run(&pool, rows.data(), n_rows, n_head, d_head, ld, ld);
            for (int r = 0; r < n_rows; ++r) {
              StepRow one = rows[static_cast<std::size_t>(r)];
              one.out = alone.data() + static_cast<std::size_t>(r) * width;
              att.run(r % 2 ? &pool : nullptr, &one, 1, n_head, d_head, ld, ld);
            }
            for (std::size_t i = 0; i < together.size(); ++i) {
              ASSERT_EQ(together[i], alone[i]) << "d_head " << d_head << " half " << half << " rows " << n_rows
                                               << " n_shared " << n_shared << " element " << i;
            }
            // And against the double-precision reference, so that equal bits are also right ones.
            for (int r = 0; r < n_rows; ++r) {
              const StepRow& row = rows[static_cast<std::size_t>(r)];
              const int n0 = row.n_shared;
              std::vector<float> kk(static_cast<std::size_t>(row.n_kv) * ld), vv(kk.size());
              for (int j = 0; j < row.n_kv; ++j) {
                for (int i = 0; i < ld; ++i) {
                  const std::size_t at = static_cast<std::size_t>(j) * ld + i;
                  const std::size_t own = static_cast<std::size_t>(r) * own_len * ld + static_cast<std::size_t>(j - n0) * ld + i;
                  kk[at] = j < n0 ? ks[at] : k[own];
                  vv[at] = j < n0 ? vs[at] : v[own];
                }
              }
              for (int h = 0; h < n_head; ++h) {
                std::vector<float> ref(static_cast<std::size_t>(d_head));
                naive_head(row.q + h * d_head, kk.data() + h * d_head, ld, vv.data() + h * d_head, ld, row.n_kv, d_head,
                           ref.data());
                const float* got = together.data() + static_cast<std::size_t>(r) * width + h * d_head;
                EXPECT_LT(max_rel_err(got, ref.data(), d_head), 1e-4) << "row " << r << " head " << h;
              }
            }
          }
        }
      }
    }
  });
}

TEST(StepAttention, RefusesInconsistentCalls) {
  StepAttention att(16, 1);
  std::vector<float> buf(64 * 64, 0.0f);
  StepRow row{buf.data(), buf.data(), buf.data(), 17, buf.data()};
  EXPECT_THROW(att.run(nullptr, &row, 1, 1, 8, 8, 8), Error);  // more keys than the scratch
  row.n_kv = 4;
  EXPECT_THROW(att.run(nullptr, &row, 1, 2, 8, 8, 16), Error);  // key stride below the heads
  EXPECT_THROW(att.run(nullptr, &row, 1, 2, 8, 4, 8, 64), Error);  // head-major: position stride below d_head
  ThreadPool pool(2);
  EXPECT_THROW(att.run(&pool, &row, 1, 1, 8, 8, 8), Error);  // scratch made for one thread
  row.out = nullptr;
  EXPECT_THROW(att.run(nullptr, &row, 1, 1, 8, 8, 8), Error);
  row.out = buf.data();
  std::vector<uint16_t> halves(64 * 64, 0);
  row.kh = row.vh = halves.data();  // f32 and half rows both given
  EXPECT_THROW(att.run(nullptr, &row, 1, 1, 8, 8, 8), Error);
  row.kh = row.vh = nullptr;
  row.n_shared = 2;  // shared keys without their rows
  EXPECT_THROW(att.run(nullptr, &row, 1, 1, 8, 8, 8), Error);
  row.ks = row.vs = buf.data();
  row.n_shared = 5;  // more shared keys than keys
  EXPECT_THROW(att.run(nullptr, &row, 1, 1, 8, 8, 8), Error);
  row.n_shared = 4;
  EXPECT_NO_THROW(att.run(nullptr, &row, 1, 1, 8, 8, 8));
  EXPECT_THROW(StepAttention(0, 1), Error);
}

}  // namespace
}  // namespace npw
