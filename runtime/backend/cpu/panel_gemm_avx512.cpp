// The AVX-512 product over panel-packed weights (panel_gemm.h). A micro-tile is 14 activation rows by
// one 32-column panel: 28 accumulators, two weight vectors per step of the input dimension, and each
// activation broadcast straight from memory into its two multiply-adds. Blocking: the input dimension
// in slices of at most 256 (a panel's slice, 32 KiB, stays in L1 while every row group of the block
// runs against it), rows in blocks of 24 tiles whose activations are copied once per slice into
// tile order (a block's copy, 336 KiB at most, stays in L2 while it meets every panel).
#include "backend/cpu/panel_gemm.h"
#include "backend/cpu/panel_rows_prefetch.h"

#include <algorithm>
#include <cstdint>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "util/vec_math_avx512.h"
#include "util/aligned_buffer.h"
#include "util/simd_target.h"
#include "util/transpose_avx512.h"

namespace npw {

namespace {

constexpr int kMr = kPanelRowGroup;
static_assert(kMr <= 16, "a tile's rows are the lanes of one 16 x 16 transpose");
constexpr int kSliceMax = 256;    // input-dimension slice
constexpr int kTilesPerBlock = 24;

// rows of X [r0, r0 + rows) x [k0, k0 + kc) into tile order: tile t holds, for each k, its 14 rows'
// values side by side; rows past `rows` are zero. 16 columns at a time through a register
// transpose (element by element, this copy took 4 % of the encoder's time; this way, 1.4 %).
NPW_TARGET_AVX512 static void pack_rows(const float* X, std::size_t ldx, int r0, int rows, int k0, int kc, float* dst) {
  const int tiles = (rows + kMr - 1) / kMr;
  constexpr __mmask16 kTileLanes = (1u << kMr) - 1u;
  for (int t = 0; t < tiles; ++t) {
    float* d = dst + static_cast<std::size_t>(t) * kc * kMr;
    const int nr = std::min(kMr, rows - t * kMr);
    const float* x = X + static_cast<std::size_t>(r0 + t * kMr) * ldx + k0;
    for (int k = 0; k < kc; k += 16) {
      const __mmask16 km = avx512::tail_mask(kc - k);
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) {
        r[i] = i < nr ? _mm512_maskz_loadu_ps(km, x + static_cast<std::size_t>(i) * ldx + k) : _mm512_setzero_ps();
      }
      avx512::transpose16(r);
      const int nk = std::min(16, kc - k);
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        if (j < nk) _mm512_mask_storeu_ps(d + static_cast<std::size_t>(k + j) * kMr, kTileLanes, r[j]);
      }
    }
  }
}

// One tile: C (rows x up to 32, masks m0 / m1 for the two halves) = [C +] A-tile . panel-slice
// [+ bias]. kFirst: the first slice (C not read); kLast: the last (bias added). The products of the
// first R rows of the A-tile (rows <= R): a product's last tile of a few rows (100 rows: 7 x 14 + 2)
// costs its rows, not a whole tile's. Each row's sums are formed alike whatever R.
template <bool kFirst, bool kLast, int R = kMr>
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) void tile(int kc, const float* __restrict a,
                                                                        const float* __restrict b, float* c,
                                                                        std::size_t ldc, int rows, __mmask16 m0,
                                                                        __mmask16 m1, const float* bias) {
  static_assert(R >= 1 && R <= kMr, "a tile has 1 to kMr rows");
  __m512 c0[R], c1[R];
#pragma GCC unroll 14
  for (int i = 0; i < R; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b + k * kPanelCols), b1 = _mm512_load_ps(b + k * kPanelCols + 16);
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) {
      const __m512 x = _mm512_set1_ps(a[k * kMr + i]);
      c0[i] = _mm512_fmadd_ps(x, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(x, b1, c1[i]);
    }
  }
  __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
  if (kLast && bias) {
    bias0 = _mm512_maskz_loadu_ps(m0, bias);
    bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
  }
