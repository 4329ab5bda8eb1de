// SGEMM and memory-copy ceilings. Buffers are filled with non-trivial values before timing so that
// the first touch (page faults, zero pages) is not what gets measured.
#include "bench_ceilings.h"


#include <algorithm>
#include <chrono>
#include <thread>
#include <cstring>
#include <memory>
#include <utility>

#include "backend/backend.h"
#include "bench_timer.h"
#include "util/aligned_buffer.h"
#include "util/openblas.h"
#include "util/thread_pool.h"

namespace npw {

std::vector<GemmShape> encoder_gemm_shapes(int n_ctx, int n_state) {
  return {
      {"qkv", n_ctx, 3 * n_state, n_state},  // the three attention projections side by side
      {"mlp0", n_ctx, 4 * n_state, n_state},
      {"mlp2", n_ctx, n_state, 4 * n_state},
  };
}

namespace {

// Non-trivial values in [-0.5, 0.5); a second operand takes another multiplier so that it is not a
// copy of the first.
template <typename Buffer>
void fill(Buffer& b, uint32_t multiplier = 2654435761u) {
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * multiplier) % 1000) * 1e-3f - 0.5f;
}

// GFLOP/s of one product of the shape that took `ms` milliseconds.
double gflops_of(const GemmShape& s, double ms) { return 2.0 * s.M * s.N * static_cast<double>(s.K) / ms * 1e-6; }

// C = A B^T at the shape, row-major, on OpenBLAS's current thread count: the product every ceiling times.
void sgemm_nt(const GemmShape& s, const float* a, const float* b, float* c) {
  openblas::sgemm(false, true, s.M, s.N, s.K, 1.0f, a, s.K, b, s.K, 0.0f, c, s.N);
}

}  // namespace

std::vector<GemmCeiling> measure_sgemm(const std::vector<GemmShape>& shapes, int threads, int repeat, Backend* backend) {
  std::vector<GemmCeiling> out;
  for (const GemmShape& s : shapes) {
    AlignedBuffer<float> a(static_cast<std::size_t>(s.M) * s.K), b(static_cast<std::size_t>(s.N) * s.K),
        c(static_cast<std::size_t>(s.M) * s.N);
    fill(a);
    fill(b);
    const double flops = 2.0 * s.M * s.N * s.K;
    const auto gflops = [&](const std::vector<double>& sec) {
      return map_summary(summarize(sec), [&](double v) { return flops / v * 1e-9; }, true);
    };
    auto call = [&] { sgemm_nt(s, a.data(), b.data(), c.data()); };
    GemmCeiling g{s, Summary{}, Summary{}, Summary{}};
    // The ceiling: back-to-back calls, OpenBLAS's workers spinning between them, at its fastest.
    openblas::set_threads(threads);
    call();
    std::vector<double> seconds;
    for (int r = 0; r < repeat; ++r) {
      Stopwatch t;
      call();
      seconds.push_back(t.seconds());
    }
    openblas::set_threads(1);
    g.gflops = gflops(seconds);
    if (backend) {
      // The backend's product against OpenBLAS under the same load: per repetition the backend's
      // first (its pool spins only microseconds after a call), then OpenBLAS, each timed after one
      // untimed call that wakes its threads and brings the operands back into cache; then a pause
      // for OpenBLAS's workers to stop spinning before the backend's next turn.
      ProductProbe probe(s, *backend);
      std::vector<double> ours, theirs;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      for (int r = 0; r < repeat; ++r) {
        probe.gflops_once();
        ours.push_back(probe.gflops_once());
        openblas::set_threads(threads);
        call();
        Stopwatch t;
        call();
        theirs.push_back(t.seconds());
        openblas::set_threads(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      g.backend_gflops = summarize(ours);
      g.sgemm_alternating_gflops = gflops(theirs);
    }
    out.push_back(g);
  }
  return out;
}

Summary measure_copy_gbps(std::size_t buffer_bytes, int threads, int repeat) {
  const std::size_t n = buffer_bytes / sizeof(float);
  AlignedBuffer<float> src(n), dst(n);
  fill(src);
  fill(dst);
  ThreadPool pool(threads);
  // One contiguous slice per thread, rounded to cache lines.
  auto copy = [&] {
    pool.parallel_for(threads, [&](int64_t t0, int64_t t1, int) {
      for (int64_t t = t0; t < t1; ++t) {
        const std::size_t b = n * t / threads / 16 * 16, e = t + 1 == threads ? n : n * (t + 1) / threads / 16 * 16;
        std::memcpy(dst.data() + b, src.data() + b, (e - b) * sizeof(float));
      }
    });
  };
  copy();
  std::vector<double> seconds;
  for (int r = 0; r < repeat; ++r) {
    Stopwatch t;
    copy();
    seconds.push_back(t.seconds());
  }
  const double bytes = 2.0 * static_cast<double>(n * sizeof(float));
  return map_summary(summarize(seconds), [&](double sec) { return bytes / sec * 1e-9; }, true);
}

ProductProbe::ProductProbe(const GemmShape& shape, Backend& backend)
    : shape_(shape),
      backend_(backend),
      a_(static_cast<std::size_t>(shape.M) * shape.K),
      b_(static_cast<std::size_t>(shape.N) * shape.K),
      c_(static_cast<std::size_t>(shape.M) * shape.N) {
  fill(a_);
  fill(b_, 40503u);
  TensorView view;
  view.name = "bench." + shape.name;
  view.type = GgmlType::F32;
  view.n_dims = 2;
  view.ne[0] = shape.K;
  view.ne[1] = shape.N;
  view.data = reinterpret_cast<const uint8_t*>(b_.data());
  view.nbytes = b_.size() * sizeof(float);
  w_ = backend.pack_for_many_rows(view);
  gflops_once();  // warm-up: first touch of c, per-thread scratch
}

ProductProbe::~ProductProbe() = default;

double ProductProbe::gflops_once() {
  const GemmShape& s = shape_;
  Stopwatch t;
  backend_.linear(a_.data(), s.M, s.K, *w_, nullptr, c_.data(), s.N);
  return gflops_of(s, t.ms());
}

CeilingSampler::CeilingSampler(std::vector<GemmShape> shapes) : shapes_(std::move(shapes)) {
  std::size_t na = 0, nb = 0, nc = 0;
  for (const GemmShape& s : shapes_) {
    na = std::max(na, static_cast<std::size_t>(s.M) * s.K);
    nb = std::max(nb, static_cast<std::size_t>(s.N) * s.K);
    nc = std::max(nc, static_cast<std::size_t>(s.M) * s.N);
  }
  a_.resize(na);
  b_.resize(nb);
  c_.resize(nc);
  fill(a_);
  fill(b_, 40503u);
}

double CeilingSampler::sample(int threads, int settle_ms) {
  openblas::set_threads(threads);
  double best = 0.0;
  for (const GemmShape& s : shapes_) {
    sgemm_nt(s, a_.data(), b_.data(), c_.data());  // wakes OpenBLAS's workers, brings the operands in
    for (int r = 0; r < 2; ++r) {
      Stopwatch t;
      sgemm_nt(s, a_.data(), b_.data(), c_.data());
      best = std::max(best, gflops_of(s, t.ms()));
    }
  }
  openblas::set_threads(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
  return best;
}

}  // namespace npw
