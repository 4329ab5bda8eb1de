// The reduced-precision attention task with both of its products in int8 on AVX512_VNNI: the scores as
// the other int8-score tasks make them (attention_int8_parts_avx512.h), and the weighted sum of values
// with vpdpbusd too, whose unsigned operand suits probabilities. A vpdpbusd does 64 multiply-adds where
// a vdpbf16ps does 32 and an FMA 16, so the value half costs half the bf16 task's instructions (Zen 4,
// Zen 5) and a quarter of the f32-value task's (Ice Lake, Tiger Lake, Cascade Lake).
//
// Rounding, chosen so that small probabilities survive (one scale per row would round a flat row's
// 1/1500s to nothing): the exps of a row are rounded to u8 per chunk of 64 keys, each chunk with its
// own scale (its largest exp is 255), and each chunk's int32 sums are scaled into f32 before the next;
// the row's normaliser is the sum of the rounded exps, so the weights sum to one. Values are smoothed
// (SageAttention's trick applied to V: the call's mean value per column is subtracted before rounding
// and added back after the normalised sum, exact because the weights sum to one) and rounded to int8
// per column.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "nn/attention_kernels.h"

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "nn/attention_bf16_parts_avx512.h"
#include "nn/attention_int8_parts_avx512.h"
#include "util/prefetch.h"
#include "util/simd_target.h"
#include "util/vec_math_avx512.h"

namespace npw {

namespace {

using attention_int8::score_rows;

static_assert(kAttentionInt8ChunkKeys == 64, "a chunk is four vectors of 16 exps, 16 quads of u8");

// A chunk whose largest exp is below this (relative to the row's largest, 1) adds nothing a float
// sum of the row would keep; its scale 255 / max would overflow near FLT_MIN, so it is zeros.
constexpr float kChunkMinExp = 1e-30f;

// log2(255): a chunk's exps are taken as 2^(a2 s - (a2 t - this)), t its largest score, so that the
// largest is 255 (to exp2_u8_ps's error and the rounding of a2 t - this: it rounds to 255, or to 254 or
// 256 where |a2 t| exceeds ~3e4, the packs saturating 256 to 255) and the factor 255 / the chunk's
// largest exp needs no multiplication of its own.
constexpr float kLog2Of255 = 7.99435343685886f;

// One chunk of softmax_u8's second pass, keys [k0, k0 + 64): the u8 exps 2^(a2 s - at) of the keys
// below lim (zeros from lim on; kWhole: all 64 are), stored at p + k0, and their sum times the chunk's
// scale sc added to sum's eight lanes.
template <bool kWhole>
NPW_TARGET_AVX512_VNNI inline __attribute__((always_inline)) void chunk_u8(const float* s, int lim, int k0, __m512 a2,
                                                                         float at, float sc, uint8_t* p, __m256& sum) {
  const __m512 atj = _mm512_set1_ps(at);
  __m512i u[4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    // Rounded to nearest even.
    if (kWhole) {
      u[i] = _mm512_cvtps_epi32(avx512::exp2_u8_ps(_mm512_fmsub_ps(_mm512_loadu_ps(s + k0 + 16 * i), a2, atj)));
    } else {
      const __mmask16 m = avx512::tail_mask(lim - k0 - 16 * i);
      u[i] = _mm512_maskz_cvtps_epi32(m, avx512::exp2_u8_ps(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m, s + k0 + 16 * i), a2, atj)));
    }
  }
  const __m512i bytes = _mm512_packus_epi16(_mm512_packus_epi32(u[0], u[1]), _mm512_packus_epi32(u[2], u[3]));
  _mm512_storeu_si512(p + k0, bytes);
  // Eight partial sums of the chunk's bytes, times its scale.
  const __m256 part = _mm512_cvtepi64_ps(_mm512_sad_epu8(bytes, _mm512_setzero_si512()));
  sum = _mm256_fmadd_ps(part, _mm256_set1_ps(sc), sum);
}

