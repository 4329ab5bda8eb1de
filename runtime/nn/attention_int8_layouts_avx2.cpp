// The int8 attention task's layouts made at the AVX2 level (CPUs with AVX-VNNI but no AVX-512: Intel's
// client cores since Alder Lake, its E-core Xeons): keys' means, values' statistics and both sets of
// quads, the very bits of attention_int8_layouts_avx512.cpp's (same operations lane by lane, same
// summation order), so that a window's decoder store and an encoder call hold the same quads on
// either level. Plain AVX2: nothing here needs AVX-VNNI.
#include <algorithm>
#include <cstdint>
#include <limits>

#include <immintrin.h>

#include "nn/attention_int8_parts_avx2.h"
#include "nn/attention_kernels.h"
#include "util/simd_target.h"
#include "util/transpose_avx2.h"
#include "util/vec_math_avx2.h"

namespace npw {

namespace {

using attention_int8_avx2::abs8;
using attention_int8_avx2::round_127;

// Columns per pass, as the AVX-512 file's (partial sums of one pass on the stack).
constexpr int kMaxWidth = 1024;

// 8 lanes from p, those outside m zero (no read there).
NPW_AVX2_INLINE __m256 load8(const float* p, __m256i m) { return _mm256_maskload_ps(p, m); }

// 8 columns' factors 127 / m (0 where m is not above 0 or the factor would overflow): int8_factor's rule.
NPW_AVX2_INLINE __m256 int8_factors(__m256 m) {
  const __m256 f = _mm256_div_ps(_mm256_set1_ps(127.0f), m);
  const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(m, _mm256_setzero_ps(), _CMP_GT_OQ),
                                  _mm256_cmp_ps(f, _mm256_set1_ps(std::numeric_limits<float>::max()), _CMP_LE_OQ));
  return _mm256_and_ps(ok, f);
}

// Columns [c0, c1) of rows [0, n): four partial sums per column (row j into part j % 4, the rows past
// the last multiple of 4 into part 0: the AVX-512 file's order), and with kRange each column's least
// and largest. parts: [4][w], lo and hi [w], w = c1 - c0 rounded up to 8.
template <bool kRange>
NPW_TARGET_AVX2 void column_passes(const float* x, int ld, int n, int c0, int c1, float* parts, float* lo, float* hi) {
  const int w = (c1 - c0 + 7) / 8 * 8;
  for (int u = 0; u < 4; ++u) std::fill(parts + static_cast<long>(u) * w, parts + static_cast<long>(u + 1) * w, 0.0f);
  if (kRange) {
    std::fill(lo, lo + w, std::numeric_limits<float>::infinity());
    std::fill(hi, hi + w, -std::numeric_limits<float>::infinity());
  }
  const int n4 = n / 4 * 4;
  for (int j = 0; j < n; ++j) {
    const float* row = x + static_cast<long>(j) * ld + c0;
    float* part = parts + static_cast<long>(j < n4 ? j % 4 : 0) * w;
    for (int c = 0; c < w; c += 8) {
      const __m256 v = c + 8 <= c1 - c0 ? _mm256_loadu_ps(row + c) : load8(row + c, avx2::lane_mask(c1 - c0 - c));
      _mm256_store_ps(part + c, _mm256_add_ps(_mm256_load_ps(part + c), v));
      if (kRange) {
        _mm256_store_ps(lo + c, _mm256_min_ps(_mm256_load_ps(lo + c), v));
        _mm256_store_ps(hi + c, _mm256_max_ps(_mm256_load_ps(hi + c), v));
      }
    }
  }
}

NPW_AVX2_INLINE void store8(float* p, int n, __m256 v) {
  if (n >= 8) {
    _mm256_storeu_ps(p, v);
  } else {
    _mm256_maskstore_ps(p, avx2::lane_mask(n), v);
  }
}

NPW_AVX2_INLINE __m256 sum_parts(const float* parts, int w, int c) {
  return _mm256_add_ps(_mm256_add_ps(_mm256_load_ps(parts + c), _mm256_load_ps(parts + w + c)),
                       _mm256_add_ps(_mm256_load_ps(parts + 2 * w + c), _mm256_load_ps(parts + 3 * w + c)));
}

NPW_TARGET_AVX2 void column_means(const float* x, int ld, int n, int c0, int c1, float* mean) {
  const float inv = n > 0 ? 1.0f / static_cast<float>(n) : 0.0f;
  alignas(32) float parts[4 * kMaxWidth];
  for (int s0 = c0; s0 < c1; s0 += kMaxWidth) {
    const int s1 = std::min(c1, s0 + kMaxWidth), w = (s1 - s0 + 7) / 8 * 8;
    column_passes<false>(x, ld, n, s0, s1, parts, nullptr, nullptr);
    for (int c = 0; c < w; c += 8) store8(mean + s0 + c, s1 - s0 - c, _mm256_mul_ps(sum_parts(parts, w, c), _mm256_set1_ps(inv)));
  }
}

// As the AVX-512 file's value_stats: the largest |v - mean| from each column's least and largest.
NPW_TARGET_AVX2 void value_stats(const float* v, int ldv, int n_kv, int c0, int c1, float* mean, float* scale,
                                 float* inv) {
  const float inv_n = n_kv > 0 ? 1.0f / static_cast<float>(n_kv) : 0.0f;
  alignas(32) float parts[4 * kMaxWidth], lo[kMaxWidth], hi[kMaxWidth];
  for (int s0 = c0; s0 < c1; s0 += kMaxWidth) {
    const int s1 = std::min(c1, s0 + kMaxWidth), w = (s1 - s0 + 7) / 8 * 8;
    column_passes<true>(v, ldv, n_kv, s0, s1, parts, lo, hi);
    for (int c = 0; c < w; c += 8) {
      const int n = s1 - s0 - c;
      const __m256 mu = _mm256_mul_ps(sum_parts(parts, w, c), _mm256_set1_ps(inv_n));
      store8(mean + s0 + c, n, mu);
      const __m256 top = n_kv > 0 ? _mm256_max_ps(abs8(_mm256_sub_ps(_mm256_load_ps(hi + c), mu)),
                                                  abs8(_mm256_sub_ps(_mm256_load_ps(lo + c), mu)))
                                  : _mm256_setzero_ps();
      store8(scale + s0 + c, n, _mm256_div_ps(top, _mm256_set1_ps(127.0f)));
      store8(inv + s0 + c, n, int8_factors(top));
    }
  }
}

NPW_TARGET_AVX2 void convert_values(const float* v, int ldv, int n_kv, int q0, int q1, int width, const float* mean,
                                    const float* inv, const Int8ValueLayout& out) {
  constexpr int kChunkQuads = kAttentionInt8ChunkKeys / 4;
  for (int jq = q0; jq < q1; ++jq) {
    const int slot = jq / kChunkQuads * kChunkQuads + kInt8ChunkSlot(jq % kChunkQuads);
    const int keys = std::min(4, n_kv - 4 * jq);
    const float* rows = v + static_cast<long>(4 * jq) * ldv;
    for (int c = 0; c < width; c += 8) {
      const __m256i m = avx2::lane_mask(width - c);
      const __m256 mu = load8(mean + c, m);
      const __m256 f = load8(inv + c, m);
      __m256i word = _mm256_setzero_si256();
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        if (i >= keys) break;
        const __m256 x = _mm256_sub_ps(load8(rows + static_cast<long>(i) * ldv + c, m), mu);
        const __m256i b = _mm256_and_si256(round_127(x, f), _mm256_set1_epi32(0xFF));
        word = _mm256_or_si256(word, _mm256_slli_epi32(b, 8 * i));
      }
      uint32_t* head = out.vq + static_cast<std::size_t>(c / out.d_head) * out.head_stride;
      _mm256_maskstore_epi32(reinterpret_cast<int*>(head + static_cast<long>(slot) * out.ld + c % out.d_head), m, word);
    }
  }
}

