// Per-row and element-wise transformer operations; LayerNorm, GELU and softmax hand over to ops_simd.h
// where the CPU allows, the loops here being the reference. Row statistics are accumulated in double: it costs
// nothing next to the products around them and keeps LayerNorm and softmax within an ulp or two of a
// float64 reference, leaving the error budget to the GEMMs.
#include "nn/ops.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "nn/ops_simd.h"
#include "util/cpu_features.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

// Below this many floats of work, waking the pool costs more than it saves.
constexpr int64_t kParallelFloats = 1 << 15;

template <typename Fn>
void for_ranges(ThreadPool* pool, int64_t n_items, int64_t floats_per_item, Fn&& fn) {
  if (n_items <= 0) return;
  if (!pool || pool->size() == 1 || n_items * floats_per_item < kParallelFloats) {
    fn(int64_t{0}, n_items);
    return;
  }
  pool->parallel_for(n_items, [&](int64_t begin, int64_t end, int) { fn(begin, end); });
}

// y may equal x: the statistics are complete before the first write.
void layer_norm_row(const float* x, int n, const float* w, const float* b, float eps, float* y) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / n;
  double sq = 0.0;
  for (int i = 0; i < n; ++i) {
    const double d = x[i] - mean;
    sq += d * d;
  }
  const float m = static_cast<float>(mean);
  const float inv = static_cast<float>(1.0 / std::sqrt(sq / n + eps));
  if (w && b) {
    for (int i = 0; i < n; ++i) y[i] = (x[i] - m) * inv * w[i] + b[i];
  } else {
    for (int i = 0; i < n; ++i) y[i] = (x[i] - m) * inv * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
  }
}

}  // namespace

void layer_norm(const float* x, int rows, int n, const float* w, const float* b, float eps, float* y,
                ThreadPool* pool) {
  if (n <= 0) return;
  const SimdLevel level = active_simd_level();
  for_ranges(pool, rows, n, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      if (level == SimdLevel::Avx512) {
        avx512::layer_norm_row(x + r * n, n, w, b, eps, y + r * n);
      } else if (level == SimdLevel::Avx2) {
        avx2::layer_norm_row(x + r * n, n, w, b, eps, y + r * n);
      } else {
        layer_norm_row(x + r * n, n, w, b, eps, y + r * n);
      }
    }
  });
}

void gelu(float* x, std::size_t n, ThreadPool* pool) {
  const float k = static_cast<float>(M_SQRT1_2);
  if (active_simd_level() == SimdLevel::Avx512) {
    for_ranges(pool, static_cast<int64_t>(n), 8, [&](int64_t i0, int64_t i1) {
      avx512::gelu(x + i0, static_cast<std::size_t>(i1 - i0));
    });
    return;
  }
  if (active_simd_level() == SimdLevel::Avx2) {
    for_ranges(pool, static_cast<int64_t>(n), 8, [&](int64_t i0, int64_t i1) {
      avx2::gelu(x + i0, static_cast<std::size_t>(i1 - i0));
    });
    return;
  }
  for_ranges(pool, static_cast<int64_t>(n), 8, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float v = x[i];
      x[i] = v * 0.5f * (1.0f + std::erf(v * k));
    }
  });
}

void softmax(float* x, int n) {
  if (n <= 0) return;
  if (active_simd_level() == SimdLevel::Avx512) {
    avx512::softmax(x, n);
    return;
  }
  if (active_simd_level() == SimdLevel::Avx2) {
    avx2::softmax(x, n);
    return;
  }
  float mx = x[0];
  for (int i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const float e = std::exp(x[i] - mx);
    x[i] = e;
    sum += e;
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

void softmax_rows(float* x, int rows, int n, int ld, ThreadPool* pool) {
  for_ranges(pool, rows, n, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) softmax(x + r * ld, n);
  });
}

namespace {

float row_max(const float* x, int n) {
  if (active_simd_level() == SimdLevel::Avx512) return avx512::row_max(x, n);
  if (active_simd_level() == SimdLevel::Avx2) return avx2::row_max(x, n);
  float m = -INFINITY;
  for (int i = 0; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

float sum_exp(const float* x, int n, float shift) {
  if (active_simd_level() == SimdLevel::Avx512) return avx512::sum_exp(x, n, shift);
  if (active_simd_level() == SimdLevel::Avx2) return avx2::sum_exp(x, n, shift);
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += std::exp(x[i] - shift);
  return static_cast<float>(s);
}

}  // namespace

// A sum that holds nothing has max -inf (exp_sum_add leaves it so for rows of -inf): that, not the
// sum, says "empty", so that a NaN sum still propagates.
void exp_sum_add(ExpSum& t, const float* x, int n) {
  if (n <= 0) return;
  const float m = std::max(t.max, row_max(x, n));
  if (m == -INFINITY) return;
  const float rescale = t.max == -INFINITY ? 0.0f : std::exp(t.max - m);
  t.sum = t.sum * rescale + sum_exp(x, n, m);
  t.max = m;
}

void exp_sum_merge(ExpSum& a, const ExpSum& b) {
  if (b.max == -INFINITY) return;
  if (a.max == -INFINITY) {
    a = b;
    return;
  }
  const float m = std::max(a.max, b.max);
  a.sum = a.sum * std::exp(a.max - m) + b.sum * std::exp(b.max - m);
  a.max = m;
}

float exp_sum_probability(const ExpSum& t, float v) {
  if (t.max == -INFINITY) return 0.0f;
  return std::exp(v - t.max) / t.sum;
}

void add_bias(float* y, int rows, int n, int ld, const float* bias, ThreadPool* pool) {
  for_ranges(pool, rows, n, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* __restrict yr = y + r * ld;
      for (int i = 0; i < n; ++i) yr[i] += bias[i];
    }
  });
}

void add_inplace(float* y, const float* x, std::size_t n, ThreadPool* pool) {
  for_ranges(pool, static_cast<int64_t>(n), 1, [&](int64_t i0, int64_t i1) {
    float* __restrict yy = y;
    const float* __restrict xx = x;
    for (int64_t i = i0; i < i1; ++i) yy[i] += xx[i];
  });
}

}  // namespace npw
