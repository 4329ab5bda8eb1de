// The AMX int8 variant (Sapphire Rapids and later): one tdpbssd multiplies a 16-row x 32-input
// activation tile by a 32 x 16 weight tile (8192 multiply-adds), which takes the integer work off the
// vector ports; what remains there is the per-block scaling of the stored int32 tile. Two tile sets
// alternate between consecutive blocks (tile registers are not renamed) so the tile unit works on block
// b + 1 while the vector ports scale block b. The activations of these rows are signed bytes (tdpbssd),
// so no +128 offset and no compensation are needed. Rows come in groups of 16; leftover rows, and
// products with fewer than 16 rows (decoder steps), go to the AVX-512 VNNI variant, with its own
// activation format (u8 with +128).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // see int8_kernel_avx512.cpp
#include <immintrin.h>

#include "util/amx_tile_config.h"

#include <algorithm>
#include <cstring>

#include "backend/cpu/int8_kernels.h"

#define NPW_AMX __attribute__((target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512vnni,fma")))

namespace npw {

namespace {

constexpr int kTileRows = 16;

// Set s (s = 0, 1) uses tmm[3s] for the int32 sums (16 x 16), tmm[3s + 1] for the activations (16 rows
// x one 32-byte block) and tmm[3s + 2] for the weights (8 rows of 4 inputs x 16 outputs: a record's q).
NPW_AMX void configure_tiles() {
  AmxTileConfig c;
  std::memset(&c, 0, sizeof c);
  c.palette = 1;
  for (int s = 0; s < 2; ++s) {
    c.colsb[3 * s] = kInt8Tile * sizeof(int32_t);
    c.rows[3 * s] = kTileRows;
    c.colsb[3 * s + 1] = kInt8Block;
    c.rows[3 * s + 1] = kTileRows;
    c.colsb[3 * s + 2] = kInt8Tile * kInt8Group;
    c.rows[3 * s + 2] = kInt8Block / kInt8Group;
  }
  _tile_loadconfig(&c);
}

using Sums = int32_t[kTileRows][kInt8Tile];

// Block b's int32 sums for 16 rows (from x, ldq apart) x one record, into `out`, with tile set C/A/B
// (the tile intrinsics take their register numbers as literals, hence a macro).
#define NPW_BLOCK_SUMS(C, A, B)                                     \
  NPW_AMX inline void block_sums_##C(const uint8_t* x, long ldq, const Int8Quants* wq, Sums& out) { \
    _tile_zero(C);                                                  \
    _tile_loadd(A, x, ldq);                                         \
    _tile_loadd(B, wq->q, kInt8Tile * kInt8Group);                  \
    _tile_dpbssd(C, A, B);                                          \
    _tile_stored(C, out, kInt8Tile * sizeof(int32_t));              \
  }
NPW_BLOCK_SUMS(0, 1, 2)
NPW_BLOCK_SUMS(3, 4, 5)
#undef NPW_BLOCK_SUMS

// acc + one row's int32 sums of a block and record (16 outputs) times the record's scales and the
// row's scale for that block: the scaling every tile kernel here applies to its stored sums.
NPW_AMX static inline __attribute__((always_inline)) __m512 add_scaled(__m512 acc, const int32_t* sums, __m512 sw,
                                                                      float xs) {
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(sums)), _mm512_mul_ps(sw, _mm512_set1_ps(xs)), acc);
}

// Writes R rows of tile t's 16 outputs (from row m), plus the bias, masked to the matrix's outputs.
template <int R>
NPW_AMX static inline __attribute__((always_inline)) void store_rows(const Int8Product& p, int m, int t,
                                                                    const __m512* acc, int acc_stride) {
  const int valid = std::min(kInt8Tile, p.w->n_out() - t * kInt8Tile);
  const __mmask16 mask = valid >= kInt8Tile ? __mmask16(0xFFFF) : __mmask16((1u << valid) - 1);
  const bool add_bias = p.bias != nullptr;
  const __m512 bias = add_bias ? _mm512_maskz_loadu_ps(mask, p.bias + t * kInt8Tile) : _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    float* y = p.y + static_cast<std::size_t>(m + r) * p.ldy + (static_cast<std::size_t>(t) * kInt8Tile - p.y_col0);
    const __m512 a = acc[r * acc_stride];
    _mm512_mask_storeu_ps(y, mask, add_bias ? _mm512_add_ps(a, bias) : a);
  }
}