// Row scores s[0, lim) (lim > 0), each chunk's 16 lane maxima of them as floats in its bytes' place
// (p + 64 chunk, as score_rows' Tops::kChunk leaves them), as u8 exps in p[0, 64 n_chunks):
// exp(alpha (s - the row's largest)) per chunk of 64 keys times 255 / the chunk's largest, rounded,
// zero from lim on; the chunk's scale (largest / 255) in ps[chunk]. Returns 1 / the sum of the rounded
// exps times their scales. Within a chunk the bytes lie in the order two saturating packs leave them:
// quad slot g holds keys 4 q .. 4 q + 3 of the chunk, q = kInt8ChunkSlot(g), as the value quads do.
// Chunks the row sees whole (all but its last) take no lane masks, in a loop of their own: a mask per
// vector, made from the limit, cost 18 % of this function on a Zen 5 (a 1500-key row 195 -> 160 ns;
// with the factor in the exponent, 146), and one loop for both forms, which GCC merged into a mask and
// a branch per vector, 2.5 % on a Xeon.
NPW_TARGET_AVX512_VNNI inline float softmax_u8(const float* s, int lim, int n_chunks, float alpha, uint8_t* p,
                                               float* ps) {
  const __m512 minus_inf = _mm512_set1_ps(-INFINITY);
  // First the largest score of every chunk, from the 16 lane maxima the scores left for it in its bytes'
  // place: 16 chunks' lanes side by side and folded into one vector (no reduction per chunk), kept in
  // ps until their scales replace them; the row's largest from those.
  const float* tops = reinterpret_cast<const float*>(p);
  __m512 row_top = minus_inf;
  for (int g0 = 0; g0 < n_chunks; g0 += 16) {
    const int nc = std::min(16, n_chunks - g0);
    __m512 top[16];
    if (nc == 16) {
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) top[j] = _mm512_loadu_ps(tops + 16 * (g0 + j));
    } else {
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) top[j] = j < nc ? _mm512_loadu_ps(tops + 16 * (g0 + j)) : minus_inf;
    }
    const __m512 t = avx512::lane_maxima(top);
    _mm512_mask_storeu_ps(ps + g0, avx512::tail_mask(nc), t);
    row_top = _mm512_max_ps(row_top, t);
  }
  const float row_max = _mm512_reduce_max_ps(row_top);
  const __m512 a2 = _mm512_set1_ps(alpha * exp_poly::kLog2e);
  const __m512 am = _mm512_set1_ps(row_max * (alpha * exp_poly::kLog2e));
  __m256 sum = _mm256_setzero_ps();
  for (int g0 = 0; g0 < n_chunks; g0 += 16) {
    const int nc = std::min(16, n_chunks - g0);
    const __mmask16 mc = avx512::tail_mask(nc);
    const __m512 e_top = avx512::exp2_u8_ps(_mm512_fmsub_ps(_mm512_mask_loadu_ps(minus_inf, mc, ps + g0), a2, am));
    const __mmask16 live = _mm512_cmp_ps_mask(e_top, _mm512_set1_ps(kChunkMinExp), _CMP_GE_OQ);
    // Each chunk's exponent offset, a2 t - log2(255). A chunk too small to count (its scale is zero)
    // still gets its bytes, which then add nothing; lanes past the chunks, and chunks of no key the row
    // sees (t = -inf), get offsets whose lanes are all masked below.
    alignas(64) float at[16], sc[16];
    _mm512_store_ps(at, _mm512_fmsub_ps(_mm512_mask_loadu_ps(minus_inf, mc, ps + g0), a2, _mm512_set1_ps(kLog2Of255)));
    // Dead lanes are zeroed before the division by 255, which would take their smallest exps (2^-125)
    // below the normal range: a subnormal result costs an Intel core a microcode assist.
    const __m512 scale = _mm512_mul_ps(_mm512_maskz_mov_ps(live, e_top), _mm512_set1_ps(1.0f / 255.0f));
    _mm512_store_ps(sc, scale);
    _mm512_mask_storeu_ps(ps + g0, mc, scale);
    // The chunks the row sees whole, then its partial one.
    const int n_whole = std::min(nc, std::max(0, lim / kAttentionInt8ChunkKeys - g0));
    for (int j = 0; j < n_whole; ++j) chunk_u8<true>(s, lim, (g0 + j) * kAttentionInt8ChunkKeys, a2, at[j], sc[j], p, sum);
    for (int j = n_whole; j < nc; ++j) chunk_u8<false>(s, lim, (g0 + j) * kAttentionInt8ChunkKeys, a2, at[j], sc[j], p, sum);
  }
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
  const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return 1.0f / _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
}

