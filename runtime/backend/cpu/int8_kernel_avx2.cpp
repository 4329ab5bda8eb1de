// The AVX2 int8 variant for x86 CPUs without AVX-512 VNNI (most laptops and CI runners). Without
// vpdpbusd a 32-input dot product is vpmaddubsw + vpmaddwd; the sign trick (|w| times x with w's
// sign) keeps vpmaddubsw's 16-bit pair sums below saturation (|w| <= 128 times |x| <= 127, twice,
// fits). CPUs with AVX-VNNI but not AVX-512 (Intel's Alder Lake and later client cores) feed the
// same two operands to the 256-bit vpdpbusd instead: one instruction where the pair took two and an
// add, the same exact int32 sums (four products of at most 128 x 127 each), so the same bits, and no
// compensation sums as the AVX-512 variant needs for its offset activations. Compiled with target
// attributes; only called after int8_isa_supported() said yes.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "backend/cpu/int8_kernels.h"
#include "util/cpu_features.h"

#define NPW_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace npw {

namespace {

// 16 ymm registers: 2 rows x 2 halves of a 16-wide tile, int32 and f32 accumulators (8), the two
// weight halves, the broadcast, its absolute value and a product temporary.
constexpr int kRows = 2;
constexpr int kChunkBlocks = 16;

NPW_AVX2 inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

NPW_AVX2 inline __m256i lane_mask(int valid) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

NPW_AVX2 void quantize_avx2(const float* X, std::size_t ldx, int n_in, int n_blocks, int m0, int m1, const Int8Rows& out) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i lo_q = _mm256_set1_epi32(-127), hi_q = _mm256_set1_epi32(127);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int m = m0; m < m1; ++m) {
    const float* x = X + static_cast<std::size_t>(m) * ldx;
    uint8_t* q = out.q + static_cast<std::size_t>(m) * out.ldq;
    float* s = out.scale + static_cast<std::size_t>(m) * out.lds;
    for (int b = 0; b < n_blocks; ++b) {
      const int k0 = b * kInt8Block;
      const int n = std::min(kInt8Block, n_in - k0);
      __m256 v[4];
      __m256 amax = _mm256_setzero_ps();
      for (int i = 0; i < 4; ++i) {
        v[i] = _mm256_maskload_ps(x + k0 + 8 * i, lane_mask(n - 8 * i));
        amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[i]));
      }
      const float d = hmax(amax) / 127.0f;
      const __m256 id = _mm256_set1_ps(d > 0.0f ? 1.0f / d : 0.0f);
      __m256i qi[4];
      for (int i = 0; i < 4; ++i) {
        qi[i] = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(v[i], id)), lo_q), hi_q);
      }
      // packs interleave 128-bit lanes; the permute restores input order.
      const __m256i w16a = _mm256_packs_epi32(qi[0], qi[1]);
      const __m256i w16b = _mm256_packs_epi32(qi[2], qi[3]);
      const __m256i b8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w16a, w16b), order);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + k0), b8);
      s[b] = d;
    }
  }
}

inline uint32_t load4(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The exact int32 sums of |w| times sign(w) x, added to acc: vpmaddubsw + vpmaddwd or vpdpbusd.
struct MaddubsDot {
  NPW_AVX2 static inline __attribute__((always_inline)) __m256i add(__m256i acc, __m256i aw, __m256i sx) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sx), _mm256_set1_epi16(1)));
  }
};
// In assembly: the intrinsic would need the avxvnni target on every function it is inlined into,
// and the tile is one function for both dot products. {vex} asks for AVX-VNNI's encoding, not
// AVX512_VNNI's EVEX one.
struct VnniDot {
  NPW_AVX2 static inline __attribute__((always_inline)) __m256i add(__m256i acc, __m256i aw, __m256i sx) {
    __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(aw), "x"(sx));
    return acc;
  }
};

