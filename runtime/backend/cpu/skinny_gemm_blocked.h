// The skinny products' one algorithm, written once for both vector widths so that the AVX2 build that
// this project's tests run on every machine is the same code the AVX-512 file compiles: included by
// skinny_gemm_avx2.cpp and skinny_gemm_avx512.cpp after each defines NPW_SKINNY_TARGET and a vector
// traits type V (register type, width, loads with and without a lane count, FMA, horizontal sums).
//
// Why blocked: a beam step multiplies M = 2..8 rows by every weight. Reading a weight row once and
// feeding each loaded vector to M FMAs (the first version) left one accumulator per X row, M chains
// of dependent FMAs: at M = 5 the FMA latency, not the memory, bounded the step (2.1-2.7x a one-token
// step). Here B output rows are computed together, M x B independent accumulators, every X vector
// loaded feeding B FMAs and every weight vector M FMAs; M and B are picked per width so that the
// accumulators, the live operands and a temporary fit the register file. Every loaded vector is used
// from a register (util/in_register.h): folded into each FMA it fed, a vector of X was read B times,
// and the 5-row kernel ran at half a Zen 3's FMA rate (f16 weights 20-24 -> 29-34 GMAC/s a core).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "util/in_register.h"
#include "util/prefetch.h"

#ifndef NPW_SKINNY_TARGET
#error "define NPW_SKINNY_TARGET (the kernel file's target attribute) before including skinny_gemm_blocked.h"
#endif
#ifndef NPW_SKINNY_PREFETCH_BYTES
#error "define NPW_SKINNY_PREFETCH_BYTES (the kernel file's prefetch distance) before including skinny_gemm_blocked.h"
#endif

