// The f32 weighted sum of values of the AVX-512 attention tasks, shared by the flash-style f32 kernel
// (attention_kernels_avx512.cpp, which rescales its partial sums block by block) and the int8-score
// task with f32 values (attention_int8_f32_avx512.cpp, one pass over every key): value rows widened
// from halves in the register or read as floats, and their next lines asked for into L2. static inline
// with the AVX-512 target, so no out-of-line copy can reach a lesser CPU.
#pragma once

#include <cstddef>
#include <cstdint>

#include <immintrin.h>

#include "util/prefetch.h"
#include "util/simd_target.h"

namespace npw {
namespace attention_f32 {

// Asks for the line at p + off elements into L2 (past the last block it may lie outside the buffers).
template <typename T>
static inline void prefetch_l2(const T* p, long off) {
  prefetch_bytes_past<PrefetchTo::L2>(p, static_cast<std::size_t>(off) * sizeof(T));
}

// 16 keys or value elements as floats: f32 as stored, or IEEE halves (a backend's half cross-attention
// keys and values) widened exactly in the register, so that a task over halves gives the bits of the
// same task over their widened copy without that copy being written and read back.
NPW_TARGET_AVX512 static inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
NPW_TARGET_AVX512 static inline __m512 load16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
NPW_TARGET_AVX512 static inline __m512 load16(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
NPW_TARGET_AVX512 static inline __m512 load16(const uint16_t* p, __mmask16 m) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

// out rows [0, RB) = out * scale + p . v over the nk keys of one block (out = p . v when first).
// vpf: the next block's first value row when its lines are to be asked for, else nullptr.
template <int RB, int NV, typename VT>
NPW_TARGET_AVX512 static inline void pv_block(const float* p, int ldp, int nk, const VT* v, int ldv, bool first, const float* scale,
                     float* out, int ldo, const VT* vpf) {
  __m512 acc[RB][NV];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r) {
    const __m512 sc = _mm512_set1_ps(scale[r]);
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c)
      acc[r][c] = first ? _mm512_setzero_ps() : _mm512_mul_ps(_mm512_loadu_ps(out + static_cast<long>(r) * ldo + 16 * c), sc);
  }
  for (int j = 0; j < nk; ++j) {
    const VT* vj = v + static_cast<long>(j) * ldv;
    if (vpf) {
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) prefetch_l2(vpf, static_cast<long>(j) * ldv + 16 * c);
    }
    __m512 vv[NV];
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) vv[c] = load16(vj + 16 * c);
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const __m512 pr = _mm512_set1_ps(p[static_cast<long>(r) * ldp + j]);
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_fmadd_ps(pr, vv[c], acc[r][c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + static_cast<long>(r) * ldo + 16 * c, acc[r][c]);
}

}  // namespace attention_f32
}  // namespace npw