// Rows [m, m + 16) x tile t over every block.
NPW_AMX void tile_rows(const Int8Product& p, int m, int t) {
  const Int8PackedMatrix& w = *p.w;
  const int nb = w.n_blocks();
  const uint8_t* x = p.x.q + static_cast<std::size_t>(m) * p.x.ldq;
  const long ldq = static_cast<long>(p.x.ldq);
  const float* xs = p.x.scale + static_cast<std::size_t>(m) * p.x.lds;
  // Tile t's blocks (the walk formed once: the loop is short, a tile product and 16 scalings a block).
  const Int8TileWalk rec = w.walk(t, 0);
  alignas(64) Sums sums[2];
  __m512 acc[kTileRows];
#pragma GCC unroll 16
  for (int r = 0; r < kTileRows; ++r) acc[r] = _mm512_setzero_ps();

  block_sums_0(x, ldq, rec.quants(0), sums[0]);
  for (int b = 0; b < nb; ++b) {
    if (b + 1 < nb) {
      const uint8_t* xb = x + (b + 1) * kInt8Block;
      if (b & 1) {
        block_sums_0(xb, ldq, rec.quants(b + 1), sums[0]);
      } else {
        block_sums_3(xb, ldq, rec.quants(b + 1), sums[1]);
      }
    }
    const Sums& in = sums[b & 1];
    const __m512 sw = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(rec.scales(b))));
#pragma GCC unroll 16
    for (int r = 0; r < kTileRows; ++r) acc[r] = add_scaled(acc[r], in[r], sw, xs[static_cast<std::size_t>(r) * p.x.lds + b]);
  }
  store_rows<kTileRows>(p, m, t, acc, 1);
}

// Rows of whole 16-row groups from m0 feed tdpbssd as signed bytes; leftover rows, and products of
// fewer than 16 (a decoder step's 1-8 sequences), feed the VNNI variant as u8 + 128. (2-8 rows had a
// tile kernel of their own, one activation tile against three weight tiles, the sums stored and
// scaled on the vector ports: since the VNNI variant spreads a small tile's sums over independent
// chains it is the faster: a decoder step's products (base's, the weights streaming from L3) 11-36 %
// on a Xeon, 5 rows 1.62-1.79 ms on tiles against 1.36-1.44 on VNNI.) gemm_amx() and quantize_amx()
// split [m0, m1) alike.
int amx_rows_end(int m0, int m1) {
  const int n = m1 - m0;
  return m0 + n / kTileRows * kTileRows;
}

NPW_AMX void gemm_amx(const Int8Product& p, int m0, int m1, int t0, int t1) {
  const int m_amx = amx_rows_end(m0, m1);
  if (m_amx > m0) {
    configure_tiles();
    // Rows outer: a group's activations (16 rows x K bytes) stay in L1 while the weight records
    // stream contiguously from L2 (strided activation tile loads from L2 were the bottleneck the other
    // way round).
    for (int m = m0; m < m_amx; m += kTileRows) {
      for (int t = t0; t < t1; ++t) tile_rows(p, m, t);
    }
    _tile_release();
  }
  if (m_amx < m1) kInt8KernelAvx512Vnni.gemm(p, m_amx, m1, t0, t1);
}

void quantize_amx(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1, const Int8Rows& out) {
  const int m_amx = amx_rows_end(m0, m1);
  int8_quantize_rows_avx512(X, ldx, n_in, n_blocks, m0, m_amx, out, false);
  int8_quantize_rows_avx512(X, ldx, n_in, n_blocks, m_amx, m1, out, true);
}

void quantize_gelu_amx(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1, const Int8Rows& out) {
  const int m_amx = amx_rows_end(m0, m1);
  int8_quantize_gelu_rows_avx512(X, ldx, n_in, n_blocks, m0, m_amx, out, false);
  int8_quantize_gelu_rows_avx512(X, ldx, n_in, n_blocks, m_amx, m1, out, true);
}

}  // namespace

const Int8Kernel kInt8KernelAmx = {Int8Isa::Amx, quantize_amx, gemm_amx, quantize_gelu_amx};

}  // namespace npw
