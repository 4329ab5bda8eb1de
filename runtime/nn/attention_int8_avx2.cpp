// The int8 attention task (both products with vpdpbusd) on AVX-VNNI's 256-bit form, for CPUs that have
// it without AVX-512 (Intel's client cores since Alder Lake, its E-core Xeons): there the attention
// otherwise runs in f32 and was half of the int8 encoder. The arithmetic is attention_int8_avx512.cpp's
// lane for lane (its comment says why each rounding), so the outputs are that task's bits: the int32
// sums are exact in any order, the u8 exps of a chunk come out of the packs in the same byte order
// (two 32-byte halves of its 64), and every float step - chunk scales, their sum, the scaling of each
// chunk's sums - runs in the same order on the same values. What differs is the register blocking:
// 16 registers of 8 lanes instead of 32 of 16.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "nn/attention_int8_parts_avx2.h"
#include "nn/attention_kernels.h"
#include "nn/attention_row_blocks.h"
#include "util/prefetch.h"
#include "util/simd_target.h"
#include "util/vec_math_avx2.h"
#include "util/vec_math_poly.h"

#define NPW_VNNI_INLINE NPW_TARGET_AVX2_VNNI static inline __attribute__((always_inline))

namespace npw {

namespace {

using attention_int8_avx2::abs8;
using attention_int8_avx2::round_127;

static_assert(kAttentionInt8ChunkKeys == 64, "a chunk is eight vectors of 8 exps, two halves of 32 bytes");

constexpr float kChunkMinExp = 1e-30f;             // as attention_int8_avx512.cpp
constexpr float kLog2Of255 = 7.99435343685886f;    // as attention_int8_avx512.cpp
constexpr int kKeyVectors = 2;                     // 8-key vectors of scores per row in registers
constexpr int kPvRows = 3;                         // rows per pass over the values

// acc + the dot products of a's u8 quads with b's s8 quads. In assembly so that one form serves a
// register or a memory b, and {vex} asks for AVX-VNNI's encoding, not AVX512_VNNI's.
NPW_VNNI_INLINE __m256i dpbusd(__m256i acc, __m256i a, __m256i b) {
  __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(b));
  return acc;
}
NPW_VNNI_INLINE __m256i dpbusd_mem(__m256i acc, __m256i a, const uint32_t* b) {
  __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "m"(*reinterpret_cast<const __m256i_u*>(b)));
  return acc;
}

// 2^x as avx512::exp2_u8_ps, bit for bit: the fraction x - round(x) is exact either way, and p 2^n
// through the exponent bits equals scalef's for these n (results stay normal).
NPW_VNNI_INLINE __m256 exp2_u8(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-125.0f));
  const __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(x, n);
  __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(0.05517167f), f, _mm256_set1_ps(0.24261119f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.69326099f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.99992807f));
  return avx2::times_pow2(p, n);
}

// Lane j of the result is the largest lane of a[j] (three folds, not a reduction per vector).
NPW_VNNI_INLINE __m256 lane_maxima(const __m256 (&a)[8]) {
  __m256 b[4], c[2];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    b[i] = _mm256_max_ps(_mm256_permute2f128_ps(a[i], a[i + 4], 0x20), _mm256_permute2f128_ps(a[i], a[i + 4], 0x31));
  }
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i) c[i] = _mm256_max_ps(_mm256_shuffle_ps(b[i], b[i + 2], 0x44), _mm256_shuffle_ps(b[i], b[i + 2], 0xEE));
  const __m256 d = _mm256_max_ps(_mm256_shuffle_ps(c[0], c[1], 0x88), _mm256_shuffle_ps(c[0], c[1], 0xDD));
  return _mm256_permute_ps(d, 0xD8);  // the folds leave sources 0, 2, 1, 3 in each half
}

