// The AVX-512 VNNI int8 variant, the one the encoder runs on current x86 servers: vpdpbusd does 64
// multiply-adds per instruction, four times the f32 FMA rate. Compiled with target attributes so the
// rest of the build keeps baseline flags; only called after int8_isa_supported() said yes.
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*(), which its flow analysis
// reports as "maybe uninitialized" once inlined into a template; the values are always written first.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <utility>
#include <cstring>

#include "backend/cpu/int8_kernels.h"
#include "util/cpu_features.h"
#include "util/prefetch.h"
#include "util/vec_math_avx512.h"

#define NPW_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,fma")))

namespace npw {

// Blocks are taken 16 at a time: their largest magnitudes side by side in one vector, so the scale
// d = max / 127 and its reciprocal (IEEE divisions, as int8_quantize_block's) are 16 lanes of one
// instruction each; then each block is multiplied by its lane's reciprocal. A 16-block group of a
// row is 2 KiB, still in L1 when its values are read the second time. With kGelu the values are
// GELU(x), made on the first read and kept in a 2 KiB buffer for the second.
template <bool kGelu>
NPW_AVX512 void quantize_rows(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1,
                              const Int8Rows& out, bool offset128) {
  const __m512i lo_q = _mm512_set1_epi32(-127), hi_q = _mm512_set1_epi32(127);
  const __m128i offset = _mm_set1_epi8(static_cast<char>(offset128 ? 0x80 : 0));
  const __m512 v127 = _mm512_set1_ps(127.0f), one = _mm512_set1_ps(1.0f);
  alignas(64) float inv[16];
  alignas(64) float g[kGelu ? 16 * kInt8Block : 1];
  for (int m = m0; m < m1; ++m) {
    const float* x = X + static_cast<std::size_t>(m) * ldx;
    uint8_t* q = out.q + static_cast<std::size_t>(m) * out.ldq;
    float* s = out.scale + static_cast<std::size_t>(m) * out.lds;
    for (int b0 = 0; b0 < n_blocks; b0 += 16) {
      const int nb = std::min(16, n_blocks - b0);
      __m512 amax[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        const int k0 = (b0 + j) * kInt8Block;
        const int n = j < nb ? std::min(kInt8Block, n_in - k0) : 0;
        __m512 lo = _mm512_maskz_loadu_ps(avx512::tail_mask(n), x + k0);
        __m512 hi = _mm512_maskz_loadu_ps(avx512::tail_mask(n - 16), x + k0 + 16);
        if (kGelu) {
          // Lanes past n load as 0, and GELU(0) is 0: the block's padding still quantises to zero.
          lo = avx512::gelu_ps(lo);
          hi = avx512::gelu_ps(hi);
          _mm512_store_ps(g + j * kInt8Block, lo);
          _mm512_store_ps(g + j * kInt8Block + 16, hi);
        }
        amax[j] = _mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi));
      }
      const __m512 d = _mm512_div_ps(avx512::lane_maxima(amax), v127);
      const __mmask16 valid = static_cast<__mmask16>((1u << nb) - 1u);
      _mm512_mask_storeu_ps(s + b0, valid, d);
      _mm512_store_ps(inv, _mm512_maskz_div_ps(_mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_GT_OQ), one, d));
      for (int j = 0; j < nb; ++j) {
        const int k0 = (b0 + j) * kInt8Block;
        const int n = std::min(kInt8Block, n_in - k0);
        const __m512 lo = kGelu ? _mm512_load_ps(g + j * kInt8Block) : _mm512_maskz_loadu_ps(avx512::tail_mask(n), x + k0);
        const __m512 hi =
            kGelu ? _mm512_load_ps(g + j * kInt8Block + 16) : _mm512_maskz_loadu_ps(avx512::tail_mask(n - 16), x + k0 + 16);
        const __m512 id = _mm512_set1_ps(inv[j]);
        // cvtps rounds with the current mode (to nearest even), as nearbyint does in the reference.
        const __m512i ql = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(lo, id)), lo_q), hi_q);
        const __m512i qh = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(hi, id)), lo_q), hi_q);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k0), _mm_xor_si128(_mm512_cvtepi32_epi8(ql), offset));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k0 + 16), _mm_xor_si128(_mm512_cvtepi32_epi8(qh), offset));
      }
    }
  }
}