// Keys [j0, j0 + n) (n <= 8) of one head, d_head = 8 NV: each key's scale and quads, then the quads of
// the 8 keys transposed 8 quad rows at a time so that each quad row takes its keys in one store.
template <int NV>
NPW_TARGET_AVX2 void convert_key_block(const float* k, int ldk, int j0, int n, const float* mu, uint32_t* kq, int ldkq,
                                       float* kscale) {
  constexpr int nq = 2 * NV;  // quads per key: 4 dimensions each
  alignas(32) uint32_t quads[8][nq];
  for (int i = 0; i < 8; ++i) {
    if (i >= n) {
      std::fill(quads[i], quads[i] + nq, 0u);
      continue;
    }
    const float* x = k + static_cast<long>(j0 + i) * ldk;
    __m256 top = _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int c = 0; c < NV; ++c) top = _mm256_max_ps(top, abs8(_mm256_sub_ps(_mm256_loadu_ps(x + 8 * c), _mm256_loadu_ps(mu + 8 * c))));
    const float m = avx2::hmax(top);
    kscale[j0 + i] = m / 127.0f;
    const __m256 inv = _mm256_set1_ps(attention_int8_avx2::int8_factor(m));
#pragma GCC unroll 8
    for (int c = 0; c < NV; ++c) {
      const __m256i q = round_127(_mm256_sub_ps(_mm256_loadu_ps(x + 8 * c), _mm256_loadu_ps(mu + 8 * c)), inv);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(&quads[i][2 * c]), attention_int8_avx2::bytes_of(q, 128));
    }
  }
  const __m256i keys = avx2::lane_mask(n);
  for (int p0 = 0; p0 < nq; p0 += 8) {
    // Rows of 8 quads of each key (fewer for d_head 16: the rest zeros, never stored).
    __m256i r[8];
    for (int i = 0; i < 8; ++i) {
      r[i] = p0 + 8 <= nq ? _mm256_load_si256(reinterpret_cast<const __m256i*>(&quads[i][p0]))
                          : _mm256_maskload_epi32(reinterpret_cast<const int*>(&quads[i][p0]), avx2::lane_mask(nq - p0));
    }
    avx2::transpose8(r);
    for (int p = p0; p < std::min(nq, p0 + 8); ++p) {
      int* dst = reinterpret_cast<int*>(kq + static_cast<long>(p) * ldkq + j0);
      if (n == 8) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), r[p - p0]);
      } else {
        _mm256_maskstore_epi32(dst, keys, r[p - p0]);
      }
    }
  }
}