// Rows [m, m + R) x one 16-wide tile t over blocks [b0, b1); first/last as in the AVX-512 variant.
template <int R, typename Dot>
NPW_AVX2 void tile(const Int8Product& p, int m, int t, int b0, int b1, bool first, bool last) {
  const Int8PackedMatrix& w = *p.w;
  const int valid = std::min(kInt8Tile, w.n_out() - t * kInt8Tile);
  const __m256i mask[2] = {lane_mask(valid), lane_mask(valid - 8)};
  Int8TileWalk rec = w.walk(t, b0);
  float* y[R];
  const uint8_t* xq[R];
  const float* xs[R];
  __m256 acc[R][2];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    y[r] = p.y + static_cast<std::size_t>(m + r) * p.ldy + (static_cast<std::size_t>(t) * kInt8Tile - p.y_col0);
    xq[r] = p.x.q + static_cast<std::size_t>(m + r) * p.x.ldq;
    xs[r] = p.x.scale + static_cast<std::size_t>(m + r) * p.x.lds;
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) acc[r][h] = first ? _mm256_setzero_ps() : _mm256_maskload_ps(y[r] + 8 * h, mask[h]);
  }

  for (int b = b0; b < b1; ++b, rec.next()) {
    __m256i ia[R][2];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) ia[r][0] = ia[r][1] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int g = 0; g < kInt8Block / kInt8Group; ++g) {
      const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(rec.quants(0)->q[g][0]));
      const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(rec.quants(0)->q[g][8]));
      // |w| as unsigned bytes (|-128| = 0x80 is 128 there), the activations carrying w's sign: a file's
      // -128 quant would overflow the other way round (sign(x) * -128).
      const __m256i aw0 = _mm256_abs_epi8(w0), aw1 = _mm256_abs_epi8(w1);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m256i xb = _mm256_set1_epi32(static_cast<int>(load4(xq[r] + b * kInt8Block + g * kInt8Group)));
        ia[r][0] = Dot::add(ia[r][0], aw0, _mm256_sign_epi8(xb, w0));
        ia[r][1] = Dot::add(ia[r][1], aw1, _mm256_sign_epi8(xb, w1));
      }
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256 sw = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(rec.scales(0) + 8 * h)));
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m256 scale = _mm256_mul_ps(sw, _mm256_set1_ps(xs[r][b]));
        acc[r][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ia[r][h]), scale, acc[r][h]);
      }
    }
  }

  const bool add_bias = last && p.bias;
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const __m256 bias = add_bias ? _mm256_maskload_ps(p.bias + t * kInt8Tile + 8 * h, mask[h]) : _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      _mm256_maskstore_ps(y[r] + 8 * h, mask[h], add_bias ? _mm256_add_ps(acc[r][h], bias) : acc[r][h]);
    }
  }
}

template <typename Dot>
void gemm_with(const Int8Product& p, int m0, int m1, int t0, int t1) {
  const int nb = p.w->n_blocks();
  const int chunk = m1 - m0 > kRows ? kChunkBlocks : nb;
  for (int b0 = 0; b0 < nb; b0 += chunk) {
    const int b1 = std::min(nb, b0 + chunk);
    for (int t = t0; t < t1; ++t) {
      for (int m = m0; m < m1; m += kRows) {
        if (m1 - m >= 2) {
          tile<2, Dot>(p, m, t, b0, b1, b0 == 0, b1 == nb);
        } else {
          tile<1, Dot>(p, m, t, b0, b1, b0 == 0, b1 == nb);
        }
      }
    }
  }
}

std::atomic<int> g_avx2_dot{0};  // int8_set_avx2_dot()

void gemm_avx2(const Int8Product& p, int m0, int m1, int t0, int t1) {
  const int forced = g_avx2_dot.load(std::memory_order_relaxed);
  if (cpu_has_avx_vnni() && forced != 1) {
    gemm_with<VnniDot>(p, m0, m1, t0, t1);
  } else {
    gemm_with<MaddubsDot>(p, m0, m1, t0, t1);
  }
}

}  // namespace

const Int8Kernel kInt8KernelAvx2 = {Int8Isa::Avx2, quantize_avx2, gemm_avx2};

bool int8_avx2_has_vnni() { return cpu_has_avx_vnni(); }

void int8_set_avx2_dot(int dot) { g_avx2_dot.store(dot == 1 ? 1 : 0); }

}  // namespace npw