void int8_quantize_rows_avx512(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1,
                               const Int8Rows& out, bool offset128) {
  quantize_rows<false>(X, ldx, n_in, n_blocks, m0, m1, out, offset128);
}

void int8_quantize_gelu_rows_avx512(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1,
                                    const Int8Rows& out, bool offset128) {
  quantize_rows<true>(X, ldx, n_in, n_blocks, m0, m1, out, offset128);
}

NPW_AVX512 bool int8_row_is_finite_avx512(const float* x, int n) {
  // fpclass 0x99: quiet NaN, signalling NaN, +infinity, -infinity.
  __mmask16 bad = 0;
  int i = 0;
  for (; i + 16 <= n; i += 16) bad |= _mm512_fpclass_ps_mask(_mm512_loadu_ps(x + i), 0x99);
  if (i < n) bad |= _mm512_fpclass_ps_mask(_mm512_maskz_loadu_ps(avx512::tail_mask(n - i), x + i), 0x99);
  return bad == 0;
}

namespace {

// Register tile: kRows rows x kCols 16-wide output vectors = 12 int32 + 12 f32 accumulators, 3 weight
// vectors and a broadcast: 28 of the 32 zmm registers.
constexpr int kRows = 4;
constexpr int kCols = 3;

void quantize_avx512(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1, const Int8Rows& out) {
  int8_quantize_rows_avx512(X, ldx, n_in, n_blocks, m0, m1, out, true);
}

void quantize_gelu_avx512(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1, const Int8Rows& out) {
  int8_quantize_gelu_rows_avx512(X, ldx, n_in, n_blocks, m0, m1, out, true);
}

inline uint32_t load4(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Independent int32 sums a block's groups are spread over for an R x C tile: each vpdpbusd waits for
// the one before it on the same sum (5 cycles on Intel and AMD), so a tile of fewer than ~10 sums ran
// at its latency, not at the two vector ports' rate: a 5-beam step's 5 x 1 tiles at about one
// vpdpbusd a cycle. Integer sums: any grouping gives the same bits.
template <int R, int C>
constexpr int kSumSets = R * C >= 10 ? 1 : R * C >= 5 ? 2 : 4;

// ia[r][c] += the block's int32 sums of row r's quads times tile c's record (the inner loop of
// both tile forms), its groups spread over kSumSets<R, C> sets of sums added together at the end.
template <int R, int C>
NPW_AVX512 static inline __attribute__((always_inline)) void block_sums(__m512i (&ia)[R][C], const Int8TileWalk (&rec)[C],
                                                                       const uint8_t* const (&xq)[R], int b) {
  constexpr int S = kSumSets<R, C>;
  static_assert((kInt8Block / kInt8Group) % S == 0, "each set takes the same number of groups");
  __m512i part[S][R][C];
#pragma GCC unroll 4
  for (int k = 1; k < S; ++k)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) part[k][r][c] = _mm512_setzero_si512();
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) part[0][r][c] = ia[r][c];
#pragma GCC unroll 8
  for (int g = 0; g < kInt8Block / kInt8Group; ++g) {
    __m512i wv[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) wv[c] = _mm512_load_si512(rec[c].quants(0)->q[g]);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512i xb = _mm512_set1_epi32(static_cast<int>(load4(xq[r] + b * kInt8Block + g * kInt8Group)));
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) part[g % S][r][c] = _mm512_dpbusd_epi32(part[g % S][r][c], xb, wv[c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      __m512i sum = part[0][r][c];
#pragma GCC unroll 4
      for (int k = 1; k < S; ++k) sum = _mm512_add_epi32(sum, part[k][r][c]);
      ia[r][c] = sum;
    }
}

// A record's compensation, -128 x each output's sum of quants over the block, made from its quants:
// 128 times every quant is one vpdpbusd a group (the unsigned operand all 128s), two sums kept so
// that each chain is four deep.
NPW_AVX512 static inline __attribute__((always_inline)) __m512i block_comp(const Int8Quants* wq) {
  const __m512i k128 = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
#pragma GCC unroll 8
  for (int g = 0; g < kInt8Block / kInt8Group; g += 2) {
    s0 = _mm512_dpbusd_epi32(s0, k128, _mm512_load_si512(wq->q[g]));
    s1 = _mm512_dpbusd_epi32(s1, k128, _mm512_load_si512(wq->q[g + 1]));
  }
  return _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_add_epi32(s0, s1));
}