#pragma GCC unroll 14
  for (int i = 0; i < R; ++i) {
    if (i >= rows) break;
    float* y = c + static_cast<std::size_t>(i) * ldc;
    __m512 v0 = c0[i], v1 = c1[i];
    if (!kFirst) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, y));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, y + 16));
    }
    if (kLast) {
      v0 = _mm512_add_ps(v0, bias0);
      v1 = _mm512_add_ps(v1, bias1);
    }
    _mm512_mask_storeu_ps(y, m0, v0);
    _mm512_mask_storeu_ps(y + 16, m1, v1);
  }
}

// tile() for a tile of `rows` rows: whole tiles at full height, a short last tile at the next even
// height (seven heights, not fourteen, of unrolled code).
template <bool kFirst, bool kLast>
NPW_TARGET_AVX512 static inline void tile_of(int kc, const float* __restrict a, const float* __restrict b, float* c,
                                             std::size_t ldc, int rows, __mmask16 m0, __mmask16 m1,
                                             const float* bias) {
  static_assert(kMr == 14, "the heights below are those of a 14-row tile");
  switch ((rows + 1) / 2) {
    case 1: tile<kFirst, kLast, 2>(kc, a, b, c, ldc, rows, m0, m1, bias); break;
    case 2: tile<kFirst, kLast, 4>(kc, a, b, c, ldc, rows, m0, m1, bias); break;
    case 3: tile<kFirst, kLast, 6>(kc, a, b, c, ldc, rows, m0, m1, bias); break;
    case 4: tile<kFirst, kLast, 8>(kc, a, b, c, ldc, rows, m0, m1, bias); break;
    case 5: tile<kFirst, kLast, 10>(kc, a, b, c, ldc, rows, m0, m1, bias); break;
    case 6: tile<kFirst, kLast, 12>(kc, a, b, c, ldc, rows, m0, m1, bias); break;
    default: tile<kFirst, kLast, 14>(kc, a, b, c, ldc, rows, m0, m1, bias); break;
  }
}

}  // namespace

// Inputs [k0, k0 + kc) of panel p as f32: f32 panels are read in place; halves and q8_0 quants are
// widened into buf (once per block of rows, for all of that block's tiles).
NPW_TARGET_AVX512 static inline const float* panel_slice(const float* panels, std::size_t ui, int p, int k0, int, int,
                                                         float*) {
  return panels + (static_cast<std::size_t>(p) * ui + static_cast<std::size_t>(k0)) * kPanelCols;
}

NPW_TARGET_AVX512 static inline const float* panel_slice(const uint16_t* panels, std::size_t ui, int p, int k0, int kc,
                                                         int, float* buf) {
  const uint16_t* src = panels + (static_cast<std::size_t>(p) * ui + static_cast<std::size_t>(k0)) * kPanelCols;
  for (int i = 0; i < kc * kPanelCols; i += 16) {
    _mm512_store_ps(buf + i, _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(src + i))));
  }
  return buf;
}

// Quant times its block's scale in f32, as dequantize_row() forms each weight: the same floats as
// f32 panels of the dequantised matrix, so the same products.
NPW_TARGET_AVX512 static inline const float* panel_slice(const Q8Panels& panels, std::size_t ui, int p, int k0, int kc,
                                                         int, float* buf) {
  const std::size_t first = static_cast<std::size_t>(p) * ui + static_cast<std::size_t>(k0);
  const int8_t* q = panels.q + first * kPanelCols;
  const uint16_t* d = panels.d + static_cast<std::size_t>(p) * (ui / kQ8PanelBlock) * kPanelCols;
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    if (k == 0 || (k0 + k) % kQ8PanelBlock == 0) {  // the block's 32 scales, widened once
      const uint16_t* dk = d + static_cast<std::size_t>((k0 + k) / kQ8PanelBlock) * kPanelCols;
      s0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dk)));
      s1 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dk + 16)));
    }
    const __m512i q0 = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + k * kPanelCols)));
    const __m512i q1 = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + k * kPanelCols + 16)));
    _mm512_store_ps(buf + k * kPanelCols, _mm512_mul_ps(_mm512_cvtepi32_ps(q0), s0));
    _mm512_store_ps(buf + k * kPanelCols + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(q1), s1));
  }
  return buf;
}