namespace npw {
namespace skinny_blocked {
// Each including file gets its own copies, compiled for its own target: a shared inline symbol
// compiled once for AVX-512 could otherwise be the one the linker keeps for the AVX2 callers.
namespace {

// The cache line NPW_SKINNY_PREFETCH_BYTES past p (it may lie past the matrix).
NPW_SKINNY_TARGET inline void prefetch_ahead(const void* p) {
  prefetch_bytes_past<PrefetchTo::L1>(p, NPW_SKINNY_PREFETCH_BYTES);
}

// One weight row as the kernels walk it: a pointer for f32 and f16 rows; for q8_0 (and q5_1 / q4_1)
// the quants and the row's scales (and offsets) as f32, widened from the stored halves into a buffer
// of the block's (staged) a chunk of inputs at a time, so that the inner loops broadcast a float.
struct Q8Row {
  const int8_t* q;
  const float* d;
};
struct Q8OffsetRow {
  const int8_t* q;
  const float* d;
  const float* m;
};
// Scales staged per row and chunk: 64 blocks, 2048 inputs (every row of tiny to medium in one chunk).
constexpr int kStagedBlocks = 64;
// Rows of one chunk at most have the scales of this many consecutive blocks staged at once (see
// grouped()).
constexpr int kGroupBlocks = 8;
template <typename T>
struct RowOf {
  using type = const T*;
  static constexpr bool kStaged = false;
  static type at(const T* W, long o, int n_in) { return W + o * n_in; }
  // The step's span, from element i: `elems` weights.
  NPW_SKINNY_TARGET static inline void prefetch(type r, int i, int elems) {
    prefetch_ahead(r + i);
    if (sizeof(T) * static_cast<std::size_t>(elems) > 64) prefetch_ahead(r + i + 64 / sizeof(T));
  }
};
template <>
struct RowOf<Q8Weights> {
  using type = Q8Row;
  using source = Q8Weights;  // one row's quants and halves
  static constexpr bool kStaged = true;
  static constexpr int kSlots = 1;
  static source at(const Q8Weights* W, long o, int n_in) {
    return Q8Weights{W->q + o * n_in, W->d + o * (n_in / kQ8Block)};
  }
  // Inputs [c0, c0 + n) of the row (or of consecutive rows), their scales widened into buf (kSlots
  // slots of `slot` floats).
  template <class V>
  NPW_SKINNY_TARGET static inline type stage(const source& r, int c0, int n, float* buf, int) {
    V::widen_halves(r.d + c0 / kQ8Block, n / kQ8Block, buf);
    return Q8Row{r.q + c0, buf};
  }
  // The row g rows of n_in inputs after r, in the same staging.
  static type advance(type r, int g, int n_in) {
    return Q8Row{r.q + static_cast<long>(g) * n_in, r.d + g * (n_in / kQ8Block)};
  }
  NPW_SKINNY_TARGET static inline void prefetch(type r, int i, int) { prefetch_ahead(r.q + i); }
};
template <>
struct RowOf<Q8OffsetWeights> {
  using type = Q8OffsetRow;
  using source = Q8Weights;
  static constexpr bool kStaged = true;
  static constexpr int kSlots = 2;
  static source at(const Q8OffsetWeights* W, long o, int n_in) {
    const long nb = n_in / kQ8Block;
    return Q8Weights{W->w.q + o * n_in, W->w.d + o * nb, W->w.m + o * nb};
  }
  template <class V>
  NPW_SKINNY_TARGET static inline type stage(const source& r, int c0, int n, float* buf, int slot) {
    V::widen_halves(r.d + c0 / kQ8Block, n / kQ8Block, buf);
    V::widen_halves(r.m + c0 / kQ8Block, n / kQ8Block, buf + slot);
    return Q8OffsetRow{r.q + c0, buf, buf + slot};
  }
  static type advance(type r, int g, int n_in) {
    const int nb = g * (n_in / kQ8Block);
    return Q8OffsetRow{r.q + static_cast<long>(g) * n_in, r.d + nb, r.m + nb};
  }
  NPW_SKINNY_TARGET static inline void prefetch(type r, int i, int) { prefetch_ahead(r.q + i); }
};

// Whether run() broadcasts each q8_0 row's block scale once per block into a register kept over the
// block's slices (instead of once per slice: a load, an index shift and a broadcast for every weight
// vector): when the M x B accumulators, the B scales, the live operands and two temporaries fit the
// register file, and not at 24 accumulators (8 rows x 3 at AVX-512), where GCC spilled in the loop
// (scripts/loop-spills.py). The same multiplies by the same scale, so the same bits.
template <class V, int M, int B, typename T>
constexpr bool hoists_scales() {
  return std::is_same<T, Q8Weights>::value && M * B + B + (M < B ? M : B) + 2 <= V::kRegs && M * B < 24;
}

// Weight vector i of row r: widened (and scaled by s[b], with Scaled), lanes [0, n) with Tail.
template <class V, bool Tail, bool Scaled, typename Row>
NPW_SKINNY_TARGET inline __attribute__((always_inline)) typename V::reg load_w(const Row& r, int i, int n,
                                                                               const typename V::reg* s, int b) {
  if constexpr (Scaled) {
    return V::load_w(r, i, s[b]);
  } else if constexpr (Tail) {
    return V::load_w(r, i, n);
  } else {
    return V::load_w(r, i);
  }
}

// Outputs [o, o + B) for rows [0, M) of X over one slice of V::kW inputs at i (n lanes valid when
// Tail): when there are fewer X rows than weight rows the X vectors stay in registers and each weight
// vector is loaded once and consumed, otherwise the other way round.
// With Scaled, s[b] holds row b's block scale, broadcast once per block (hoists_scales()).
template <class V, int M, int B, bool Tail, typename Row, bool Scaled = false>
NPW_SKINNY_TARGET inline __attribute__((always_inline)) void slice(const float* X, long ldx, const Row* w, int i, int n,
                                                                   typename V::reg (&acc)[M][B],
                                                                   const typename V::reg* s = nullptr) {
  using R = typename V::reg;
  if constexpr (M <= B) {
    R xv[M];
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      xv[m] = Tail ? V::load_x(X + m * ldx + i, n) : V::load_x(X + m * ldx + i);
      NPW_IN_REGISTER(xv[m]);
    }
#pragma GCC unroll 16
    for (int b = 0; b < B; ++b) {
      R wv = load_w<V, Tail, Scaled>(w[b], i, n, s, b);
      NPW_IN_REGISTER(wv);
#pragma GCC unroll 16
      for (int m = 0; m < M; ++m) acc[m][b] = V::fma(xv[m], wv, acc[m][b]);
    }
  } else {
    R wv[B];
#pragma GCC unroll 16
    for (int b = 0; b < B; ++b) {
      wv[b] = load_w<V, Tail, Scaled>(w[b], i, n, s, b);
      NPW_IN_REGISTER(wv[b]);
    }
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m) {
      R xv = Tail ? V::load_x(X + m * ldx + i, n) : V::load_x(X + m * ldx + i);
      NPW_IN_REGISTER(xv);
#pragma GCC unroll 16
      for (int b = 0; b < B; ++b) acc[m][b] = V::fma(xv, wv[b], acc[m][b]);
    }
  }
}

// acc[m][b] += X[m] . w[b] over inputs [0, n): two slices per step so that one prefetch per row covers
// what the step reads.
template <class V, int M, int B, typename T>
NPW_SKINNY_TARGET inline __attribute__((always_inline)) void run(const float* X, long lx,
                                                                 const typename RowOf<T>::type (&w)[B], int n,
                                                                 typename V::reg (&acc)[M][B]) {
  constexpr int kW = V::kW;
  if constexpr (hoists_scales<V, M, B, T>()) {
    // n is whole blocks (the loaders refuse other q8_0 rows): each row's scale broadcast once per
    // block, not once per slice, and one prefetch per row and block.
    static_assert(kQ8Block % kW == 0, "a slice never straddles a block");
    for (int i = 0; i < n; i += kQ8Block) {
      typename V::reg s[B];
#pragma GCC unroll 16
      for (int b = 0; b < B; ++b) {
        RowOf<T>::prefetch(w[b], i, kQ8Block);
        s[b] = V::block_scale(w[b], i);
        NPW_IN_REGISTER(s[b]);
      }
#pragma GCC unroll 4
      for (int k = 0; k < kQ8Block; k += kW) {
        slice<V, M, B, false, typename RowOf<T>::type, true>(X, lx, w, i + k, 0, acc, s);
      }
    }
    return;
  }
  int i = 0;
  for (; i + 2 * kW <= n; i += 2 * kW) {
#pragma GCC unroll 16
    for (int b = 0; b < B; ++b) RowOf<T>::prefetch(w[b], i, 2 * kW);
    slice<V, M, B, false>(X, lx, w, i, 0, acc);
    slice<V, M, B, false>(X, lx, w, i + kW, 0, acc);
  }
  for (; i < n; i += kW) {
    if (i + kW <= n) {
      slice<V, M, B, false>(X, lx, w, i, 0, acc);
    } else {
      slice<V, M, B, true>(X, lx, w, i, n - i, acc);
    }
  }
}

// Y[m][o + b * stride] = X[m] . w[b] (+ bias) for m < M, b < B over rows ready to walk (staged).
template <class V, int M, int B, typename T>
NPW_SKINNY_TARGET inline void block_of(const float* X, int ldx, const typename RowOf<T>::type (&w)[B], int n_in,
                                       int o, long stride, const float* bias, float* Y, int ldy) {
  typename V::reg acc[M][B];
#pragma GCC unroll 16
  for (int m = 0; m < M; ++m)
#pragma GCC unroll 16
    for (int b = 0; b < B; ++b) acc[m][b] = V::zero();
  run<V, M, B, T>(X, ldx, w, n_in, acc);
  V::template store_sums<M, B>(acc, bias ? bias + o : nullptr, Y + o, ldy, stride);
}

// Y[m][o + b * stride] = X[m] . W[o + b * stride] (+ bias) for m < M, b < B: B weight rows `stride`
// rows apart read together, each in address order. Quantised rows go a chunk of kStagedBlocks blocks
// at a time, each chunk's scales widened first.
template <class V, int M, int B, typename T>
NPW_SKINNY_TARGET inline void block(const float* X, int ldx, const T* W, int n_in, int o, long stride,
                                    const float* bias, float* Y, int ldy) {
  using R = typename V::reg;
  using Row = typename RowOf<T>::type;
  Row w[B];
  if constexpr (!RowOf<T>::kStaged) {
#pragma GCC unroll 16
    for (int b = 0; b < B; ++b) w[b] = RowOf<T>::at(W, o + b * stride, n_in);
    block_of<V, M, B, T>(X, ldx, w, n_in, o, stride, bias, Y, ldy);
  } else {
    R acc[M][B];
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m)
#pragma GCC unroll 16
      for (int b = 0; b < B; ++b) acc[m][b] = V::zero();
    constexpr int kChunk = kStagedBlocks * kQ8Block;
    typename RowOf<T>::source src[B];
#pragma GCC unroll 16
    for (int b = 0; b < B; ++b) src[b] = RowOf<T>::at(W, o + b * stride, n_in);
    alignas(64) float staged[B][RowOf<T>::kSlots * kStagedBlocks];
    for (int c0 = 0; c0 < n_in; c0 += kChunk) {
      const int n = n_in - c0 < kChunk ? n_in - c0 : kChunk;
#pragma GCC unroll 16
      for (int b = 0; b < B; ++b) w[b] = RowOf<T>::template stage<V>(src[b], c0, n, staged[b], kStagedBlocks);
      run<V, M, B, T>(X + c0, ldx, w, n, acc);
    }
    V::template store_sums<M, B>(acc, bias ? bias + o : nullptr, Y + o, ldy, stride);
  }
}

