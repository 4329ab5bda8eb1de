// The AVX2 product over panel-packed weights (panel_gemm.h), so that CPUs without AVX-512 run the
// encoder's products on weights packed (and kept f16 / q8_0) once per model, as AVX-512 ones do, instead
// of widening each f16 or q8_0 matrix whole into scratch and handing it to OpenBLAS's sgemm, which
// copies it into its own panels again on every call (and keeps its library and buffers resident).
// A micro-tile is 6 activation rows by half a 32-column panel: 12 accumulators, two weight vectors
// and one broadcast per step of the input dimension, 15 of the 16 registers. Blocking: the input
// dimension in slices of at most 256 (a half panel's slice, 16 KiB, stays in L1 while every tile of
// the row block runs against it), rows in blocks of 16 tiles copied once per slice into tile order, 8
// floats a step (6 rows and 2 of padding, so that each step is one aligned store), and columns in
// blocks of 8 panels (see blocked()).
#include <algorithm>
#include <cstdint>

#include <immintrin.h>

#include "backend/cpu/panel_gemm.h"
#include "backend/cpu/panel_rows_prefetch.h"
#include "util/aligned_buffer.h"
#include "util/simd_target.h"
#include "util/transpose_avx2.h"
#include "util/vec_math_avx2.h"

namespace npw {

namespace {

constexpr int kMr = 6;  // rows per tile
constexpr int kLd = 8;  // floats per input step of a tile's packed rows
constexpr int kHalf = kPanelCols / 2;
constexpr int kSliceMax = 256;
constexpr int kTilesPerBlock = 16;
constexpr int kPanelsPerBlock = 8;

// rows of X [r0, r0 + rows) x [k0, k0 + kc) into tile order: tile t holds, for each k, its 6 rows'
// values then two zeros. 8 inputs at a time through a register transpose.
NPW_TARGET_AVX2 static void pack_rows(const float* X, std::size_t ldx, int r0, int rows, int k0, int kc, float* dst) {
  const int tiles = (rows + kMr - 1) / kMr;
  for (int t = 0; t < tiles; ++t) {
    float* d = dst + static_cast<std::size_t>(t) * kc * kLd;
    const int nr = std::min(kMr, rows - t * kMr);
    const float* x = X + static_cast<std::size_t>(r0 + t * kMr) * ldx + k0;
    for (int k = 0; k < kc; k += 8) {
      const int nk = std::min(8, kc - k);
      const __m256i m = avx2::lane_mask(nk);
      __m256i r[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) {
        const float* xi = x + static_cast<std::size_t>(i) * ldx + k;
        r[i] = i >= nr ? _mm256_setzero_si256()
                       : _mm256_castps_si256(nk == 8 ? _mm256_loadu_ps(xi) : _mm256_maskload_ps(xi, m));
      }
      avx2::transpose8(r);
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        if (j < nk) _mm256_store_ps(d + static_cast<std::size_t>(k + j) * kLd, _mm256_castsi256_ps(r[j]));
      }
    }
  }
}

// One tile: C (R rows x `cols` of 16) = [C +] A-tile . half-panel slice [+ bias]. kFirst: the first
// slice (C not read); kLast: the last (bias added). b is the half's slice, 16 floats an input.
template <bool kFirst, bool kLast, int R>
NPW_TARGET_AVX2 static inline __attribute__((always_inline)) void tile(int kc, const float* __restrict a,
                                                                      const float* __restrict b, float* c,
                                                                      std::size_t ldc, int cols, const float* bias) {
  static_assert(R >= 1 && R <= kMr, "a tile has 1 to kMr rows");
  __m256 c0[R], c1[R];
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
  // Unrolled by 4: the loop's own counting and branch were the difference to OpenBLAS's kernel
  // (0.92-0.97 of its rate, widening included, one thread, 750 rows; 1.02-1.09 unrolled).
#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b + k * kHalf), b1 = _mm256_load_ps(b + k * kHalf + 8);
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
      const __m256 x = _mm256_broadcast_ss(a + k * kLd + i);
      c0[i] = _mm256_fmadd_ps(x, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(x, b1, c1[i]);
    }
  }
  if (cols >= kHalf) {
    __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
    if (kLast && bias) {
      bias0 = _mm256_loadu_ps(bias);
      bias1 = _mm256_loadu_ps(bias + 8);
    }
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
      float* y = c + static_cast<std::size_t>(i) * ldc;
      __m256 v0 = c0[i], v1 = c1[i];
      if (!kFirst) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(y));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(y + 8));
      }
      if (kLast) {
        v0 = _mm256_add_ps(v0, bias0);
        v1 = _mm256_add_ps(v1, bias1);
      }
      _mm256_storeu_ps(y, v0);
      _mm256_storeu_ps(y + 8, v1);
    }
    return;
  }
  // The matrix's last columns: only those that exist are read or written.
  const __m256i m0 = avx2::lane_mask(cols), m1 = avx2::lane_mask(cols - 8);
  __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
  if (kLast && bias) {
    bias0 = _mm256_maskload_ps(bias, m0);
    bias1 = _mm256_maskload_ps(bias + 8, m1);
  }
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i) {
    float* y = c + static_cast<std::size_t>(i) * ldc;
    __m256 v0 = c0[i], v1 = c1[i];
    if (!kFirst) {
      v0 = _mm256_add_ps(v0, _mm256_maskload_ps(y, m0));
      v1 = _mm256_add_ps(v1, _mm256_maskload_ps(y + 8, m1));
    }
    if (kLast) {
      v0 = _mm256_add_ps(v0, bias0);
      v1 = _mm256_add_ps(v1, bias1);
    }
    _mm256_maskstore_ps(y, m0, v0);
    _mm256_maskstore_ps(y + 8, m1, v1);
  }
}

