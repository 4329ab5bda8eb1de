// The stages and the real split of batched_real_fft.h, written once over the vector type that holds
// some of the 16 frames' lanes: 4-lane vectors (x86-64's baseline, 4 groups of lanes), 8 (AVX2, 2
// groups), 16 (AVX-512, all lanes in one register). Every function is forced inline, so each
// variant is compiled for the instruction set of the function it is inlined into (the baseline's in
// batched_real_fft.cpp, AVX2's and AVX-512's in batched_real_fft_simd.cpp); there, GCC may fuse a
// product and a sum into one FMA, so the levels differ in the last bits, not in accuracy.
#pragma once

#include <cstddef>
#include <cstring>
#include <utility>

// GCC warns that 32- and 64-byte vectors passed by value outside AVX code have changed ABI; every
// function here is forced inline, so no such value ever crosses a call.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace npw {
namespace fft_kernels {

#define NPW_FFT_INLINE inline __attribute__((always_inline))

constexpr int kLanes = 16;

typedef float f32x4 __attribute__((vector_size(16)));
typedef float f32x8 __attribute__((vector_size(32)));
typedef float f32x16 __attribute__((vector_size(64)));

// What the kernels read of a BatchedRealFft.
struct Stage {
  int radix;
  int m;       // butterflies' input spacing, in strides: the stage's length / radix
  int stride;  // product of the radices before this stage
  std::size_t twiddle;  // into twiddles: per p < m, radix - 1 complex factors W^{p k}, k >= 1
};
struct Plan {
  int half;
  const Stage* stages;
  int n_stages;
  const float* twiddles;  // re, im interleaved
  const float* split;     // W_n^k, k <= half, re, im interleaved
};

template <typename V>
struct Cx {
  V re, im;
};

template <typename V>
NPW_FFT_INLINE V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename V>
NPW_FFT_INLINE void store(float* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}

template <typename V>
NPW_FFT_INLINE Cx<V> operator+(const Cx<V>& a, const Cx<V>& b) {
  return {a.re + b.re, a.im + b.im};
}
template <typename V>
NPW_FFT_INLINE Cx<V> operator-(const Cx<V>& a, const Cx<V>& b) {
  return {a.re - b.re, a.im - b.im};
}
template <typename V>
NPW_FFT_INLINE Cx<V> scale(const Cx<V>& a, float s) {
  return {a.re * s, a.im * s};
}
template <typename V>
NPW_FFT_INLINE Cx<V> minus_i(const Cx<V>& a) {  // -i a
  return {a.im, -a.re};
}
template <typename V>
NPW_FFT_INLINE Cx<V> plus_i(const Cx<V>& a) {  // +i a
  return {-a.im, a.re};
}
template <typename V>
NPW_FFT_INLINE Cx<V> times(const Cx<V>& a, float wr, float wi) {
  return {a.re * wr - a.im * wi, a.re * wi + a.im * wr};
}

// Forward DFTs of 2, 3, 4 and 5 points (W = e^{-2 pi i / r}), in place on a[0..r).
template <typename V>
NPW_FFT_INLINE void dft(Cx<V> (&a)[2]) {
  const Cx<V> t = a[0] - a[1];
  a[0] = a[0] + a[1];
  a[1] = t;
}

template <typename V>
NPW_FFT_INLINE void dft(Cx<V> (&a)[3]) {
  constexpr float kSin = 0.866025403784438646763723170753f;  // sin(2 pi / 3)
  const Cx<V> t = a[1] + a[2], d = scale(a[1] - a[2], kSin);
  const Cx<V> b = a[0] - scale(t, 0.5f);
  a[0] = a[0] + t;
  a[1] = b + minus_i(d);
  a[2] = b + plus_i(d);
}

template <typename V>
NPW_FFT_INLINE void dft(Cx<V> (&a)[4]) {
  const Cx<V> t0 = a[0] + a[2], t1 = a[0] - a[2], t2 = a[1] + a[3], t3 = a[1] - a[3];
  a[0] = t0 + t2;
  a[2] = t0 - t2;
  a[1] = t1 + minus_i(t3);
  a[3] = t1 + plus_i(t3);
}

template <typename V>
NPW_FFT_INLINE void dft(Cx<V> (&a)[5]) {
  constexpr float kC1 = 0.309016994374947424102293417183f;   // cos(2 pi / 5)
  constexpr float kC2 = -0.809016994374947424102293417183f;  // cos(4 pi / 5)
  constexpr float kS1 = 0.951056516295153572116439333379f;   // sin(2 pi / 5)
  constexpr float kS2 = 0.587785252292473129168705954639f;   // sin(4 pi / 5)
  const Cx<V> t1 = a[1] + a[4], t2 = a[2] + a[3], t3 = a[1] - a[4], t4 = a[2] - a[3];
  const Cx<V> b1 = a[0] + scale(t1, kC1) + scale(t2, kC2);
  const Cx<V> b2 = a[0] + scale(t1, kC2) + scale(t2, kC1);
  const Cx<V> u1 = scale(t3, kS1) + scale(t4, kS2);
  const Cx<V> u2 = scale(t3, kS2) - scale(t4, kS1);
  a[0] = a[0] + t1 + t2;
  a[1] = b1 + minus_i(u1);
  a[4] = b1 + plus_i(u1);
  a[2] = b2 + minus_i(u2);
  a[3] = b2 + plus_i(u2);
}

// A buffer of complex lanes: value j's lanes at re + j * 16 (im likewise), group g's at + g * width.
struct Lanes {
  float* re;
  float* im;
};

template <typename V>
NPW_FFT_INLINE Cx<V> load_at(Lanes b, std::size_t j, int g) {
  constexpr int kWidth = sizeof(V) / sizeof(float);
  return {load<V>(b.re + j * kLanes + kWidth * g), load<V>(b.im + j * kLanes + kWidth * g)};
}
template <typename V>
NPW_FFT_INLINE void store_at(Lanes b, std::size_t j, int g, const Cx<V>& v) {
  constexpr int kWidth = sizeof(V) / sizeof(float);
  store<V>(b.re + j * kLanes + kWidth * g, v.re);
  store<V>(b.im + j * kLanes + kWidth * g, v.im);
}

// One self-sorting stage of radix R: out[q + s (R p + k)] = (DFT_R of in[q + s (p + j m)], j < R)[k]
// times W_{R m}^{p k}.
template <int R, typename V>
NPW_FFT_INLINE void stage(Lanes in, Lanes out, int m, int s, const float* twiddles) {
  constexpr int kGroups = kLanes / (sizeof(V) / sizeof(float));
  const std::size_t us = static_cast<std::size_t>(s);
  for (int p = 0; p < m; ++p) {
    const float* w = twiddles + static_cast<std::size_t>(p) * (R - 1) * 2;
    for (std::size_t q = 0; q < us; ++q) {
      const std::size_t from = q + us * static_cast<std::size_t>(p), to = q + us * R * static_cast<std::size_t>(p);
      for (int g = 0; g < kGroups; ++g) {
        Cx<V> a[R];
        for (int j = 0; j < R; ++j) a[j] = load_at<V>(in, from + us * static_cast<std::size_t>(j * m), g);
        dft<V>(a);
        store_at<V>(out, to, g, a[0]);
        for (int k = 1; k < R; ++k)
          store_at<V>(out, to + us * k, g, p == 0 ? a[k] : times(a[k], w[2 * (k - 1)], w[2 * (k - 1) + 1]));
      }
    }
  }
}

// The stages on a (z, laid out by the caller), ping-ponging with b; returns the buffer holding Z.
template <typename V>
NPW_FFT_INLINE Lanes stages(const Plan& plan, Lanes a, Lanes b) {
  for (int i = 0; i < plan.n_stages; ++i) {
    const Stage& st = plan.stages[i];
    const float* w = plan.twiddles + st.twiddle;
    switch (st.radix) {
      case 2: stage<2, V>(a, b, st.m, st.stride, w); break;
      case 3: stage<3, V>(a, b, st.m, st.stride, w); break;
      case 4: stage<4, V>(a, b, st.m, st.stride, w); break;
      default: stage<5, V>(a, b, st.m, st.stride, w); break;
    }
    std::swap(a, b);
  }
  return a;
}

// X[k] = E + W_n^k O with E = (Z[k] + conj Z[h - k]) / 2 and O = -i (Z[k] - conj Z[h - k]) / 2
// (indices mod h = n / 2): the two interleaved halves of the real frames, recombined; out(k, g, re, im).
template <typename V, typename Out>
NPW_FFT_INLINE void split(const Plan& plan, Lanes z, const Out& out) {
  constexpr int kGroups = kLanes / (sizeof(V) / sizeof(float));
  const int h = plan.half;
  for (int k = 0; k <= h; ++k) {
    const std::size_t kk = static_cast<std::size_t>(k == h ? 0 : k), kc = static_cast<std::size_t>(k == 0 ? 0 : h - k);
    const float wr = plan.split[2 * k], wi = plan.split[2 * k + 1];
    for (int g = 0; g < kGroups; ++g) {
      const Cx<V> zk = load_at<V>(z, kk, g), zc = load_at<V>(z, kc, g);
      const V er = (zk.re + zc.re) * 0.5f, ei = (zk.im - zc.im) * 0.5f;
      const V orr = (zk.im + zc.im) * 0.5f, oi = (zc.re - zk.re) * 0.5f;
      out(k, g, er + orr * wr - oi * wi, ei + oi * wr + orr * wi);
    }
  }
}

// Where split() puts X[k]: its power |X[k]|^2 at p[k * 16 + lane] ...
template <typename V>
struct PowerOut {
  float* p;
  NPW_FFT_INLINE void operator()(int k, int g, const V& re, const V& im) const {
    store<V>(p + static_cast<std::size_t>(k) * kLanes + (sizeof(V) / sizeof(float)) * g, re * re + im * im);
  }
};
// ... or X[k] itself at re/im[k * 16 + lane].
template <typename V>
struct SpectrumOut {
  float* re;
  float* im;
  NPW_FFT_INLINE void operator()(int k, int g, const V& r, const V& i) const {
    const std::size_t at = static_cast<std::size_t>(k) * kLanes + (sizeof(V) / sizeof(float)) * g;
    store<V>(re + at, r);
    store<V>(im + at, i);
  }
};

// The whole transform after the caller laid z out in a: the stages, then the split into out.
template <typename V, typename Out>
NPW_FFT_INLINE void transform(const Plan& plan, Lanes a, Lanes b, const Out& out) {
  split<V>(plan, stages<V>(plan, a, b), out);
}

}  // namespace fft_kernels
}  // namespace npw

#pragma GCC diagnostic pop