// The blocks j in [0, run) of rows() for quantised rows of one chunk at most: each run's next
// kGroupBlocks rows are consecutive in memory and so are their scales, which are widened together
// (whole vectors), a group ahead of the blocks that read them. Widened a block at a time (a masked
// partial vector per row just before its first use), the tiny q8_0 vocabulary product on one row took
// 0.78-0.83 ms instead of the 0.62-0.65 of scales kept as f32 in memory on a Zen 5 (one thread).
template <class V, int M, int B, typename T>
NPW_SKINNY_TARGET inline void grouped(const float* X, int ldx, const T* W, int n_in, int o0, int run,
                                      const float* bias, float* Y, int ldy) {
  using RO = RowOf<T>;
  constexpr int kSlot = kGroupBlocks * kStagedBlocks;
  alignas(64) float staged[B][RO::kSlots * kSlot];
  typename RO::type first[B];
  typename RO::type w[B];
  for (int j0 = 0; j0 < run; j0 += kGroupBlocks) {
    const int n = run - j0 < kGroupBlocks ? run - j0 : kGroupBlocks;
#pragma GCC unroll 16
    for (int b = 0; b < B; ++b) {
      first[b] = RO::template stage<V>(RO::at(W, o0 + j0 + static_cast<long>(b) * run, n_in), 0, n * n_in, staged[b], kSlot);
    }
    for (int g = 0; g < n; ++g) {
#pragma GCC unroll 16
      for (int b = 0; b < B; ++b) w[b] = RO::advance(first[b], g, n_in);
      block_of<V, M, B, T>(X, ldx, w, n_in, o0 + j0 + g, run, bias, Y, ldy);
    }
  }
}