// Weights kept in rows: a panel's 32 columns are 32 rows, so each group of 16 is read 16 inputs at a
// time (load(i, k, mask): row i of the group, inputs k0 + k on, as f32) and turned into panel order
// by the register transpose; columns past n_out are zero.
// (Inputs from k_first on: the halves' gather below leaves its tail here.)
template <typename Load>
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) void gather_rows(int kc, int n_cols, Load load,
                                                                               float* buf, int k_first = 0) {
  for (int half = 0; half < 2; ++half) {
    const int nc = std::min(16, n_cols - 16 * half);
    float* dst = buf + 16 * half;
    for (int k = k_first; k < kc; k += 16) {
      const __mmask16 km = avx512::tail_mask(kc - k);
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) r[i] = i < nc ? load(16 * half + i, k, km) : _mm512_setzero_ps();
      avx512::transpose16(r);
      const int nk = std::min(16, kc - k);
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        if (j < nk) _mm512_store_ps(dst + static_cast<std::size_t>(k + j) * kPanelCols, r[j]);
      }
    }
  }
}

// Row i of a group of 16 rows, inputs [k, k + 16) under mask m, as f32, for each row storage.
struct FloatRowLoader {
  const float* w;  // the group's first row at input k0
  std::size_t ui;
  NPW_TARGET_AVX512 inline __attribute__((always_inline)) __m512 operator()(int i, int k, __mmask16 m) const {
    return _mm512_maskz_loadu_ps(m, w + static_cast<std::size_t>(i) * ui + k);
  }
};

struct HalfRowLoader {
  const uint16_t* w;
  std::size_t ui;
  NPW_TARGET_AVX512 inline __attribute__((always_inline)) __m512 operator()(int i, int k, __mmask16 m) const {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + static_cast<std::size_t>(i) * ui + k));
  }
};

// The half h widened, in every lane.
NPW_TARGET_AVX512 static inline __m512 half_splat(uint16_t h) {
  return _mm512_cvtph_ps(_mm256_set1_epi16(static_cast<short>(h)));
}

// The halves src[at[l]] widened, for the lanes of `live` (zero elsewhere): read as 32-bit elements at
// 2-byte steps (the storage keeps one half past its end for the last), then narrowed to their low half.
NPW_TARGET_AVX512 static inline __m512 gather_halves(__mmask16 live, __m512i at, const uint16_t* src) {
  const __m512i words = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, at, src, 2);
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(words));
}

// Quant times its block's scale, as dequantize_row() forms it; 16 inputs may straddle two blocks.
struct Q8RowLoader {
  const Q8Weights& rows;
  std::size_t ui;
  std::size_t o0;  // the group's first row
  int k0;
  NPW_TARGET_AVX512 inline __attribute__((always_inline)) __m512 operator()(int i, int k, __mmask16 m) const {
    const std::size_t o = o0 + static_cast<std::size_t>(i), pos = static_cast<std::size_t>(k0 + k);
    const std::size_t b = pos / kQ8Block;
    const int boundary = static_cast<int>((b + 1) * kQ8Block - pos);  // lanes still in block b
    const std::size_t at = o * (ui / kQ8Block) + b;
    const uint16_t* d = rows.d + at;
    // Lanes past the boundary exist only when block b + 1 does.
    const bool straddles = boundary < 16 && ((m >> boundary) & 1u);
    __m512 scale = half_splat(d[0]);
    if (straddles) scale = _mm512_mask_blend_ps(avx512::tail_mask(boundary), half_splat(d[1]), scale);
    const __m512i q = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, rows.q + o * ui + pos));
    if (!rows.m) return _mm512_mul_ps(_mm512_cvtepi32_ps(q), scale);
    // q5_1 / q4_1: quant x scale + the block's offset in one FMA (the product is exact, see Q8Weights).
    __m512 offset = half_splat(rows.m[at]);
    if (straddles) offset = _mm512_mask_blend_ps(avx512::tail_mask(boundary), half_splat(rows.m[at + 1]), offset);
    return _mm512_maskz_fmadd_ps(m, _mm512_cvtepi32_ps(q), scale, offset);
  }
};

