// Keys' means and values' statistics and quads in the int8 attention tasks' layouts (AVX-512 VNNI
// CPUs), from float rows: the encoder's, made afresh by every call, and the decoder's cross-attention
// keys and values of a window, made once by set_audio (prepare_int8_keys_values).
#include <algorithm>
#include <cstdint>
#include <limits>

#include "nn/attention_kernels.h"

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "nn/attention_int8_parts_avx512.h"
#include "util/simd_target.h"
#include "util/transpose_avx512.h"
#include "util/vec_math_avx512.h"

namespace npw {

namespace {

using attention_int8::round_127;

// 16 lanes from p, those outside m zero.
NPW_TARGET_AVX512_VNNI inline __m512 load16(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }

// 16 columns' factors 127 / m (0 where m is 0 or the factor would overflow), as int8_factor's rule.
NPW_TARGET_AVX512_VNNI inline __m512 int8_factors(__m512 m) {
  const __m512 f = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(m, _mm512_setzero_ps(), _CMP_GT_OQ), _mm512_set1_ps(127.0f), m);
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(f, _mm512_set1_ps(std::numeric_limits<float>::max()), _CMP_LE_OQ), f);
}

// Every pass reads whole rows, in order: a column strip of 16 floats over all the rows (each row a
// different page, ldk floats apart) left each load an L3 miss that no prefetcher foresaw, 10 GB/s
// (tiny's 1500 x 384 keys' means 215 us on one Xeon core, the values' statistics 200, their
// conversion 232); row by row the streams are sequential. The sums keep column_means' order
// exactly (four partial sums, row j into partial j % 4, the rows past the last multiple of four into
// the first), so the means are the same floats as before, whatever the pass order.
// Columns per pass (the partial sums of one are 16 KiB of the stack; medium's rows of 1024 in one,
// large's 1280 in two).
constexpr int kMaxWidth = 1024;

// Columns [c0, c1) of rows [0, n): four partial sums per column (row j into part j % 4, the rows
// past the last multiple of 4 into part 0), and with lo / hi (may be null) each column's least and
// largest. parts: [4][c1 - c0 rounded up to 16], lo and hi [c1 - c0 rounded up to 16].
template <bool kRange>
NPW_TARGET_AVX512_VNNI void column_passes(const float* x, int ld, int n, int c0, int c1, float* parts, float* lo,
                                          float* hi) {
  const int w = (c1 - c0 + 15) / 16 * 16;
  for (int u = 0; u < 4; ++u) std::fill(parts + static_cast<long>(u) * w, parts + static_cast<long>(u + 1) * w, 0.0f);
  if (kRange) {
    std::fill(lo, lo + w, std::numeric_limits<float>::infinity());
    std::fill(hi, hi + w, -std::numeric_limits<float>::infinity());
  }
  const int n4 = n / 4 * 4;
  for (int j = 0; j < n; ++j) {
    const float* row = x + static_cast<long>(j) * ld + c0;
    float* part = parts + static_cast<long>(j < n4 ? j % 4 : 0) * w;
    for (int c = 0; c < w; c += 16) {
      const __m512 v = load16(row + c, avx512::tail_mask(c1 - c0 - c));
      _mm512_store_ps(part + c, _mm512_add_ps(_mm512_load_ps(part + c), v));
      if (kRange) {
        _mm512_store_ps(lo + c, _mm512_min_ps(_mm512_load_ps(lo + c), v));
        _mm512_store_ps(hi + c, _mm512_max_ps(_mm512_load_ps(hi + c), v));
      }
    }
  }
}

NPW_TARGET_AVX512_VNNI void column_means(const float* x, int ld, int n, int c0, int c1, float* mean) {
  const float inv = n > 0 ? 1.0f / static_cast<float>(n) : 0.0f;
  alignas(64) float parts[4 * kMaxWidth];
  for (int s0 = c0; s0 < c1; s0 += kMaxWidth) {
    const int s1 = std::min(c1, s0 + kMaxWidth), w = (s1 - s0 + 15) / 16 * 16;
    column_passes<false>(x, ld, n, s0, s1, parts, nullptr, nullptr);
    for (int c = 0; c < w; c += 16) {
      const __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_load_ps(parts + c), _mm512_load_ps(parts + w + c)),
                                       _mm512_add_ps(_mm512_load_ps(parts + 2 * w + c), _mm512_load_ps(parts + 3 * w + c)));
      _mm512_mask_storeu_ps(mean + s0 + c, avx512::tail_mask(s1 - s0 - c), _mm512_mul_ps(sum, _mm512_set1_ps(inv)));
    }
  }
}

