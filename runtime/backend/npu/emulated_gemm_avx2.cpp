// AVX2 variants of the emulated products. The int8 one widens to int16 and multiplies with vpmaddwd,
// which is exact for every int8 pair including -128 x -128 (vpmaddubsw would saturate there), so the
// int32 results equal the contract's sums whatever the order. Tiles of 4 rows x 2 columns keep eight
// accumulators and six operands in registers; columns are walked in blocks whose rows of B stay in
// L2 while 4-row strips of A stream from L1.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>

#include "backend/npu/emulated_ops.h"
#include "util/simd_target.h"

namespace npw {
namespace npu {

namespace {

NPW_TARGET_AVX2 inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

NPW_TARGET_AVX2 inline __m256i widen(const int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// C[r][c] for R rows of A and NC rows of B.
template <int R, int NC>
NPW_TARGET_AVX2 inline void tile_i8(const int8_t* const* a, const int8_t* const* b, int K, int32_t* c, std::size_t ldc) {
  __m256i acc[R][NC];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NC; ++j) acc[r][j] = _mm256_setzero_si256();
  const int K16 = K & ~15;
  for (int k = 0; k < K16; k += 16) {
    __m256i w[NC];
    for (int j = 0; j < NC; ++j) w[j] = widen(b[j] + k);
    for (int r = 0; r < R; ++r) {
      const __m256i x = widen(a[r] + k);
      for (int j = 0; j < NC; ++j) acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(x, w[j]));
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int j = 0; j < NC; ++j) {
      int32_t s = hsum_i32(acc[r][j]);
      for (int k = K16; k < K; ++k) s += static_cast<int32_t>(a[r][k]) * static_cast<int32_t>(b[j][k]);
      c[static_cast<std::size_t>(r) * ldc + static_cast<std::size_t>(j)] = s;
    }
  }
}

template <int R>
NPW_TARGET_AVX2 void rows_i8(const int8_t* A, const int8_t* B, int32_t* C, int m, int n0, int n1, int N, int K) {
  const std::size_t uK = static_cast<std::size_t>(K), uN = static_cast<std::size_t>(N);
  const int8_t* a[R];
  for (int r = 0; r < R; ++r) a[r] = A + static_cast<std::size_t>(m + r) * uK;
  int32_t* c = C + static_cast<std::size_t>(m) * uN;
  int n = n0;
  for (; n + 2 <= n1; n += 2) {
    const int8_t* b[2] = {B + static_cast<std::size_t>(n) * uK, B + static_cast<std::size_t>(n + 1) * uK};
    tile_i8<R, 2>(a, b, K, c + n, uN);
  }
  if (n < n1) {
    const int8_t* b[1] = {B + static_cast<std::size_t>(n) * uK};
    tile_i8<R, 1>(a, b, K, c + n, uN);
  }
}

NPW_TARGET_AVX2 inline __m256 bf16x8_ftz(const uint16_t* p) {
  const __m256i u = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16);
  const __m256i exponent = _mm256_and_si256(u, _mm256_set1_epi32(0x7f800000));
  const __m256i tiny = _mm256_cmpeq_epi32(exponent, _mm256_setzero_si256());
  const __m256i sign = _mm256_and_si256(u, _mm256_set1_epi32(static_cast<int>(0x80000000u)));
  return _mm256_castsi256_ps(_mm256_blendv_epi8(u, sign, tiny));
}

}  // namespace

NPW_TARGET_AVX2 void gemm_i8_rows_avx2(const int8_t* A, const int8_t* B, int32_t* C, int m0, int m1, int N, int K) {
  // Columns per block: their rows of B (K bytes each) fill about 192 KiB.
  const int block = std::max(2, (196608 / std::max(K, 1)) & ~1);
  for (int n0 = 0; n0 < N; n0 += block) {
    const int n1 = std::min(N, n0 + block);
    int m = m0;
    for (; m + 4 <= m1; m += 4) rows_i8<4>(A, B, C, m, n0, n1, N, K);
    for (; m < m1; ++m) rows_i8<1>(A, B, C, m, n0, n1, N, K);
  }
}

NPW_TARGET_AVX2 void gemm_bf16_rows_avx2(const uint16_t* A, const uint16_t* B, float* C, int m0, int m1, int N, int K) {
  const std::size_t uK = static_cast<std::size_t>(K), uN = static_cast<std::size_t>(N);
  const int K8 = K & ~7;
  for (int m = m0; m < m1; ++m) {
    const uint16_t* a = A + static_cast<std::size_t>(m) * uK;
    for (int n = 0; n < N; ++n) {
      const uint16_t* b = B + static_cast<std::size_t>(n) * uK;
      __m256 acc = _mm256_setzero_ps();
      // Lane j sums k = j, j + 8, ... in order: the scalar variant's s[k & 7]. Products of two bf16
      // values are exact in f32, so the fused multiply-add rounds once, as s += a * b does.
      for (int k = 0; k < K8; k += 8) acc = _mm256_fmadd_ps(bf16x8_ftz(a + k), bf16x8_ftz(b + k), acc);
      alignas(32) float s[8];
      _mm256_store_ps(s, acc);
      for (int k = K8; k < K; ++k) s[k & 7] += bf16_to_f32_ftz(a[k]) * bf16_to_f32_ftz(b[k]);
      C[static_cast<std::size_t>(m) * uN + static_cast<std::size_t>(n)] =
          ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
  }
}

}  // namespace npu
}  // namespace npw