// Tile walk's records `ahead` blocks on asked for into the L2: quants and scales, two streams.
NPW_AVX512 static inline __attribute__((always_inline)) void prefetch_records(const Int8TileWalk& w, int ahead) {
#pragma GCC unroll 8
  for (std::size_t l = 0; l < sizeof(Int8Quants); l += 64) {
    prefetch_bytes_past<PrefetchTo::L2>(w.q, static_cast<std::size_t>(ahead) * sizeof(Int8Quants) + l);
  }
  prefetch_bytes_past<PrefetchTo::L2>(w.scale, static_cast<std::size_t>(ahead) * kInt8ScalesBytes);
}

// What both tile forms hold for rows [m, m + R) x tiles t, t + dt, ..., t + (C - 1) dt: the tiles'
// output masks and blocks from block b0, the rows' outputs, quants and block scales.
template <int R, int C>
struct TileRows {
  __mmask16 mask[C];
  Int8TileWalk rec[C];
  float* y[R];
  const uint8_t* xq[R];
  const float* xs[R];
  const Int8Product& p;
  int t, dt;

  NPW_AVX512 __attribute__((always_inline)) TileRows(const Int8Product& prod, int m, int t0, int step, int b0)
      : p(prod), t(t0), dt(step) {
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const int valid = std::min(kInt8Tile, p.w->n_out() - (t + c * dt) * kInt8Tile);
      mask[c] = valid >= kInt8Tile ? __mmask16(0xFFFF) : __mmask16((1u << valid) - 1);
      rec[c] = p.w->walk(t + c * dt, b0);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      y[r] = p.y + static_cast<std::size_t>(m + r) * p.ldy + (static_cast<std::size_t>(t) * kInt8Tile - p.y_col0);
      xq[r] = p.x.q + static_cast<std::size_t>(m + r) * p.x.ldq;
      xs[r] = p.x.scale + static_cast<std::size_t>(m + r) * p.x.lds;
    }
  }

  // Tile c's int32 block sums in f32, times the weight scales sw and each row's block scale, into
  // acc; then tile c's records move on to the next block.
  NPW_AVX512 __attribute__((always_inline)) void scale_into(__m512 (&acc)[R][C], const __m512i (&ia)[R][C], int c,
                                                            int b, __m512 sw) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 scale = _mm512_mul_ps(sw, _mm512_set1_ps(xs[r][b]));
      acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[r][c]), scale, acc[r][c]);
    }
    rec[c].next();
  }

  // acc (plus bias, where not null) into the outputs.
  NPW_AVX512 __attribute__((always_inline)) void store(const __m512 (&acc)[R][C], const float* bias) {
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const __m512 bv = bias ? _mm512_maskz_loadu_ps(mask[c], bias + (t + c * dt) * kInt8Tile) : _mm512_setzero_ps();
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 o = bias ? _mm512_add_ps(acc[r][c], bv) : acc[r][c];
        _mm512_mask_storeu_ps(y[r] + static_cast<std::size_t>(c) * dt * kInt8Tile, mask[c], o);
      }
    }
  }
};

// Records ahead of the one being multiplied that a few-row product asks the L2 for (10 KiB per run).
constexpr int kStreamAhead = 16;

// Few rows (a decoder step): rows [m, m + R) x tiles t, t + dt, ..., t + (C - 1) dt over every block.
// Each record is read from memory once, and the rows' arithmetic leaves the core waiting on it
// unless the records come in time; the C tiles lie in C distant runs of the output range (see
// few_rows) and each run's records kStreamAhead ahead are asked for into the L2.
template <int R, int C>
NPW_AVX512 void tile(const Int8Product& p, int m, int t, int dt) {
  TileRows<R, C> v(p, m, t, dt, 0);
  const Int8PackedMatrix& w = *p.w;
  __m512 acc[R][C];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  }

  for (int b = 0; b < w.n_blocks(); ++b) {
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) prefetch_records(v.rec[c], kStreamAhead);
    __m512i ia[R][C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      // -128 x the block's sum of quants.
      const __m512i comp = block_comp(v.rec[c].quants(0));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) ia[r][c] = comp;
    }
    block_sums<R, C>(ia, v.rec, v.xq, b);
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      v.scale_into(acc, ia, c, b, _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(v.rec[c].scales(0)))));
    }
  }

  v.store(acc, p.bias);
}

