// The bf16 pair layouts of keys and values (attention_kernels.h), converted once per attention call
// for both bf16 attention tasks (AMX tiles and AVX512_BF16): compiled for AVX512_BF16 alone, so the
// conversion runs on CPUs without the tile unit too.
#include <algorithm>

#include "nn/attention_kernels.h"

// GCC 12 reports its own intrinsics' undefined-vector idiom (__Y = __Y) as (maybe-)uninitialised; the
// warning points into the header, so it is silenced before the header is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "nn/bf16_pairs_avx512.h"
#include "util/vec_math_avx512.h"

namespace npw {

bool attention_bf16_takes(int d_head) { return d_head == 16 || d_head == 32 || d_head == 64; }

NPW_TARGET_AVX512_BF16 void attention_bf16_convert_keys(const float* k, int ldk, int n_kv, int width, uint32_t* kp,
                                                        int ldkp) {
  const int n_pairs = width / 2;
  const __m512i stride = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(ldkp));
  for (int j = 0; j < n_kv; ++j) {
    const float* row = k + static_cast<long>(j) * ldk;
    for (int p0 = 0; p0 < n_pairs; p0 += 16) {
      const int n = std::min(16, n_pairs - p0);
      const __mmask16 m = avx512::tail_mask(n);
      const __mmask16 lo = avx512::tail_mask(2 * n), hi = avx512::tail_mask(2 * n - 16);
      const __m512i pr =
          avx512::pairs_of(_mm512_maskz_loadu_ps(lo, row + 2 * p0), _mm512_maskz_loadu_ps(hi, row + 2 * p0 + 16));
      _mm512_mask_i32scatter_epi32(kp + static_cast<long>(p0) * ldkp + j, m, stride, pr, 4);
    }
  }
}

namespace {

// 16 elements from p under mask m as floats: floats as they are, halves widened (exactly, so the
// pairs of halves are those of their widened floats).
NPW_TARGET_AVX512_BF16 static inline __attribute__((always_inline)) __m512 lanes(const float* p, __mmask16 m) {
  return _mm512_maskz_loadu_ps(m, p);
}
NPW_TARGET_AVX512_BF16 static inline __attribute__((always_inline)) __m512 lanes(const uint16_t* p, __mmask16 m) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

// Value pairs of rows (2 jp, 2 jp + 1), ldv elements apart.
template <typename T>
NPW_TARGET_AVX512_BF16 static inline void value_pairs(const T* v, int ldv, int n_kv, int width, uint32_t* vp) {
  for (int jp = 0; jp < (n_kv + 1) / 2; ++jp) {
    const T* a = v + static_cast<long>(2 * jp) * ldv;
    const T* b = 2 * jp + 1 < n_kv ? a + ldv : nullptr;
    uint32_t* out = vp + static_cast<long>(jp) * width;
    for (int c = 0; c < width; c += 16) {
      const __mmask16 m = avx512::tail_mask(width - c);
      const __m512i lo = avx512::bf16_lanes(lanes(a + c, m));
      const __m512i hi = b ? avx512::bf16_lanes(lanes(b + c, m)) : _mm512_setzero_si512();
      _mm512_mask_storeu_epi32(out + c, m, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
  }
}

// Key pairs from transposed keys: pair P of key j from rows 2P and 2P + 1 (ldkt elements apart).
template <typename T>
NPW_TARGET_AVX512_BF16 static inline void transposed_key_pairs(const T* kt, int ldkt, int n_kv, int width, uint32_t* kp,
                                                               int ldkp) {
  for (int p = 0; p < width / 2; ++p) {
    const T* a = kt + static_cast<long>(2 * p) * ldkt;
    const T* b = a + ldkt;
    uint32_t* out = kp + static_cast<long>(p) * ldkp;
    for (int j = 0; j < n_kv; j += 16) {
      const __mmask16 m = avx512::tail_mask(n_kv - j);
      const __m512i lo = avx512::bf16_lanes(lanes(a + j, m));
      const __m512i hi = avx512::bf16_lanes(lanes(b + j, m));
      _mm512_mask_storeu_epi32(out + j, m, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
  }
}

}  // namespace

NPW_TARGET_AVX512_BF16 void attention_bf16_convert_values(const float* v, int ldv, int n_kv, int width, uint32_t* vp) {
  value_pairs(v, ldv, n_kv, width, vp);
}

NPW_TARGET_AVX512_BF16 void attention_bf16_convert_keys_t(const float* kt, int ldkt, int n_kv, int width, uint32_t* kp,
                                                          int ldkp) {
  transposed_key_pairs(kt, ldkt, n_kv, width, kp, ldkp);
}

NPW_TARGET_AVX512_BF16 void attention_bf16_convert_half_keys_t(const uint16_t* kt, int ldkt, int n_kv, int width,
                                                               uint32_t* kp, int ldkp) {
  transposed_key_pairs(kt, ldkt, n_kv, width, kp, ldkp);
}

NPW_TARGET_AVX512_BF16 void attention_bf16_convert_half_values(const uint16_t* v, int ldv, int n_kv, int width,
                                                               uint32_t* vp) {
  value_pairs(v, ldv, n_kv, width, vp);
}

}  // namespace npw
