// Quantisation and dequantisation rows (see host_quantize.h). Rounding is done by adding and
// subtracting 1.5 x 2^23, which rounds half to even exactly like nearbyint() in the default rounding
// mode for |v| < 2^22 (here |v| <= 127.5), and vectorises without SSE4.1.
// The dequantisation is part of the gemm_i8 contract: the scale product and the bias addition each
// rounded to f32, as the emulator's reference and the tests compute them. GCC's default
// -ffp-contract=fast would fuse them into one FMA inside the AVX2 functions (one rounding) in
// optimised builds - the release build's products then differed from the contract in the last bit.
// Clang contracts only within one expression, which the code below never asks for.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "backend/npu/host_quantize.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/npu/emulated_ops.h"
#include "util/cpu_features.h"
#include "util/simd_target.h"

namespace npw {
namespace npu {

namespace {

constexpr float kRound = 12582912.0f;  // 1.5 * 2^23

float row_scale(float amax) { return amax / 127.0f; }

int8_t quantize_one(float x, float inv) {
  float v = x * inv;
  v = (v + kRound) - kRound;
  v = std::min(127.0f, std::max(-127.0f, v));
  return static_cast<int8_t>(v);
}

NPW_TARGET_AVX2 float quantize_row_avx2(const float* x, int n, int8_t* q) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 vmax = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= n; k += 8) vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmax);
  float amax = 0.0f;
  for (float l : lanes) amax = std::max(amax, l);
  for (int j = k; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = row_scale(amax);
  const float inv = d > 0.0f ? 1.0f / d : 0.0f;
  const __m256 vinv = _mm256_set1_ps(inv), vr = _mm256_set1_ps(kRound);
  const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
  k = 0;
  for (; k + 32 <= n; k += 32) {
    __m256i i[4];
    for (int g = 0; g < 4; ++g) {
      __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * g), vinv);
      v = _mm256_sub_ps(_mm256_add_ps(v, vr), vr);
      v = _mm256_min_ps(hi, _mm256_max_ps(lo, v));
      i[g] = _mm256_cvtps_epi32(v);  // exact: v is already an integer
    }
    // Pack 32 int32 to int8 (no saturation happens: |v| <= 127); packs interleave 128-bit lanes,
    // the permute restores order.
    const __m256i a = _mm256_packs_epi32(i[0], i[1]);
    const __m256i b = _mm256_packs_epi32(i[2], i[3]);
    __m256i c = _mm256_packs_epi16(a, b);
    c = _mm256_permutevar8x32_epi32(c, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + k), c);
  }
  for (; k < n; ++k) q[k] = quantize_one(x[k], inv);
  return d;
}

NPW_TARGET_AVX2 void dequantize_row_avx2(const int32_t* c, int n, float row_scale, const float* col_scale,
                                         const float* bias, float* y) {
  const __m256 rs = _mm256_set1_ps(row_scale);
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 v = _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + j)));
    const __m256 s = _mm256_mul_ps(rs, _mm256_loadu_ps(col_scale + j));
    __m256 r = _mm256_mul_ps(v, s);
    if (bias) r = _mm256_add_ps(r, _mm256_loadu_ps(bias + j));
    _mm256_storeu_ps(y + j, r);
  }
  for (; j < n; ++j) {
    const float r = static_cast<float>(c[j]) * (row_scale * col_scale[j]);
    y[j] = bias ? r + bias[j] : r;
  }
}

}  // namespace

float quantize_row_i8(const float* x, int n, int n_padded, int8_t* q) {
  float d;
  if (active_simd_level() >= SimdLevel::Avx2) {
    d = quantize_row_avx2(x, n, q);
  } else {
    float amax = 0.0f;
    for (int k = 0; k < n; ++k) amax = std::max(amax, std::fabs(x[k]));
    d = row_scale(amax);
    const float inv = d > 0.0f ? 1.0f / d : 0.0f;
    for (int k = 0; k < n; ++k) q[k] = quantize_one(x[k], inv);
  }
  if (n_padded > n) std::memset(q + n, 0, static_cast<std::size_t>(n_padded - n));
  return d;
}

void convert_row_bf16(const float* x, int n, int n_padded, uint16_t* out) {
  for (int k = 0; k < n; ++k) out[k] = f32_to_bf16(x[k]);
  for (int k = n; k < n_padded; ++k) out[k] = 0;
}

void dequantize_row_i8(const int32_t* c, int n, float row_scale, const float* col_scale, const float* bias, float* y) {
  if (active_simd_level() >= SimdLevel::Avx2) {
    dequantize_row_avx2(c, n, row_scale, col_scale, bias, y);
    return;
  }
  for (int j = 0; j < n; ++j) {
    const float r = static_cast<float>(c[j]) * (row_scale * col_scale[j]);
    y[j] = bias ? r + bias[j] : r;
  }
}

void finish_row_f32(const float* c, int n, const float* bias, float* y) {
  for (int j = 0; j < n; ++j) y[j] = bias ? c[j] + bias[j] : c[j];
}

}  // namespace npu
}  // namespace npw