// Each column's sum (in column_means' order, so the same mean), least and largest. v - mean rounds
// monotonically in v, so the largest |v - mean| is that of the least or the largest value: the same
// bits as a second pass over every row would give.
NPW_TARGET_AVX512_VNNI void value_stats(const float* v, int ldv, int n_kv, int c0, int c1, float* mean, float* scale,
                                        float* inv) {
  const float inv_n = n_kv > 0 ? 1.0f / static_cast<float>(n_kv) : 0.0f;
  alignas(64) float parts[4 * kMaxWidth], lo[kMaxWidth], hi[kMaxWidth];
  for (int s0 = c0; s0 < c1; s0 += kMaxWidth) {
    const int s1 = std::min(c1, s0 + kMaxWidth), w = (s1 - s0 + 15) / 16 * 16;
    column_passes<true>(v, ldv, n_kv, s0, s1, parts, lo, hi);
    for (int c = 0; c < w; c += 16) {
      const __mmask16 m = avx512::tail_mask(s1 - s0 - c);
      const __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_load_ps(parts + c), _mm512_load_ps(parts + w + c)),
                                       _mm512_add_ps(_mm512_load_ps(parts + 2 * w + c), _mm512_load_ps(parts + 3 * w + c)));
      const __m512 mu = _mm512_mul_ps(sum, _mm512_set1_ps(inv_n));
      _mm512_mask_storeu_ps(mean + s0 + c, m, mu);
      const __m512 top = n_kv > 0 ? _mm512_max_ps(_mm512_abs_ps(_mm512_sub_ps(_mm512_load_ps(hi + c), mu)),
                                                  _mm512_abs_ps(_mm512_sub_ps(_mm512_load_ps(lo + c), mu)))
                                  : _mm512_setzero_ps();
      _mm512_mask_storeu_ps(scale + s0 + c, m, _mm512_div_ps(top, _mm512_set1_ps(127.0f)));
      _mm512_mask_storeu_ps(inv + s0 + c, m, int8_factors(top));
    }
  }
}

NPW_TARGET_AVX512_VNNI void convert_values(const float* v, int ldv, int n_kv, int q0, int q1, int width, const float* mean,
                                           const float* inv, const Int8ValueLayout& out) {
  constexpr int kChunkQuads = kAttentionInt8ChunkKeys / 4;
  for (int jq = q0; jq < q1; ++jq) {
    const int slot = jq / kChunkQuads * kChunkQuads + kInt8ChunkSlot(jq % kChunkQuads);
    const int keys = std::min(4, n_kv - 4 * jq);
    const float* rows = v + static_cast<long>(4 * jq) * ldv;
    for (int c = 0; c < width; c += 16) {
      const __mmask16 m = avx512::tail_mask(width - c);
      const __m512 mu = _mm512_maskz_loadu_ps(m, mean + c);
      const __m512 f = _mm512_maskz_loadu_ps(m, inv + c);
      __m512i word = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        if (i >= keys) break;
        const __m512 x = _mm512_sub_ps(load16(rows + static_cast<long>(i) * ldv + c, m), mu);
        const __m512i b = _mm512_and_si512(attention_int8::round_127(x, f), _mm512_set1_epi32(0xFF));
        word = _mm512_or_si512(word, _mm512_slli_epi32(b, 8 * i));
      }
      uint32_t* head = out.vq + static_cast<std::size_t>(c / out.d_head) * out.head_stride;
      _mm512_mask_storeu_epi32(head + static_cast<long>(slot) * out.ld + c % out.d_head, m, word);
    }
  }
}