inline uint32_t load4(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Query rows [0, RB) of one head (d_head = 8 NV) as s8 quads qq[r * d_head / 4 + P], each row's scale
// qs[r] = max |q| / 127 and qc[r] = 128 times the sum of its int8 values (what the keys' u8 offset
// adds to each product).
template <int RB, int NV>
NPW_VNNI_INLINE void quantize_queries(const float* q, int ldq, uint32_t* qq, float* qs, int* qc) {
  constexpr int NQ = 2 * NV;
  for (int r = 0; r < RB; ++r) {
    const float* qr = q + static_cast<long>(r) * ldq;
    __m256 m = _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int c = 0; c < NV; ++c) m = _mm256_max_ps(m, abs8(_mm256_loadu_ps(qr + 8 * c)));
    const float mx = avx2::hmax(m);
    qs[r] = mx / 127.0f;
    const __m256 inv = _mm256_set1_ps(attention_int8_avx2::int8_factor(mx));
    __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int c = 0; c < NV; ++c) {
      const __m256i i = round_127(_mm256_loadu_ps(qr + 8 * c), inv);
      sum = _mm256_add_epi32(sum, i);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(qq + r * NQ + 2 * c), attention_int8_avx2::bytes_of(i, 0));
    }
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
    qc[r] = 128 * _mm_cvtsi128_si32(h);
  }
}

// Scores of rows [0, RB) against keys [j0, j0 + 16): s = ks_j (q8 . k8_j) for the keys below nk, and
// each row's lane maxima of the keys it sees (below lim[r]) folded into its chunk's 8 floats at
// tops + r ldt + 16 (j0 / 64), where the chunk's bytes will go (stored by the chunk's first block,
// raised by the other three). kAll: every row sees all 16 keys (no masks). kPrefetch: key lines
// kAttentionInt8KeyPrefetchBytes further in each plane asked for into the L2 (see rows_block).
template <int RB, int NQ, bool kAll, bool kPrefetch>
NPW_VNNI_INLINE void score_block(const uint32_t* qq, const int* qc, const uint32_t* kq, int ldkq, const float* ks,
                                 int j0, int nk, const int* lim, float* s, int lds, float* tops, int ldt) {
  constexpr int KB = kKeyVectors;
  __m256i acc[RB][KB];
#pragma GCC unroll 8
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 2
    for (int c = 0; c < KB; ++c) acc[r][c] = _mm256_set1_epi32(-qc[r]);
  __m256i km[KB];
#pragma GCC unroll 2
  for (int c = 0; c < KB; ++c) km[c] = avx2::lane_mask(nk - j0 - 8 * c);
  const uint32_t* k = kq + j0;
#pragma GCC unroll 1
  for (int p = 0; p < NQ; ++p) {
    const uint32_t* kr = k + static_cast<long>(p) * ldkq;
    __m256i kv[KB];
#pragma GCC unroll 2
    for (int c = 0; c < KB; ++c) {
      kv[c] = kAll ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kr + 8 * c))
                   : _mm256_maskload_epi32(reinterpret_cast<const int*>(kr + 8 * c), km[c]);
    }
    if constexpr (kPrefetch) prefetch_bytes_past<PrefetchTo::L2>(kr, kAttentionInt8KeyPrefetchBytes);
#pragma GCC unroll 8
    for (int r = 0; r < RB; ++r) {
      const __m256i qv = _mm256_set1_epi32(static_cast<int>(qq[r * NQ + p]));
#pragma GCC unroll 2
      for (int c = 0; c < KB; ++c) acc[r][c] = dpbusd(acc[r][c], kv[c], qv);
    }
  }
  __m256 ksv[KB];
#pragma GCC unroll 2
  for (int c = 0; c < KB; ++c) ksv[c] = kAll ? _mm256_loadu_ps(ks + j0 + 8 * c) : _mm256_maskload_ps(ks + j0 + 8 * c, km[c]);
  const bool first = j0 % kAttentionInt8ChunkKeys == 0;