using TileFn = void (*)(const Int8Product&, int, int, int);

template <int... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::integer_sequence<int, I...>) {
  return {tile<I / kCols + 1, I % kCols + 1>...};
}
// kTiles[(r - 1) * kCols + (c - 1)] handles r rows x c tiles.
constexpr std::array<TileFn, kRows * kCols> kTiles = make_tiles(std::make_integer_sequence<int, kRows * kCols>());

// Up to this many rows a product reads each weight record from memory once per row group: a
// decoder step (one token, beams, samples).
constexpr int kStreamRows = 8;

// Few rows: a thread's tiles [t0, t1) cut into C runs of equal length; step i multiplies tile i of
// every run (fn(t, dt, c): c tiles t, t + dt, ...), so the weights are read as C streams far apart.
// Read as C adjacent tiles, the records came at 60-65 % of the rate (Zen 4, 2 threads, base's
// 51865 x 512 logits matrix: 5 rows 0.85-0.90 -> 0.49-0.59 ms, one row 0.56 -> 0.37-0.40 with the L2
// prefetch), as the f32 skinny products measured. Counts other than 5 and 6 take three runs, in row
// groups of up to 4 that follow one another over the same records.
template <int C, typename Fn>
void over_runs(int t0, int t1, Fn&& fn) {
  const int run = (t1 - t0) / C;
  for (int i = 0; i < run; ++i) fn(t0 + i, run, C);
  for (int t = t0 + C * run; t < t1; ++t) fn(t, 1, 1);
}

// 5 or 6 rows (OpenAI's default 5 beams, or 5 samples) in C runs, a tile of each at a time. A 5-row
// tile's arithmetic (40 vpdpbusd and 22 conversions and scalings a record) is a third of the time its
// record takes to come from the L3, but on a Xeon it did not hide behind one stream: a 512 x 512
// product with 5 rows cost the one-row product plus all of its arithmetic (2 threads, 200 matrices
// cycled through the L3: 6.3 -> 7.9 us; L2-resident 2.5 -> 4.8). Two streams, each run's records
// asked for by the L2's own prefetcher, took it to 7.35 us (2048 x 512: 26.5 -> 24.0 us) and a base
// decoder's 5-beam step 2-3.5 % faster, the same bits. On a Zen 4 one run had measured faster than two
// (a 5-beam step 3.5 % for tiny q8_0, 6 % for base q8_0, 16 pairs of 16), so AMD keeps one. 6 rows
// measured the same either way on the Xeon (7.8 us) and keep one run everywhere.
template <int R, int C>
void beam_runs(const Int8Product& p, int m, int t0, int t1) {
  over_runs<C>(t0, t1, [&](int t, int dt, int c) {
    if (c == C) {
      tile<R, C>(p, m, t, dt);
    } else {
      tile<R, 1>(p, m, t, dt);
    }
  });
}

std::atomic<int> g_beam_streams{0};

int beam_streams() {
  const int forced = g_beam_streams.load(std::memory_order_relaxed);
  return forced > 0 ? forced : cpu_vendor_is_amd() ? 1 : 2;
}

void beams(const Int8Product& p, int m0, int m1, int t0, int t1) {
  if (m1 - m0 == 5) {
    return beam_streams() == 2 ? beam_runs<5, 2>(p, m0, t0, t1) : beam_runs<5, 1>(p, m0, t0, t1);
  }
  beam_runs<6, 1>(p, m0, t0, t1);
}

void few_rows(const Int8Product& p, int m0, int m1, int t0, int t1) {
  over_runs<kCols>(t0, t1, [&](int t, int dt, int c) {
    for (int m = m0; m < m1; m += kRows) kTiles[(std::min(kRows, m1 - m) - 1) * kCols + (c - 1)](p, m, t, dt);
  });
}

// Many rows (the encoder): a panel's block widened once for all the row groups that pass over it,
// the compensation as int32 (-128 x the block's sums of quants, made from the quants: 8 vpdpbusd
// once per panel block, against 8 x rows of the product) and the weight scales as f32. Widened
// per row group, as the few-row tile does, its 3 x 3 instructions a block ran on the two vector ports
// beside the 96 vpdpbusd and 36 conversions and scalings: a 256 x 1536 x 384 product on one core
// (Xeon, alternated, 300-400 runs each) 553-570 -> 632-636 GOP/s at the minimum, 508-523 -> 535-550
// at the median in a noisier sitting; within the whole encoder, below the host's noise.
struct alignas(64) BlockPrep {
  int32_t comp[kInt8Tile];
  float scale[kInt8Tile];
};
// Blocks widened at a time (a K of 2048; 3 tiles' worth is 24 KiB of the stack).
constexpr int kPrepBlocks = 64;