// Keys [j0, j0 + n) (n <= 16) of head h, d_head = 16 NV. The 16 keys' largest magnitudes side by side
// in one vector (lane_maxima: one fold for all, not a reduction per key), so their scales and factors
// are two vector divisions; each key's quads built in a register; then the 16 keys' quads transposed
// so that each quad row takes its 16 keys in one store. Per key, a reduction, two scalar divisions,
// its bytes stored and read back as one vector (a store-forwarding stall) and a scatter of its quads
// cost 220 ns a key row of tiny's six heads on a Xeon core.
template <int NV>
NPW_TARGET_AVX512_VNNI void convert_key_block(const float* k, int ldk, int j0, int n, const float* mu, uint32_t* kq,
                                              int ldkq, float* kscale) {
  constexpr int nq = 4 * NV;
  __m512 mv[NV];
#pragma GCC unroll 4
  for (int c = 0; c < NV; ++c) mv[c] = _mm512_loadu_ps(mu + 16 * c);
  __m512 top[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    top[i] = _mm512_setzero_ps();
    if (i >= n) continue;
    const float* x = k + static_cast<long>(j0 + i) * ldk;
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c) top[i] = _mm512_max_ps(top[i], _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(x + 16 * c), mv[c])));
  }
  const __m512 m = avx512::lane_maxima(top);
  const __mmask16 keys = avx512::tail_mask(n);
  _mm512_mask_storeu_ps(kscale + j0, keys, _mm512_div_ps(m, _mm512_set1_ps(127.0f)));
  alignas(64) float factor[16];
  _mm512_store_ps(factor, int8_factors(m));
  __m512i quads[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    quads[i] = _mm512_setzero_si512();
    if (i >= n) continue;
    const float* x = k + static_cast<long>(j0 + i) * ldk;
    const __m512 inv = _mm512_set1_ps(factor[i]);
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c) {
      const __m512i q = round_127(_mm512_sub_ps(_mm512_loadu_ps(x + 16 * c), mv[c]), inv);
      const __m128i b = _mm512_cvtepi32_epi8(_mm512_add_epi32(q, _mm512_set1_epi32(128)));
      quads[i] = _mm512_mask_broadcast_i32x4(quads[i], static_cast<__mmask16>(0xFu << (4 * c)), b);
    }
  }
  avx512::transpose16(quads);
#pragma GCC unroll 16
  for (int p = 0; p < nq; ++p) _mm512_mask_storeu_epi32(kq + static_cast<long>(p) * ldkq + j0, keys, quads[p]);
}

template <int NV>
NPW_TARGET_AVX512_VNNI void convert_keys(const float* k, int ldk, int n_kv, int width, const float* mean, uint32_t* kq,
                                         int ldkq, float* kscale) {
  constexpr int d_head = 16 * NV, nq = 4 * NV;
  const int n_head = width / d_head;
  for (int j0 = 0; j0 < n_kv; j0 += 16) {
    const int n = std::min(16, n_kv - j0);
    for (int h = 0; h < n_head; ++h) {
      convert_key_block<NV>(k + h * d_head, ldk, j0, n, mean + h * d_head, kq + static_cast<long>(h) * nq * ldkq, ldkq,
                            kscale + static_cast<long>(h) * ldkq);
    }
  }
}

}  // namespace

NPW_TARGET_AVX512_VNNI void attention_int8_convert_keys(const float* k, int ldk, int n_kv, int width, int d_head,
                                                      const float* mean, uint32_t* kq, int ldkq, float* kscale) {
  switch (d_head / 16) {
    case 1: convert_keys<1>(k, ldk, n_kv, width, mean, kq, ldkq, kscale); break;
    case 2: convert_keys<2>(k, ldk, n_kv, width, mean, kq, ldkq, kscale); break;
    case 4: convert_keys<4>(k, ldk, n_kv, width, mean, kq, ldkq, kscale); break;
    default: break;  // attention_bf16_takes() excludes the rest
  }
}

NPW_TARGET_AVX512_VNNI void attention_int8_key_means(const float* k, int ldk, int n_kv, int c0, int c1, float* mean) {
  column_means(k, ldk, n_kv, c0, c1, mean);
}

NPW_TARGET_AVX512_VNNI void attention_int8_value_stats(const float* v, int ldv, int n_kv, int c0, int c1, float* mean,
                                                       float* scale, float* inv) {
  value_stats(v, ldv, n_kv, c0, c1, mean, scale, inv);
}

NPW_TARGET_AVX512_VNNI void attention_int8_convert_values(const float* v, int ldv, int n_kv, int q0, int q1, int width,
                                                          const float* mean, const float* inv,
                                                          const Int8ValueLayout& out) {
  convert_values(v, ldv, n_kv, q0, q1, width, mean, inv, out);
}

}  // namespace npw