NPW_TARGET_AVX512 static inline const float* panel_slice(const FloatRows& rows, std::size_t ui, int p, int k0, int kc,
                                                         int n_out, float* buf) {
  const float* w = rows.w + static_cast<std::size_t>(p) * kPanelCols * ui + static_cast<std::size_t>(k0);
  gather_rows(kc, n_out - p * kPanelCols, FloatRowLoader{w, ui}, buf);
  return buf;
}

// 64 bytes at byte `at` of rows [row0, row0 + nc) of `base` (rows row_bytes apart; rows from nc on read
// as zeros, and not addressed), transposed as 32-bit elements: r[l] holds each row's l-th 4 bytes.
// The narrow gathers below widen from there.
NPW_TARGET_AVX512 static inline __attribute__((always_inline)) void load_transposed(const void* base,
                                                                                   std::size_t row_bytes, int row0,
                                                                                   int nc, std::size_t at,
                                                                                   __m512 r[16]) {
  const char* b = static_cast<const char*>(base);
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    r[i] = i < nc ? _mm512_castsi512_ps(
                        _mm512_loadu_si512(b + static_cast<std::size_t>(row0 + i) * row_bytes + at))
                  : _mm512_setzero_ps();
  }
  avx512::transpose16(r);
}

// Halves are transposed before they are widened: 32 inputs of 16 rows are 16 registers of input pairs,
// transposed as 32-bit elements (one register per pair, its lanes the rows); a word permutation then
// puts the pair's first input of the 16 rows in the low half and its second in the high half, each
// widened by one conversion. Per 512 weights that is 16 loads and 96 shuffles where widening first
// and transposing floats takes 32 and 128: the gather was a fifth of the word-timing pass's
// vocabulary product. The same floats either way (F16C's widening), so the same products.
NPW_TARGET_AVX512 static inline void gather_half_rows(int kc, int n_cols, const uint16_t* w, std::size_t ui,
                                                      float* buf) {
  alignas(64) static constexpr uint16_t kSplit[32] = {0,  2,  4,  6,  8,  10, 12, 14, 16, 18, 20,
                                                      22, 24, 26, 28, 30, 1,  3,  5,  7,  9,  11,
                                                      13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
  const __m512i split = _mm512_load_si512(kSplit);
  const int k_pairs = kc / 32 * 32;
  for (int half = 0; half < 2; ++half) {
    const int nc = std::min(16, n_cols - 16 * half);
    float* dst = buf + 16 * half;
    for (int k = 0; k < k_pairs; k += 32) {
      __m512 r[16];
      load_transposed(w, ui * sizeof(uint16_t), 16 * half, nc, static_cast<std::size_t>(k) * sizeof(uint16_t), r);
#pragma GCC unroll 16
      for (int l = 0; l < 16; ++l) {
        const __m512i two = _mm512_permutexvar_epi16(split, _mm512_castps_si512(r[l]));
        _mm512_store_ps(dst + static_cast<std::size_t>(k + 2 * l) * kPanelCols, _mm512_cvtph_ps(_mm512_castsi512_si256(two)));
        _mm512_store_ps(dst + static_cast<std::size_t>(k + 2 * l + 1) * kPanelCols,
                        _mm512_cvtph_ps(_mm512_extracti64x4_epi64(two, 1)));
      }
    }
  }
  if (k_pairs < kc) gather_rows(kc, n_cols, HalfRowLoader{w, ui}, buf, k_pairs);
}

// Columns of a row-major B: 32 consecutive floats of each of its rows; columns past n_out are zero
// and not read.
NPW_TARGET_AVX512 static inline const float* panel_slice(const FloatColumns& cols, std::size_t, int p, int k0, int kc,
                                                         int n_out, float* buf) {
  const int n_cols = n_out - p * kPanelCols;
  const __mmask16 m0 = avx512::tail_mask(n_cols), m1 = avx512::tail_mask(n_cols - 16);
  const float* b = cols.b + static_cast<std::size_t>(k0) * cols.ldb + static_cast<std::size_t>(p) * kPanelCols;
  for (int k = 0; k < kc; ++k) {
    const float* row = b + static_cast<std::size_t>(k) * cols.ldb;
    _mm512_store_ps(buf + k * kPanelCols, _mm512_maskz_loadu_ps(m0, row));
    _mm512_store_ps(buf + k * kPanelCols + 16, _mm512_maskz_loadu_ps(m1, row + 16));
  }
  return buf;
}

NPW_TARGET_AVX512 static inline const float* panel_slice(const HalfRows& rows, std::size_t ui, int p, int k0, int kc,
                                                         int n_out, float* buf) {
  const uint16_t* w = rows.w + static_cast<std::size_t>(p) * kPanelCols * ui + static_cast<std::size_t>(k0);
  gather_half_rows(kc, n_out - p * kPanelCols, w, ui, buf);
  return buf;
}

// Quants are transposed before they are widened too, four inputs to a 32-bit lane: 64 inputs of 16 rows
// are 16 registers, one transpose puts a quad of inputs of the 16 rows in each, and shifts (not
// shuffles) take each input's byte out, sign-extended, for the conversion and the block's scale (and
// offset: q5_1, q4_1), gathered for the 16 rows once per block. 16 loads and 64 shuffles per 1024
// weights where widening first took 64 loads and 320 shuffles. A quad never straddles a block when
// the slice starts at a multiple of 4 (every Whisper width: slices of 192 or 256); otherwise, and for
// a slice's last inputs short of 64, the widening-first gather. The same operations per weight as
// Q8RowLoader's, so the same floats.
NPW_TARGET_AVX512 static inline void gather_q8_rows(const Q8Weights& rows, std::size_t ui, std::size_t o0, int k0,
                                                    int kc, int n_cols, float* buf) {
  const int k_quads = k0 % 4 == 0 ? kc / 64 * 64 : 0;
  const std::size_t nb = ui / kQ8Block;
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int half = 0; half < 2 && k_quads > 0; ++half) {
    const int nc = std::min(16, n_cols - 16 * half);
    float* dst = buf + 16 * half;
    if (nc <= 0) {  // a panel's second half past the matrix: zero columns
      for (int k = 0; k < k_quads; ++k) _mm512_store_ps(dst + static_cast<std::size_t>(k) * kPanelCols, _mm512_setzero_ps());
      continue;
    }
    const __mmask16 live = avx512::tail_mask(nc);
    const std::size_t first = o0 + static_cast<std::size_t>(16 * half);
    // Lane i's scale of block b is d[(first + i) * nb + b]: indices from `first`'s row.
    const __m512i row_at = _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int>(nb)));
    const uint16_t* d = rows.d + first * nb;
    const uint16_t* m = rows.m ? rows.m + first * nb : nullptr;
    for (int k = 0; k < k_quads; k += 64) {
      __m512 r[16];
      load_transposed(rows.q, ui, static_cast<int>(first), nc, static_cast<std::size_t>(k0 + k), r);
      __m512 scale = _mm512_setzero_ps(), offset = _mm512_setzero_ps();
      for (int l = 0; l < 16; ++l) {
        const int pos = k0 + k + 4 * l;
        if (l == 0 || pos % kQ8Block == 0) {
          const __m512i at = _mm512_add_epi32(row_at, _mm512_set1_epi32(pos / kQ8Block));
          scale = gather_halves(live, at, d);
          if (m) offset = gather_halves(live, at, m);
        }
        const __m512i quad = _mm512_castps_si512(r[l]);
        const __m512i b[4] = {_mm512_srai_epi32(_mm512_slli_epi32(quad, 24), 24),
                              _mm512_srai_epi32(_mm512_slli_epi32(quad, 16), 24),
                              _mm512_srai_epi32(_mm512_slli_epi32(quad, 8), 24), _mm512_srai_epi32(quad, 24)};
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
          const __m512 f = _mm512_cvtepi32_ps(b[j]);
          _mm512_store_ps(dst + static_cast<std::size_t>(k + 4 * l + j) * kPanelCols,
                          m ? _mm512_fmadd_ps(f, scale, offset) : _mm512_mul_ps(f, scale));
        }
      }
    }
  }
  if (k_quads < kc) {
    gather_rows(kc, n_cols, Q8RowLoader{rows, ui, o0, k0}, buf, k_quads);
  }
}