inline uint32_t load4(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// out rows [0, RB) (d_head = 16 NV) = sum over chunks of ps[r][chunk] times the chunk's int32 sums of
// u8 exps times int8 value quads, chunks [0, n_chunks): the unnormalised weighted sum of smoothed
// values in units of the values' scales. A chunk is always whole (16 quads, unrolled, so that its sums
// stay in their registers): past the keys its exps are zeros, and the value quads there, whatever they
// hold, add nothing. kPrefetch: value rows a chunk ahead are asked for into the L2 (see rows_block).
template <int RB, int NV, bool kPrefetch>
NPW_TARGET_AVX512_VNNI inline void pv_block(const uint8_t* p8, int ldp8, const float* ps, int ldps, int n_chunks,
                                            const uint32_t* vq, int width, float* out, int ldo) {
  constexpr int kChunkQuads = kAttentionInt8ChunkKeys / 4;
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + static_cast<long>(r) * ldo + 16 * c, _mm512_setzero_ps());
  const uint32_t* v = vq;
  for (int ch = 0; ch < n_chunks; ++ch) {
    __m512i acc[RB][NV];
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_setzero_si512();
    const uint8_t* pc = p8 + ch * kAttentionInt8ChunkKeys;
#pragma GCC unroll 16
    for (int i = 0; i < kChunkQuads; ++i) {
      __m512i vv[NV];
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) vv[c] = _mm512_loadu_si512(v + 16 * c);
      if constexpr (kPrefetch) {
#pragma GCC unroll 16
        for (int c = 0; c < NV; ++c) {
          prefetch_bytes_past<PrefetchTo::L2>(v, sizeof(uint32_t) * (static_cast<std::size_t>(width) * kAttentionInt8ValueRowsAhead + 16 * c));
        }
      }
      v += width;
#pragma GCC unroll 16
      for (int r = 0; r < RB; ++r) {
        const __m512i pr = _mm512_set1_epi32(static_cast<int>(load4(pc + static_cast<long>(r) * ldp8 + 4 * i)));
#pragma GCC unroll 16
        for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], pr, vv[c]);
      }
    }
    // The chunk's sums in f32, added to the row's in memory (in registers they would crowd out the
    // value vectors).
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512 f = _mm512_set1_ps(ps[static_cast<long>(r) * ldps + ch]);
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) {
        float* o = out + static_cast<long>(r) * ldo + 16 * c;
        _mm512_storeu_ps(o, _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][c]), f, _mm512_loadu_ps(o)));
      }
    }
  }
}