// tile() at the tile's own height: whole tiles at 6, a short last tile at its rows.
template <bool kFirst, bool kLast>
NPW_TARGET_AVX2 static inline void tile_of(int kc, const float* __restrict a, const float* __restrict b, float* c,
                                           std::size_t ldc, int rows, int cols, const float* bias) {
  static_assert(kMr == 6, "the heights below are those of a 6-row tile");
  switch (rows) {
    case 1: tile<kFirst, kLast, 1>(kc, a, b, c, ldc, cols, bias); break;
    case 2: tile<kFirst, kLast, 2>(kc, a, b, c, ldc, cols, bias); break;
    case 3: tile<kFirst, kLast, 3>(kc, a, b, c, ldc, cols, bias); break;
    case 4: tile<kFirst, kLast, 4>(kc, a, b, c, ldc, cols, bias); break;
    case 5: tile<kFirst, kLast, 5>(kc, a, b, c, ldc, cols, bias); break;
    default: tile<kFirst, kLast, 6>(kc, a, b, c, ldc, cols, bias); break;
  }
}

// Inputs [k0, k0 + kc) of panel p as f32 in buf, a half panel after the other ([2][kc][16]): the
// half a tile reads is then contiguous. In place, its inputs 128 bytes apart would use only every
// other set of a 32 KiB L1 and evict themselves and the tile's rows (58-65 % of the FMA peak against
// 75-85 % this way). f32 panels are copied, halves and q8_0 quants widened, once per block of rows
// and columns for all of that block's tiles.
NPW_TARGET_AVX2 static inline void store_group(float* buf, int kc, int k, int g, __m256 v) {
  _mm256_store_ps(buf + static_cast<std::size_t>(g / 2) * kc * kHalf + static_cast<std::size_t>(k) * kHalf + (g % 2) * 8, v);
}

NPW_TARGET_AVX2 static inline void panel_slice(const float* panels, std::size_t ui, int p, int k0, int kc, int,
                                               float* buf) {
  const float* src = panels + (static_cast<std::size_t>(p) * ui + static_cast<std::size_t>(k0)) * kPanelCols;
  for (int k = 0; k < kc; ++k) {
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) store_group(buf, kc, k, g, _mm256_load_ps(src + k * kPanelCols + 8 * g));
  }
}