template <int NV>
NPW_TARGET_AVX2 void convert_keys(const float* k, int ldk, int n_kv, int width, const float* mean, uint32_t* kq,
                                  int ldkq, float* kscale) {
  constexpr int d_head = 8 * NV, nq = 2 * NV;
  const int n_head = width / d_head;
  for (int j0 = 0; j0 < n_kv; j0 += 8) {
    const int n = std::min(8, n_kv - j0);
    for (int h = 0; h < n_head; ++h) {
      convert_key_block<NV>(k + h * d_head, ldk, j0, n, mean + h * d_head, kq + static_cast<long>(h) * nq * ldkq, ldkq,
                            kscale + static_cast<long>(h) * ldkq);
    }
  }
}

}  // namespace

NPW_TARGET_AVX2 void attention_int8_convert_keys_avx2(const float* k, int ldk, int n_kv, int width, int d_head,
                                                      const float* mean, uint32_t* kq, int ldkq, float* kscale) {
  switch (d_head / 16) {
    case 1: convert_keys<2>(k, ldk, n_kv, width, mean, kq, ldkq, kscale); break;
    case 2: convert_keys<4>(k, ldk, n_kv, width, mean, kq, ldkq, kscale); break;
    case 4: convert_keys<8>(k, ldk, n_kv, width, mean, kq, ldkq, kscale); break;
    default: break;  // attention_bf16_takes() excludes the rest
  }
}

NPW_TARGET_AVX2 void attention_int8_key_means_avx2(const float* k, int ldk, int n_kv, int c0, int c1, float* mean) {
  column_means(k, ldk, n_kv, c0, c1, mean);
}

NPW_TARGET_AVX2 void attention_int8_value_stats_avx2(const float* v, int ldv, int n_kv, int c0, int c1, float* mean,
                                                     float* scale, float* inv) {
  value_stats(v, ldv, n_kv, c0, c1, mean, scale, inv);
}

NPW_TARGET_AVX2 void attention_int8_convert_values_avx2(const float* v, int ldv, int n_kv, int q0, int q1, int width,
                                                        const float* mean, const float* inv, const Int8ValueLayout& out) {
  convert_values(v, ldv, n_kv, q0, q1, width, mean, inv, out);
}

}  // namespace npw
