// The machine's own ceilings, measured in the same run as the model stages so that every stage
// figure can be read as a fraction of what this machine, at this moment, can do at all:
//  - SGEMM: OpenBLAS single-precision GEMM at the encoder's product shapes (the bound for the
//    encoder's GFLOP/s), one call with OpenBLAS itself using the run's thread count;
//  - copy: memcpy between two buffers far larger than the caches (the bound for a decoder step,
//    which streams every weight once), split over the run's thread count.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bench_stats.h"

namespace npw {

struct GemmShape {
  std::string name;  // which encoder product it stands for, e.g. "qkv"
  int M = 0, N = 0, K = 0;
};

// The encoder's large products for a model of width n_state over n_ctx frames: C[M][N] = A[M][K] B^T,
// as Backend::linear issues them (M = 1500 frames).
std::vector<GemmShape> encoder_gemm_shapes(int n_ctx, int n_state);

struct GemmCeiling {
  GemmShape shape;
  Summary gflops;                    // OpenBLAS's threaded SGEMM, back-to-back calls: the ceiling
  Summary backend_gflops;            // the backend's own product at the shape (n = 0 when not measured)
  Summary sgemm_alternating_gflops;  // OpenBLAS again, alternating with backend_gflops' calls
};

// Times `repeat` sgemm calls per shape (after one warm-up) with openblas_set_num_threads(threads);
// leaves OpenBLAS at one thread afterwards, which is what the CPU backend expects. With a backend,
// then `repeat` more rounds alternate the backend's own product at the shape, as the encoder runs its
// products (weights packed with pack_for_many_rows, then linear), with one more SGEMM: the two compared
// under the same load (backend_gflops, sgemm_alternating_gflops).
class Backend;
std::vector<GemmCeiling> measure_sgemm(const std::vector<GemmShape>& shapes, int threads, int repeat,
                                       Backend* backend = nullptr);

// The encoder's own kind of product at one shape (a weight matrix packed as the encoder packs its
// own, Backend::pack_for_many_rows, then Backend::linear), timed on demand on the run's threads: the
// sample paired with each timed encoder window, taken right after it, so that a machine whose speed
// drifts (shared, throttled) moves both sides of the ratio together. Its ratio says how close the
// whole encoder, attention and element-wise passes included, runs to its own products.
class Backend;
class PackedMatrix;
class ProductProbe {
 public:
  ProductProbe(const GemmShape& shape, Backend& backend);
  ~ProductProbe();
  double gflops_once();  // one timed product
  const GemmShape& shape() const { return shape_; }

 private:
  GemmShape shape_;
  Backend& backend_;
  std::vector<float> a_, b_, c_;
  std::unique_ptr<PackedMatrix> w_;
};

// The strict ceiling sampled between encoder windows: OpenBLAS's own threaded SGEMM at every one of
// the encoder's product shapes, each one warm call and then the best of two timed ones, and the best
// shape kept: what OpenBLAS at its fastest does on the machine as it is right after that window. On a
// shared host whose load moves from second to second, the encoder over this sample compares two
// figures taken under the same load, where a ceiling measured in a phase of its own may compare a
// quiet minute with a busy one (in either direction).
class CeilingSampler {
 public:
  explicit CeilingSampler(std::vector<GemmShape> shapes);
  // GFLOP/s of the best shape, on `threads` OpenBLAS threads. Leaves OpenBLAS at one thread (the CPU
  // backend's setting) and then waits `settle_ms`, long enough for OpenBLAS's workers to stop
  // spinning and sleep so that they take nothing from the next window.
  double sample(int threads, int settle_ms = 200);

 private:
  std::vector<GemmShape> shapes_;
  std::vector<float> a_, b_, c_;
};

// Copy bandwidth in GB/s (1e9 bytes/s). Bytes counted per copy = 2 x buffer size: each byte is read
// once from the source and written once to the destination (write-allocate traffic, if the copy
// does not use streaming stores, is not counted). Each of `threads` threads copies its own slice.
Summary measure_copy_gbps(std::size_t buffer_bytes, int threads, int repeat);

}  // namespace npw