NPW_TARGET_AVX2 static inline void panel_slice(const uint16_t* panels, std::size_t ui, int p, int k0, int kc, int,
                                               float* buf) {
  const uint16_t* src = panels + (static_cast<std::size_t>(p) * ui + static_cast<std::size_t>(k0)) * kPanelCols;
  for (int k = 0; k < kc; ++k) {
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k * kPanelCols + 8 * g));
      store_group(buf, kc, k, g, _mm256_cvtph_ps(h));
    }
  }
}

// Quant times its block's scale in f32, as dequantize_row() forms each weight: the same floats as
// f32 panels of the dequantised matrix, so the same products.
NPW_TARGET_AVX2 static inline void panel_slice(const Q8Panels& panels, std::size_t ui, int p, int k0, int kc, int,
                                               float* buf) {
  const std::size_t first = static_cast<std::size_t>(p) * ui + static_cast<std::size_t>(k0);
  const int8_t* q = panels.q + first * kPanelCols;
  const uint16_t* d = panels.d + static_cast<std::size_t>(p) * (ui / kQ8PanelBlock) * kPanelCols;
  __m256 s[4] = {};
  for (int k = 0; k < kc; ++k) {
    if (k == 0 || (k0 + k) % kQ8PanelBlock == 0) {  // the block's 32 scales, widened once
      const uint16_t* dk = d + static_cast<std::size_t>((k0 + k) / kQ8PanelBlock) * kPanelCols;
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) s[g] = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(dk + 8 * g)));
    }
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      const __m128i q8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + k * kPanelCols + 8 * g));
      store_group(buf, kc, k, g, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8)), s[g]));
    }
  }
}

// Weights kept in rows: a panel's 32 columns are 32 rows, so each group of 8 is read 8 inputs at a
// time (load(i, k, nk): row i of the panel, inputs k0 + k on, nk of them, as f32) and turned into
// panel order by the register transpose; columns past n_out are zero.
template <typename Load>
NPW_TARGET_AVX2 static inline __attribute__((always_inline)) void gather_rows(int kc, int n_cols, Load load,
                                                                             float* buf) {
  for (int g = 0; g < kPanelCols / 8; ++g) {
    const int nc = std::min(8, n_cols - 8 * g);
    if (nc <= 0) {
      for (int k = 0; k < kc; ++k) store_group(buf, kc, k, g, _mm256_setzero_ps());
      continue;
    }
    for (int k = 0; k < kc; k += 8) {
      const int nk = std::min(8, kc - k);
      __m256i r[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) r[i] = i < nc ? _mm256_castps_si256(load(8 * g + i, k, nk)) : _mm256_setzero_si256();
      avx2::transpose8(r);
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        if (j < nk) store_group(buf, kc, k + j, g, _mm256_castsi256_ps(r[j]));
      }
    }
  }
}

// Row i of a panel, inputs [k, k + nk) (nk <= 8; zeros past them) as f32, for each row storage.
struct FloatRowLoader {
  const float* w;  // the panel's first row at input k0
  std::size_t ui;
  NPW_TARGET_AVX2 inline __attribute__((always_inline)) __m256 operator()(int i, int k, int nk) const {
    const float* src = w + static_cast<std::size_t>(i) * ui + k;
    return nk == 8 ? _mm256_loadu_ps(src) : _mm256_maskload_ps(src, avx2::lane_mask(nk));
  }
};

// nk (< 8) narrow elements into a zeroed 16-byte vector: a partial load that reads nothing past them.
template <typename T>
static inline __m128i load_partial(const T* src, int nk) {
  alignas(16) T tmp[16 / sizeof(T)] = {};
  for (int j = 0; j < nk; ++j) tmp[j] = src[j];
  return _mm_load_si128(reinterpret_cast<const __m128i*>(tmp));
}

struct HalfRowLoader {
  const uint16_t* w;
  std::size_t ui;
  NPW_TARGET_AVX2 inline __attribute__((always_inline)) __m256 operator()(int i, int k, int nk) const {
    const uint16_t* src = w + static_cast<std::size_t>(i) * ui + k;
    return _mm256_cvtph_ps(nk == 8 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(src)) : load_partial(src, nk));
  }
};