NPW_AVX512 void prepare_panel(const Int8PackedMatrix& w, int t, int c, int b0, int b1, BlockPrep* prep) {
  for (int j = 0; j < c; ++j) {
    Int8TileWalk rec = w.walk(t + j, b0);
    BlockPrep* out = prep + j * kPrepBlocks;
    for (int b = b0; b < b1; ++b, rec.next(), ++out) {
      _mm512_store_si512(out->comp, block_comp(rec.quants(0)));
      _mm512_store_ps(out->scale, _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(rec.scales(0)))));
    }
  }
}

// Rows [m, m + R) x tiles t .. t + C - 1 over blocks [b0, b1), the blocks' compensations and scales
// read from `prep`. The weight records stream from L2, each panel reused by every row group (cutting
// K into L1-sized chunks measured slower: the partial sums' round trips through Y cost more than the
// hardware prefetcher loses); a K longer than kPrepBlocks blocks is cut, its partial sums waiting in
// Y (exact: the f32 additions run in the same order).
template <int R, int C>
NPW_AVX512 void panel_tile(const Int8Product& p, int m, int t, const BlockPrep* prep, int b0, int b1, bool first,
                           bool last) {
  TileRows<R, C> v(p, m, t, 1, b0);
  __m512 acc[R][C];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) acc[r][c] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(v.mask[c], v.y[r] + c * kInt8Tile);
  }

  for (int b = b0; b < b1; ++b) {
    const BlockPrep* bp = prep + (b - b0);
    __m512i ia[R][C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        ia[r][c] = _mm512_load_si512(bp[c * kPrepBlocks].comp);
      }
    }
    block_sums<R, C>(ia, v.rec, v.xq, b);
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) v.scale_into(acc, ia, c, b, _mm512_load_ps(bp[c * kPrepBlocks].scale));
  }

  v.store(acc, last ? p.bias : nullptr);
}

using PanelFn = void (*)(const Int8Product&, int, int, const BlockPrep*, int, int, bool, bool);
template <int... I>
constexpr std::array<PanelFn, sizeof...(I)> make_panel_tiles(std::integer_sequence<int, I...>) {
  return {panel_tile<I / kCols + 1, I % kCols + 1>...};
}
// kPanelTiles[(r - 1) * kCols + (c - 1)] handles r rows x c tiles.
constexpr std::array<PanelFn, kRows * kCols> kPanelTiles =
    make_panel_tiles(std::make_integer_sequence<int, kRows * kCols>());

// Many rows: panels of 3 tiles outer, rows inner; a panel's blocks (3 x 544 B each) stay in L2 while
// every row group of this thread passes over them.
void gemm_avx512(const Int8Product& p, int m0, int m1, int t0, int t1) {
  if (m1 - m0 == 5 || m1 - m0 == 6) return beams(p, m0, m1, t0, t1);
  if (m1 - m0 <= kStreamRows) return few_rows(p, m0, m1, t0, t1);
  alignas(64) BlockPrep prep[kCols * kPrepBlocks];
  const int nb = p.w->n_blocks();
  for (int t = t0; t < t1; t += kCols) {
    const int c = std::min(kCols, t1 - t);
    for (int b0 = 0; b0 < nb; b0 += kPrepBlocks) {
      const int b1 = std::min(nb, b0 + kPrepBlocks);
      prepare_panel(*p.w, t, c, b0, b1, prep);
      for (int m = m0; m < m1; m += kRows) {
        const int r = std::min(kRows, m1 - m);
        kPanelTiles[(r - 1) * kCols + (c - 1)](p, m, t, prep, b0, b1, b0 == 0, b1 == nb);
      }
    }
  }
}

}  // namespace

void int8_set_beam_streams(int streams) { g_beam_streams.store(streams == 1 || streams == 2 ? streams : 0); }

const Int8Kernel kInt8KernelAvx512Vnni = {Int8Isa::Avx512Vnni, quantize_avx512, gemm_avx512, quantize_gelu_avx512};

}  // namespace npw