#pragma GCC unroll 8
  for (int r = 0; r < RB; ++r) {
    __m256 top = _mm256_set1_ps(-INFINITY);
#pragma GCC unroll 2
    for (int c = 0; c < KB; ++c) {
      const int jc = j0 + 8 * c;
      float* sr = s + static_cast<long>(r) * lds + jc;
      const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[r][c]), ksv[c]);
      if (kAll) {
        _mm256_storeu_ps(sr, v);
        top = _mm256_max_ps(top, v);
      } else {
        _mm256_maskstore_ps(sr, km[c], v);
        top = _mm256_blendv_ps(top, _mm256_max_ps(top, v), _mm256_castsi256_ps(avx2::lane_mask(lim[r] - jc)));
      }
    }
    float* t = tops + static_cast<long>(r) * ldt + j0 / kAttentionInt8ChunkKeys * 16;
    _mm256_storeu_ps(t, first ? top : _mm256_max_ps(_mm256_loadu_ps(t), top));
  }
}

// The scores of query rows [0, RB) of one head (d_head = 8 NV) against the keys each sees (row_lim[r],
// lim clamped to n_keys), with each chunk's lane maxima (score_block); qs as quantize_queries'.
// Returns the most keys any row sees (0: none, and the rows' outputs were zeroed). prefetch: ask for
// the keys ahead (rows_block says when).
template <int RB, int NV>
NPW_VNNI_INLINE int score_rows(const float* q, int ldq, const uint32_t* kq, int ldkq, const float* ks, int n_keys,
                               const int* lim, float* out, int ldo, float* s, int lds, int* row_lim, float* qs,
                               float* tops, int ldt, bool prefetch) {
  constexpr int d_head = 8 * NV, NQ = 2 * NV;
  const int nk = attention_rows::block_limits<RB>(lim, n_keys, row_lim, out, ldo, d_head);
  if (nk == 0) return 0;
  alignas(32) uint32_t qq[RB * NQ];
  int qc[RB];
  quantize_queries<RB, NV>(q, ldq, qq, qs, qc);
  constexpr int kBlockKeys = 8 * kKeyVectors;
  for (int j0 = 0; j0 < nk; j0 += kBlockKeys) {
    bool all = nk - j0 >= kBlockKeys;
    for (int r = 0; r < RB && all; ++r) all = row_lim[r] >= j0 + kBlockKeys;
    if (all && !prefetch) {
      score_block<RB, NQ, true, false>(qq, qc, kq, ldkq, ks, j0, nk, row_lim, s, lds, tops, ldt);
    } else if (all) {
      score_block<RB, NQ, true, true>(qq, qc, kq, ldkq, ks, j0, nk, row_lim, s, lds, tops, ldt);
    } else {
      // A block some row's limit cuts is among the row block's last: what lies ahead of it is past the
      // keys.
      score_block<RB, NQ, false, false>(qq, qc, kq, ldkq, ks, j0, nk, row_lim, s, lds, tops, ldt);
    }
  }
  return nk;
}

