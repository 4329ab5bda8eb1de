// Keys' means and values' statistics and quads in the int8 attention tasks' layouts (AVX-512 VNNI
// CPUs), from float rows: the encoder's, made afresh by every call, and the decoder's cross-attention
// keys and values of a window, made once by set_audio (prepare_int8_keys_values).
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
#include "util/vec_math_avx512.h"

namespace npw {

namespace {

// 16 lanes from p, those outside m zero.
NPW_TARGET_AVX512_VNNI inline __m512 load16(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }

// 16 columns' factors 127 / m (0 where m is 0 or the factor would overflow), as int8_factor's rule.
NPW_TARGET_AVX512_VNNI inline __m512 int8_factors(__m512 m) {
  const __m512 f = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(m, _mm512_setzero_ps(), _CMP_GT_OQ), _mm512_set1_ps(127.0f), m);
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(f, _mm512_set1_ps(std::numeric_limits<float>::max()), _CMP_LE_OQ), f);
}

NPW_TARGET_AVX512_VNNI void column_means(const float* x, int ld, int n, int c0, int c1, float* mean) {
  const float inv = n > 0 ? 1.0f / static_cast<float>(n) : 0.0f;
  for (int c = c0; c < c1; c += 16) {
    const __mmask16 m = avx512::tail_mask(c1 - c);
    // Four partial sums so that the adds of consecutive rows do not wait on each other.
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      for (int u = 0; u < 4; ++u) acc[u] = _mm512_add_ps(acc[u], load16(x + static_cast<long>(j + u) * ld + c, m));
    }
    for (; j < n; ++j) acc[0] = _mm512_add_ps(acc[0], load16(x + static_cast<long>(j) * ld + c, m));
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    _mm512_mask_storeu_ps(mean + c, m, _mm512_mul_ps(sum, _mm512_set1_ps(inv)));
  }
}

// One pass over the rows: each column's sum (in column_means' order, so the same mean), least and
// largest. v - mean rounds monotonically in v, so the largest |v - mean| is that of the least or the
// largest value: the same bits as a second pass over every row would give.
NPW_TARGET_AVX512_VNNI void value_stats(const float* v, int ldv, int n_kv, int c0, int c1, float* mean, float* scale,
                                        float* inv) {
  const float inv_n = n_kv > 0 ? 1.0f / static_cast<float>(n_kv) : 0.0f;
  for (int c = c0; c < c1; c += 16) {
    const __mmask16 m = avx512::tail_mask(c1 - c);
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    __m512 lo = _mm512_set1_ps(std::numeric_limits<float>::infinity()), hi = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    int j = 0;
    for (; j + 4 <= n_kv; j += 4) {
      for (int u = 0; u < 4; ++u) {
        const __m512 x = load16(v + static_cast<long>(j + u) * ldv + c, m);
        acc[u] = _mm512_add_ps(acc[u], x);
        lo = _mm512_min_ps(lo, x);
        hi = _mm512_max_ps(hi, x);
      }
    }
    for (; j < n_kv; ++j) {
      const __m512 x = load16(v + static_cast<long>(j) * ldv + c, m);
      acc[0] = _mm512_add_ps(acc[0], x);
      lo = _mm512_min_ps(lo, x);
      hi = _mm512_max_ps(hi, x);
    }
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    const __m512 mu = _mm512_mul_ps(sum, _mm512_set1_ps(inv_n));
    _mm512_mask_storeu_ps(mean + c, m, mu);
    const __m512 top = n_kv > 0 ? _mm512_max_ps(_mm512_abs_ps(_mm512_sub_ps(hi, mu)), _mm512_abs_ps(_mm512_sub_ps(lo, mu)))
                                : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(scale + c, m, _mm512_div_ps(top, _mm512_set1_ps(127.0f)));
    _mm512_mask_storeu_ps(inv + c, m, int8_factors(top));
  }
}

NPW_TARGET_AVX512_VNNI void convert_values(const float* v, int ldv, int n_kv, int q0, int q1, int width, const float* mean,
                                           const float* inv, uint32_t* vq) {
  constexpr int kChunkQuads = kAttentionInt8ChunkKeys / 4;
  for (int c = 0; c < width; c += 16) {
    const __mmask16 m = avx512::tail_mask(width - c);
    const __m512 mu = _mm512_maskz_loadu_ps(m, mean + c);
    const __m512 f = _mm512_maskz_loadu_ps(m, inv + c);
    for (int jq = q0; jq < q1; ++jq) {
      __m512i word = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        const int j = 4 * jq + i;
        if (j >= n_kv) break;
        const __m512 x = _mm512_sub_ps(load16(v + static_cast<long>(j) * ldv + c, m), mu);
        const __m512i b = _mm512_and_si512(attention_int8::round_127(x, f), _mm512_set1_epi32(0xFF));
        word = _mm512_or_si512(word, _mm512_slli_epi32(b, 8 * i));
      }
      const int slot = jq / kChunkQuads * kChunkQuads + kInt8ChunkSlot(jq % kChunkQuads);
      _mm512_mask_storeu_epi32(vq + static_cast<long>(slot) * width + c, m, word);
    }
  }
}

}  // namespace

NPW_TARGET_AVX512_VNNI void attention_int8_key_means(const float* k, int ldk, int n_kv, int c0, int c1, float* mean) {
  column_means(k, ldk, n_kv, c0, c1, mean);
}

NPW_TARGET_AVX512_VNNI void attention_int8_value_stats(const float* v, int ldv, int n_kv, int c0, int c1, float* mean,
                                                       float* scale, float* inv) {
  value_stats(v, ldv, n_kv, c0, c1, mean, scale, inv);
}

NPW_TARGET_AVX512_VNNI void attention_int8_convert_values(const float* v, int ldv, int n_kv, int q0, int q1, int width,
                                                          const float* mean, const float* inv, uint32_t* vq) {
  convert_values(v, ldv, n_kv, q0, q1, width, mean, inv, vq);
}

}  // namespace npw