// Outputs [o0, o1) as B streams: the range is cut into B equal runs of rows and each block takes the
// next row of every run, so each of the B rows read together continues the one before it in memory.
// Blocks of B adjacent rows (the first version) made every load of the block jump back and forth
// between rows: on a Zen 4 that defeated the hardware prefetchers and the f16 logits projection ran
// at half the read bandwidth (18 GB/s against 38 with 4 runs, 35 one row at a time). The leftover
// rows of the last, shorter run go one at a time.
template <class V, int M, int B, typename T>
NPW_SKINNY_TARGET inline void rows(const float* X, int ldx, const T* W, int n_in, int o0, int o1, const float* bias,
                                   float* Y, int ldy) {
  const int run = (o1 - o0) / B;
  bool done = false;
  if constexpr (RowOf<T>::kStaged) {
    if (n_in <= kStagedBlocks * kQ8Block) {
      grouped<V, M, B, T>(X, ldx, W, n_in, o0, run, bias, Y, ldy);
      done = true;
    }
  }
  if (!done) {
    for (int j = 0; j < run; ++j) block<V, M, B, T>(X, ldx, W, n_in, o0 + j, run, bias, Y, ldy);
  }
  for (int o = o0 + B * run; o < o1; ++o) block<V, M, 1, T>(X, ldx, W, n_in, o, 0, bias, Y, ldy);
}

// M dispatched to its block height V::block_rows<M>().
template <class V, typename T>
NPW_SKINNY_TARGET inline void dispatch(const float* X, int M, int ldx, const T* W, int n_in, int o0, int o1,
                                       const float* bias, float* Y, int ldy) {
  switch (M) {
    case 1: rows<V, 1, V::template block_rows<1>(), T>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 2: rows<V, 2, V::template block_rows<2>(), T>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 3: rows<V, 3, V::template block_rows<3>(), T>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 4: rows<V, 4, V::template block_rows<4>(), T>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 5: rows<V, 5, V::template block_rows<5>(), T>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 6: rows<V, 6, V::template block_rows<6>(), T>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 7: rows<V, 7, V::template block_rows<7>(), T>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    case 8: rows<V, 8, V::template block_rows<8>(), T>(X, ldx, W, n_in, o0, o1, bias, Y, ldy); break;
    default: break;  // callers keep M within kSkinnyMaxRows
  }
}

}  // namespace
}  // namespace skinny_blocked
}  // namespace npw