// Query rows [0, RB) of one head, d_head = 16 NV: the whole task for those rows. first: the task's
// first row block, the only one that asks for keys and value rows ahead. A decoder step's block (one
// to six rows, one block) reads its keys and values from memory, where the hints keep the vpdpbusd
// fed (kAttentionInt8KeyPrefetchBytes); the blocks after the first find a head's keys and values
// (1500 keys: 96 KiB each) in the L2, where the hints only take load slots (score_rows).
template <int RB, int NV>
NPW_TARGET_AVX512_VNNI void rows_block(const float* q, int ldq, const uint32_t* kq, int ldkq, const float* ks,
                                       int n_keys, const uint32_t* vq, int width, const float* vmean,
                                       const float* vscale, float alpha, const int* lim, float* out, int ldo, float* s,
                                       int lds, uint8_t* p8, int ldp8, float* ps, int ldps, bool first) {
  int row_lim[RB];
  float qs[RB];
  // Each chunk's lane maxima go where its bytes will (16 floats in 64 bytes), read by softmax_u8 before
  // it writes them: from the scores in registers, where a pass over the stored scores cost a Xeon
  // 2.8 cycles a vector of 16 (a fifth of the softmax).
  const int nk = score_rows<RB, NV, attention_int8::Tops::kChunk>(q, ldq, kq, ldkq, ks, n_keys, lim, out, ldo, s, lds,
                                                                   row_lim, nullptr, qs, first,
                                                                   reinterpret_cast<float*>(p8), ldp8 / 4);
  if (nk == 0) return;

  const int n_chunks = (nk + kAttentionInt8ChunkKeys - 1) / kAttentionInt8ChunkKeys;
  float inv[RB];
  for (int r = 0; r < RB; ++r) {
    uint8_t* pr = p8 + static_cast<long>(r) * ldp8;
    float* psr = ps + static_cast<long>(r) * ldps;
    if (row_lim[r] == 0) {
      std::memset(pr, 0, static_cast<std::size_t>(n_chunks) * kAttentionInt8ChunkKeys);
      std::fill(psr, psr + n_chunks, 0.0f);
      inv[r] = 0.0f;
      continue;
    }
    // The query row's scale goes into the softmax's.
    inv[r] = softmax_u8(s + static_cast<long>(r) * lds, row_lim[r], n_chunks, alpha * qs[r], pr, psr);
  }
  // Every row of the block in one pass over the values where RB x NV int32 sums, the NV value vectors,
  // a broadcast and the epilogue's two temporaries fit the 32 registers (d_head 64: 6 rows, 24 sums),
  // else three rows at a time. Each value vector loaded then feeds 6 vpdpbusd, not 3: on a Zen 5 the
  // task took 3.7-3.9 ms a layer (tiny) against 4.0-4.2 in two passes of 3, alternated (base: 5.1
  // against 6.3).
  constexpr int RB0 = RB * NV + NV + 3 <= 32 ? RB : RB > 3 ? 3 : RB;
  // The sums wait in a block of their own, rows side by side: at every chunk's end each of the 24 is
  // read, scaled in and written back, and at a constant offset from one register that costs no address
  // arithmetic (in the output's rows, ldo apart, the pointers did not all stay in registers).
  constexpr int kW = 16 * NV;
  alignas(64) float sums[RB * kW];
  if (first) {
    pv_block<RB0, NV, true>(p8, ldp8, ps, ldps, n_chunks, vq, width, sums, kW);
  } else {
    pv_block<RB0, NV, false>(p8, ldp8, ps, ldps, n_chunks, vq, width, sums, kW);
  }
  if constexpr (RB > RB0) {
    // The first pass brought the values in.
    pv_block<RB - RB0, NV, false>(p8 + static_cast<long>(RB0) * ldp8, ldp8, ps + static_cast<long>(RB0) * ldps, ldps,
                                  n_chunks, vq, width, sums + RB0 * kW, kW);
  }
  // Normalised, back in the values' units, the mean added back; zeros for a row that sees no key.
#pragma GCC unroll 16
  for (int c = 0; c < NV; ++c) {
    const __m512 sv = _mm512_loadu_ps(vscale + 16 * c), mv = _mm512_loadu_ps(vmean + 16 * c);
    for (int r = 0; r < RB; ++r) {
      float* o = out + static_cast<long>(r) * ldo + 16 * c;
      const __m512 x = _mm512_mul_ps(_mm512_load_ps(sums + r * kW + 16 * c), _mm512_mul_ps(sv, _mm512_set1_ps(inv[r])));
      _mm512_storeu_ps(o, row_lim[r] > 0 ? _mm512_add_ps(x, mv) : _mm512_setzero_ps());
    }
  }
}

template <int NV>
NPW_TARGET_AVX512_VNNI void task_nv(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq, const float* ks,
                                    int n_keys, const uint32_t* vq, int width, const float* vmean, const float* vscale,
                                    float alpha, const int* lim, float* out, int ldo, float* s, int lds, uint8_t* p8,
                                    int ldp8, float* ps, int ldps) {
  attention_avx512::for_row_blocks(rows, [&](auto rb, int r) {
    rows_block<decltype(rb)::value, NV>(q + static_cast<long>(r) * ldq, ldq, kq, ldkq, ks, n_keys, vq, width, vmean,
                                        vscale, alpha, lim + r, out + static_cast<long>(r) * ldo, ldo, s, lds, p8,
                                        ldp8, ps, ldps, r == 0);
  });
}

}  // namespace

NPW_TARGET_AVX512_VNNI void attention_task_int8_avx512(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq,
                                                       const float* kscale, int n_keys, const uint32_t* vq, int width,
                                                       const float* vmean, const float* vscale, int d_head,
                                                       float alpha, const int* lim, float* out, int ldo, float* s,
                                                       int lds, uint8_t* p8, int ldp8, float* ps, int ldps) {
  switch (d_head / 16) {
    case 1:
      task_nv<1>(q, ldq, rows, kq, ldkq, kscale, n_keys, vq, width, vmean, vscale, alpha, lim, out, ldo, s, lds, p8,
                 ldp8, ps, ldps);
      break;
    case 2:
      task_nv<2>(q, ldq, rows, kq, ldkq, kscale, n_keys, vq, width, vmean, vscale, alpha, lim, out, ldo, s, lds, p8,
                 ldp8, ps, ldps);
      break;
    case 4:
      task_nv<4>(q, ldq, rows, kq, ldkq, kscale, n_keys, vq, width, vmean, vscale, alpha, lim, out, ldo, s, lds, p8,
                 ldp8, ps, ldps);
      break;
    default: break;  // attention_bf16_takes() excludes the rest
  }
}

}  // namespace npw