// One chunk of softmax_u8's second pass, keys [k0, k0 + 64): as attention_int8_avx512.cpp's chunk_u8,
// the bytes in the same order (the first 32 from vectors 0, 2, 4, 6, the rest from 1, 3, 5, 7, so
// that each 16-byte quarter holds the quads that quarter of the AVX-512 packs does) and the same
// eight partial sums.
template <bool kWhole>
NPW_VNNI_INLINE void chunk_u8(const float* s, int lim, int k0, __m256 a2, float at, float sc, uint8_t* p, __m256& sum) {
  const __m256 atj = _mm256_set1_ps(at);
  __m256i u[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    const float* si = s + k0 + 8 * i;
    if (kWhole) {
      u[i] = _mm256_cvtps_epi32(exp2_u8(_mm256_fmsub_ps(_mm256_loadu_ps(si), a2, atj)));
    } else if (lim - k0 - 8 * i <= 0) {
      u[i] = _mm256_setzero_si256();
    } else {
      const __m256i m = avx2::lane_mask(lim - k0 - 8 * i);
      u[i] = _mm256_and_si256(m, _mm256_cvtps_epi32(exp2_u8(_mm256_fmsub_ps(_mm256_maskload_ps(si, m), a2, atj))));
    }
  }
  const __m256i b0 = _mm256_packus_epi16(_mm256_packus_epi32(u[0], u[2]), _mm256_packus_epi32(u[4], u[6]));
  const __m256i b1 = _mm256_packus_epi16(_mm256_packus_epi32(u[1], u[3]), _mm256_packus_epi32(u[5], u[7]));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + k0), b0);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + k0 + 32), b1);
  // Sums of bytes 8i..8i+7 of the chunk's 64 in lane i (each below 2^11: exact as int32 and float).
  const __m256i zero = _mm256_setzero_si256();
  const __m256i w = _mm256_or_si256(_mm256_sad_epu8(b0, zero), _mm256_slli_epi64(_mm256_sad_epu8(b1, zero), 32));
  const __m256 part = _mm256_cvtepi32_ps(_mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7)));
  sum = _mm256_fmadd_ps(part, _mm256_set1_ps(sc), sum);
}

// As attention_int8_avx512.cpp's softmax_u8 (same arguments, same results), on 8 chunks at a time.
NPW_TARGET_AVX2_VNNI float softmax_u8(const float* s, int lim, int n_chunks, float alpha, uint8_t* p, float* ps) {
  const __m256 minus_inf = _mm256_set1_ps(-INFINITY);
  const float* tops = reinterpret_cast<const float*>(p);
  __m256 row_top = minus_inf;
  for (int g0 = 0; g0 < n_chunks; g0 += 8) {
    const int nc = std::min(8, n_chunks - g0);
    __m256 top[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) top[j] = j < nc ? _mm256_loadu_ps(tops + 16 * (g0 + j)) : minus_inf;
    const __m256 t = lane_maxima(top);
    _mm256_maskstore_ps(ps + g0, avx2::lane_mask(nc), t);
    row_top = _mm256_max_ps(row_top, t);
  }
  const float row_max = avx2::hmax(row_top);
  const __m256 a2 = _mm256_set1_ps(alpha * exp_poly::kLog2e);
  const __m256 am = _mm256_set1_ps(row_max * (alpha * exp_poly::kLog2e));
  __m256 sum = _mm256_setzero_ps();
  for (int g0 = 0; g0 < n_chunks; g0 += 8) {
    const int nc = std::min(8, n_chunks - g0);
    const __m256i mc = avx2::lane_mask(nc);
    const __m256 t = _mm256_blendv_ps(minus_inf, _mm256_maskload_ps(ps + g0, mc), _mm256_castsi256_ps(mc));
    const __m256 e_top = exp2_u8(_mm256_fmsub_ps(t, a2, am));
    const __m256 live = _mm256_cmp_ps(e_top, _mm256_set1_ps(kChunkMinExp), _CMP_GE_OQ);
    alignas(32) float at[8], sc[8];
    _mm256_store_ps(at, _mm256_fmsub_ps(t, a2, _mm256_set1_ps(kLog2Of255)));
    const __m256 scale = _mm256_mul_ps(_mm256_and_ps(live, e_top), _mm256_set1_ps(1.0f / 255.0f));
    _mm256_store_ps(sc, scale);
    _mm256_maskstore_ps(ps + g0, mc, scale);
    const int n_whole = std::min(nc, std::max(0, lim / kAttentionInt8ChunkKeys - g0));
    for (int j = 0; j < n_whole; ++j) chunk_u8<true>(s, lim, (g0 + j) * kAttentionInt8ChunkKeys, a2, at[j], sc[j], p, sum);
    for (int j = n_whole; j < nc; ++j) chunk_u8<false>(s, lim, (g0 + j) * kAttentionInt8ChunkKeys, a2, at[j], sc[j], p, sum);
  }
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
  const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return 1.0f / _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
}