// The half h widened, in every lane (F16C's widening: the same float as fp16_to_fp32's).
NPW_TARGET_AVX2 static inline __m256 half_splat(uint16_t h) {
  return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(h)));
}

// Quant times its block's scale, as dequantize_row() forms it (plus the block's offset in one FMA for
// q5_1 / q4_1: the product is exact, see Q8Weights). The 8 inputs never straddle two blocks: slices
// start at multiples of 8 and blocks are 32 long.
struct Q8RowLoader {
  const Q8Weights& rows;
  std::size_t ui;
  std::size_t o0;  // the panel's first row
  int k0;
  NPW_TARGET_AVX2 inline __attribute__((always_inline)) __m256 operator()(int i, int k, int nk) const {
    const std::size_t o = o0 + static_cast<std::size_t>(i), pos = static_cast<std::size_t>(k0 + k);
    const std::size_t at = o * (ui / kQ8Block) + pos / kQ8Block;
    const int8_t* src = rows.q + o * ui + pos;
    const __m128i q8 = nk == 8 ? _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src)) : load_partial(src, nk);
    const __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8));
    if (!rows.m) return _mm256_mul_ps(f, half_splat(rows.d[at]));
    return _mm256_fmadd_ps(f, half_splat(rows.d[at]), half_splat(rows.m[at]));
  }
};

NPW_TARGET_AVX2 static inline void panel_slice(const FloatRows& rows, std::size_t ui, int p, int k0, int kc, int n_out,
                                               float* buf) {
  const float* w = rows.w + static_cast<std::size_t>(p) * kPanelCols * ui + static_cast<std::size_t>(k0);
  gather_rows(kc, n_out - p * kPanelCols, FloatRowLoader{w, ui}, buf);
}

// Columns of a row-major B: 32 consecutive floats of each of its rows; columns past n_out are zero
// and not read.
NPW_TARGET_AVX2 static inline void panel_slice(const FloatColumns& cols, std::size_t, int p, int k0, int kc, int n_out,
                                               float* buf) {
  const int n_cols = n_out - p * kPanelCols;
  const float* b = cols.b + static_cast<std::size_t>(k0) * cols.ldb + static_cast<std::size_t>(p) * kPanelCols;
  for (int k = 0; k < kc; ++k) {
    const float* row = b + static_cast<std::size_t>(k) * cols.ldb;
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      const int nc = n_cols - 8 * g;
      const __m256 v = nc >= 8  ? _mm256_loadu_ps(row + 8 * g)
                       : nc > 0 ? _mm256_maskload_ps(row + 8 * g, avx2::lane_mask(nc))
                                : _mm256_setzero_ps();
      store_group(buf, kc, k, g, v);
    }
  }
}

NPW_TARGET_AVX2 static inline void panel_slice(const HalfRows& rows, std::size_t ui, int p, int k0, int kc, int n_out,
                                               float* buf) {
  const uint16_t* w = rows.w + static_cast<std::size_t>(p) * kPanelCols * ui + static_cast<std::size_t>(k0);
  gather_rows(kc, n_out - p * kPanelCols, HalfRowLoader{w, ui}, buf);
}

NPW_TARGET_AVX2 static inline void panel_slice(const Q8Weights& rows, std::size_t ui, int p, int k0, int kc, int n_out,
                                               float* buf) {
  const std::size_t o0 = static_cast<std::size_t>(p) * kPanelCols;
  gather_rows(kc, n_out - p * kPanelCols, Q8RowLoader{rows, ui, o0, k0}, buf);
}