NPW_TARGET_AVX512 static inline const float* panel_slice(const Q8Weights& rows, std::size_t ui, int p, int k0, int kc,
                                                         int n_out, float* buf) {
  gather_q8_rows(rows, ui, static_cast<std::size_t>(p) * kPanelCols, k0, kc, n_out - p * kPanelCols, buf);
  return buf;
}

// The driver for every weight storage W (f32, halves, q8_0 quants + scales, in panels or in rows; see
// panel_slice).
template <typename W>
NPW_TARGET_AVX512 static void blocked(const float* X, int ldx, int r0, int r1, const W& panels, int n_out, int n_in,
                                      const float* bias, float* Y, int ldy) {
  if (r1 <= r0 || n_out <= 0) return;
  const std::size_t ux = static_cast<std::size_t>(ldx), uy = static_cast<std::size_t>(ldy);
  const std::size_t ui = static_cast<std::size_t>(n_in);
  const int n_panels = (n_out + kPanelCols - 1) / kPanelCols;
  // Equal slices of at most kSliceMax: 384 runs as 2 x 192 rather than 256 + 128.
  const int n_slices = std::max(1, (n_in + kSliceMax - 1) / kSliceMax);
  const int slice = (n_in + n_slices - 1) / n_slices;
  // Grown once per thread to the largest block, then reused: no allocation in steady state.
  thread_local AlignedBuffer<float> scratch{MemoryLabel{"cpu: panel products' row scratch (one a thread)"}};
  scratch.reserve_at_least(static_cast<std::size_t>(kTilesPerBlock) * kMr * kSliceMax + kPanelCols * kSliceMax);
  float* packed_rows = scratch.data();
  float* slice_buf = packed_rows + static_cast<std::size_t>(kTilesPerBlock) * kMr * kSliceMax;

  for (int rb = r0; rb < r1; rb += kTilesPerBlock * kMr) {
    const int rows = std::min(kTilesPerBlock * kMr, r1 - rb);
    const int tiles = (rows + kMr - 1) / kMr;
    for (int k0 = 0; k0 < n_in; k0 += slice) {
      const int kc = std::min(slice, n_in - k0);
      const bool first = k0 == 0, last = k0 + kc >= n_in;
      pack_rows(X, ux, rb, rows, k0, kc, packed_rows);
      for (int p = 0; p < n_panels; ++p) {
        const float* b = panel_slice(panels, ui, p, k0, kc, n_out, slice_buf);
        if (p + 1 < n_panels) panel_rows::prefetch_slice(panels, ui, p + 1, k0, kc, n_out);
        const int cols = std::min(kPanelCols, n_out - p * kPanelCols);
        const __mmask16 m0 = avx512::tail_mask(cols), m1 = avx512::tail_mask(cols - 16);
        const float* bp = bias ? bias + p * kPanelCols : nullptr;
        for (int t = 0; t < tiles; ++t) {
          const float* a = packed_rows + static_cast<std::size_t>(t) * kc * kMr;
          float* c = Y + static_cast<std::size_t>(rb + t * kMr) * uy + static_cast<std::size_t>(p) * kPanelCols;
          const int tr = std::min(kMr, rows - t * kMr);
          if (first && last) {
            tile_of<true, true>(kc, a, b, c, uy, tr, m0, m1, bp);
          } else if (first) {
            tile_of<true, false>(kc, a, b, c, uy, tr, m0, m1, bp);
          } else if (last) {
            tile_of<false, true>(kc, a, b, c, uy, tr, m0, m1, bp);
          } else {
            tile_of<false, false>(kc, a, b, c, uy, tr, m0, m1, bp);
          }
        }
      }
    }
  }
}

NPW_TARGET_AVX512 void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const float* panels, int n_out,
                                         int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX512 void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const uint16_t* panels, int n_out,
                                         int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX512 void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const Q8Panels& panels, int n_out,
                                         int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX512 void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const FloatRows& rows, int n_out,
                                         int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX512 void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const HalfRows& rows, int n_out,
                                         int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX512 void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const FloatColumns& cols,
                                         int n_out, int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, cols, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX512 void panel_gemm_avx512(const float* X, int ldx, int r0, int r1, const Q8Weights& rows, int n_out,
                                         int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

}  // namespace npw