// out rows [0, RB) (RB <= kPvRows, d_head = 8 NV) = sum over chunks of ps[r][chunk] times the chunk's
// int32 sums of u8 exps times int8 value quads (rows ld words apart), as attention_int8_avx512.cpp's
// pv_block: whole chunks, four value vectors at a time (12 sums, a broadcast, the values read from
// memory by the vpdpbusd itself). kPrefetch: value rows a chunk ahead asked for into the L2.
template <int RB, int NV, bool kPrefetch>
NPW_TARGET_AVX2_VNNI void pv_block(const uint8_t* p8, int ldp8, const float* ps, int ldps, int n_chunks,
                                   const uint32_t* vq, int ld, float* out, int ldo) {
  constexpr int kChunkQuads = kAttentionInt8ChunkKeys / 4;
  constexpr int CB = NV < 4 ? NV : 4;
  for (int r = 0; r < RB; ++r) std::fill(out + static_cast<long>(r) * ldo, out + static_cast<long>(r) * ldo + 8 * NV, 0.0f);
  for (int ch = 0; ch < n_chunks; ++ch) {
    const uint8_t* pc = p8 + ch * kAttentionInt8ChunkKeys;
    const uint32_t* vc = vq + static_cast<long>(ch) * kChunkQuads * ld;
#pragma GCC unroll 2
    for (int g = 0; g < NV; g += CB) {
      __m256i acc[RB][CB];
#pragma GCC unroll 4
      for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
        for (int c = 0; c < CB; ++c) acc[r][c] = _mm256_setzero_si256();
#pragma GCC unroll 16
      for (int i = 0; i < kChunkQuads; ++i) {
        const uint32_t* v = vc + static_cast<long>(i) * ld + 8 * g;
        if constexpr (kPrefetch) {
          for (int c = 0; c < CB; c += 2) {
            prefetch_bytes_past<PrefetchTo::L2>(v, sizeof(uint32_t) * (static_cast<std::size_t>(ld) * kAttentionInt8ValueRowsAhead + 8 * c));
          }
        }
#pragma GCC unroll 4
        for (int r = 0; r < RB; ++r) {
          const __m256i pr = _mm256_set1_epi32(static_cast<int>(load4(pc + static_cast<long>(r) * ldp8 + 4 * i)));
#pragma GCC unroll 4
          for (int c = 0; c < CB; ++c) acc[r][c] = dpbusd_mem(acc[r][c], pr, v + 8 * c);
        }
      }
#pragma GCC unroll 4
      for (int r = 0; r < RB; ++r) {
        const __m256 f = _mm256_set1_ps(ps[static_cast<long>(r) * ldps + ch]);
#pragma GCC unroll 4
        for (int c = 0; c < CB; ++c) {
          float* o = out + static_cast<long>(r) * ldo + 8 * (g + c);
          _mm256_storeu_ps(o, _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][c]), f, _mm256_loadu_ps(o)));
        }
      }
    }
  }
}