// The driver for every weight storage W (f32, halves, q8_0 quants + scales, in panels or in rows; see
// panel_slice). Columns in blocks of kPanelsPerBlock panels, so that a block of C (96 rows x 256
// columns, 96 KiB) stays in L2 over the input slices that add to it: the encoder's 1536- and
// 2048-column products otherwise sent all of C through L3 once a slice.
template <typename W>
NPW_TARGET_AVX2 static void blocked(const float* X, int ldx, int r0, int r1, const W& panels, int n_out, int n_in,
                                    const float* bias, float* Y, int ldy) {
  if (r1 <= r0 || n_out <= 0) return;
  const std::size_t ux = static_cast<std::size_t>(ldx), uy = static_cast<std::size_t>(ldy);
  const std::size_t ui = static_cast<std::size_t>(n_in);
  const int n_panels = (n_out + kPanelCols - 1) / kPanelCols;
  // Near-equal slices of at most kSliceMax (384 runs as 2 x 192 rather than 256 + 128), each a multiple
  // of 8 inputs, so that no 8 inputs of a row gathered together straddle a q8_0 block.
  const int n_slices = std::max(1, (n_in + kSliceMax - 1) / kSliceMax);
  const int slice = ((n_in + n_slices - 1) / n_slices + 7) / 8 * 8;
  // Grown once per thread to the largest block, then reused: no allocation in steady state.
  thread_local AlignedBuffer<float> scratch{MemoryLabel{"cpu: panel products' row scratch (one a thread)"}};
  scratch.reserve_at_least(static_cast<std::size_t>(kTilesPerBlock) * kLd * kSliceMax + kPanelCols * kSliceMax);
  float* packed_rows = scratch.data();
  float* slice_buf = packed_rows + static_cast<std::size_t>(kTilesPerBlock) * kLd * kSliceMax;

  for (int rb = r0; rb < r1; rb += kTilesPerBlock * kMr) {
    const int rows = std::min(kTilesPerBlock * kMr, r1 - rb);
    const int tiles = (rows + kMr - 1) / kMr;
    for (int pb = 0; pb < n_panels; pb += kPanelsPerBlock) {
      const int pe = std::min(n_panels, pb + kPanelsPerBlock);
      for (int k0 = 0; k0 < n_in; k0 += slice) {
        const int kc = std::min(slice, n_in - k0);
        const bool first = k0 == 0, last = k0 + kc >= n_in;
        pack_rows(X, ux, rb, rows, k0, kc, packed_rows);
        for (int p = pb; p < pe; ++p) {
          panel_slice(panels, ui, p, k0, kc, n_out, slice_buf);
          if (p + 1 < n_panels) panel_rows::prefetch_slice(panels, ui, p + 1, k0, kc, n_out);
          for (int h = 0; h < 2; ++h) {
            const int cols = std::min(kHalf, n_out - p * kPanelCols - h * kHalf);
            if (cols <= 0) break;
            const int o = p * kPanelCols + h * kHalf;
            const float* bh = slice_buf + static_cast<std::size_t>(h) * kc * kHalf;
            const float* bp = bias ? bias + o : nullptr;
            for (int t = 0; t < tiles; ++t) {
              const float* a = packed_rows + static_cast<std::size_t>(t) * kc * kLd;
              float* c = Y + static_cast<std::size_t>(rb + t * kMr) * uy + static_cast<std::size_t>(o);
              const int tr = std::min(kMr, rows - t * kMr);
              if (first && last) {
                tile_of<true, true>(kc, a, bh, c, uy, tr, cols, bp);
              } else if (first) {
                tile_of<true, false>(kc, a, bh, c, uy, tr, cols, bp);
              } else if (last) {
                tile_of<false, true>(kc, a, bh, c, uy, tr, cols, bp);
              } else {
                tile_of<false, false>(kc, a, bh, c, uy, tr, cols, bp);
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace

NPW_TARGET_AVX2 void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const float* panels, int n_out, int n_in,
                                     const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX2 void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const uint16_t* panels, int n_out,
                                     int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX2 void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const Q8Panels& panels, int n_out,
                                     int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, panels, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX2 void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const FloatRows& rows, int n_out,
                                     int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX2 void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const HalfRows& rows, int n_out,
                                     int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX2 void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const FloatColumns& cols, int n_out,
                                     int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, cols, n_out, n_in, bias, Y, ldy);
}

NPW_TARGET_AVX2 void panel_gemm_avx2(const float* X, int ldx, int r0, int r1, const Q8Weights& rows, int n_out,
                                     int n_in, const float* bias, float* Y, int ldy) {
  blocked(X, ldx, r0, r1, rows, n_out, n_in, bias, Y, ldy);
}

}  // namespace npw