// Query rows [0, RB) of one head, d_head = 8 NV: the whole task for those rows. first: the task's first
// row block, the only one that asks for keys and values ahead, as in attention_int8_avx512.cpp: the
// blocks after it find them in the L2.
template <int RB, int NV>
NPW_TARGET_AVX2_VNNI void rows_block(const float* q, int ldq, const uint32_t* kq, int ldkq, const float* ks, int n_keys,
                                     const uint32_t* vq, int ld, const float* vmean, const float* vscale, float alpha,
                                     const int* lim, float* out, int ldo, float* s, int lds, uint8_t* p8, int ldp8,
                                     float* ps, int ldps, bool first) {
  int row_lim[RB];
  float qs[RB];
  const int nk = score_rows<RB, NV>(q, ldq, kq, ldkq, ks, n_keys, lim, out, ldo, s, lds, row_lim, qs,
                                    reinterpret_cast<float*>(p8), ldp8 / 4, first);
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
    inv[r] = softmax_u8(s + static_cast<long>(r) * lds, row_lim[r], n_chunks, alpha * qs[r], pr, psr);
  }
  constexpr int R0 = RB < kPvRows ? RB : kPvRows;
  if (first) {
    pv_block<R0, NV, true>(p8, ldp8, ps, ldps, n_chunks, vq, ld, out, ldo);
  } else {
    pv_block<R0, NV, false>(p8, ldp8, ps, ldps, n_chunks, vq, ld, out, ldo);
  }
  if constexpr (RB > R0) {
    // The first pass brought the values in.
    pv_block<RB - R0, NV, false>(p8 + static_cast<long>(R0) * ldp8, ldp8, ps + static_cast<long>(R0) * ldps, ldps, n_chunks,
                          vq, ld, out + static_cast<long>(R0) * ldo, ldo);
  }
  // Normalised, back in the values' units, the mean added back; zeros for a row that sees no key.
#pragma GCC unroll 8
  for (int c = 0; c < NV; ++c) {
    const __m256 sv = _mm256_loadu_ps(vscale + 8 * c), mv = _mm256_loadu_ps(vmean + 8 * c);
    for (int r = 0; r < RB; ++r) {
      float* o = out + static_cast<long>(r) * ldo + 8 * c;
      const __m256 x = _mm256_mul_ps(_mm256_loadu_ps(o), _mm256_mul_ps(sv, _mm256_set1_ps(inv[r])));
      _mm256_storeu_ps(o, row_lim[r] > 0 ? _mm256_add_ps(x, mv) : _mm256_setzero_ps());
    }
  }
}

template <int NV>
NPW_TARGET_AVX2_VNNI void task_nv(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq, const float* ks,
                                  int n_keys, const uint32_t* vq, int ld, const float* vmean, const float* vscale,
                                  float alpha, const int* lim, float* out, int ldo, float* s, int lds, uint8_t* p8,
                                  int ldp8, float* ps, int ldps) {
  attention_rows::for_row_blocks(rows, [&](auto rb, int r) {
    rows_block<decltype(rb)::value, NV>(q + static_cast<long>(r) * ldq, ldq, kq, ldkq, ks, n_keys, vq, ld, vmean,
                                        vscale, alpha, lim + r, out + static_cast<long>(r) * ldo, ldo, s, lds, p8,
                                        ldp8, ps, ldps, r == 0);
  });
}

}  // namespace

NPW_TARGET_AVX2_VNNI void attention_task_int8_avx2(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq,
                                                   const float* kscale, int n_keys, const uint32_t* vq, int width,
                                                   const float* vmean, const float* vscale, int d_head, float alpha,
                                                   const int* lim, float* out, int ldo, float* s, int lds, uint8_t* p8,
                                                   int ldp8, float* ps, int ldps) {
  switch (d_head / 16) {
    case 1:
      task_nv<2>(q, ldq, rows, kq, ldkq, kscale, n_keys, vq, width, vmean, vscale, alpha, lim, out, ldo, s, lds, p8,
                 ldp8, ps, ldps);
      break;
    case 2:
      task_nv<4>(q, ldq, rows, kq, ldkq, kscale, n_keys, vq, width, vmean, vscale, alpha, lim, out, ldo, s, lds, p8,
                 ldp8, ps, ldps);
      break;
    case 4:
      task_nv<8>(q, ldq, rows, kq, ldkq, kscale, n_keys, vq, width, vmean, vscale, alpha, lim, out, ldo, s, lds, p8,
                 ldp8, ps, ldps);
      break;
    default: break;  // attention_bf16_takes() excludes the rest
  }
}

}  // namespace npw
