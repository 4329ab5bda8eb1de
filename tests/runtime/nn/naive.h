// Reference loops in double precision for the nn unit tests: obviously correct, slow, tiny inputs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace npw_test {

inline std::vector<float> random_vector(std::size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// C = alpha op(A) op(B) + beta C, row-major.
inline void naive_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
                       int ldb, float beta, float* C, int ldc) {
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      double s = 0.0;
      for (int k = 0; k < K; ++k) {
        const double a = ta ? A[k * lda + m] : A[m * lda + k];
        const double b = tb ? B[n * ldb + k] : B[k * ldb + n];
        s += a * b;
      }
      C[m * ldc + n] = static_cast<float>(alpha * s + (beta == 0.0f ? 0.0 : beta * C[m * ldc + n]));
    }
  }
}

// Largest |got - want| relative to max(1, |want|).
inline double max_rel_err(const float* got, const float* want, std::size_t n) {
  double worst = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = std::fabs(static_cast<double>(got[i]) - want[i]) / std::max(1.0, std::fabs(static_cast<double>(want[i])));
    if (!(e <= worst)) worst = e;  // also catches NaN
  }
  return worst;
}

// One head of attention in double precision: out[r] (d_head values at column col of rows ld apart) =
// softmax(alpha q[r] . k[j] over keys j < lim[r]) v, zeros where lim[r] == 0; q, k, v rows ld apart.
inline void naive_head_attention(const float* q, const float* k, const float* v, int ld, int rows, int col, int d_head,
                                 float alpha, const int* lim, float* out) {
  for (int r = 0; r < rows; ++r) {
    float* o = out + static_cast<std::size_t>(r) * ld + col;
    std::fill(o, o + d_head, 0.0f);
    if (lim[r] == 0) continue;
    std::vector<double> p(lim[r]);
    double mx = -INFINITY, sum = 0.0;
    for (int j = 0; j < lim[r]; ++j) {
      double dot = 0.0;
      for (int d = 0; d < d_head; ++d) {
        dot += static_cast<double>(q[static_cast<std::size_t>(r) * ld + col + d]) * k[static_cast<std::size_t>(j) * ld + col + d];
      }
      p[j] = dot * alpha;
      mx = std::max(mx, p[j]);
    }
    for (double& x : p) sum += (x = std::exp(x - mx));
    for (int d = 0; d < d_head; ++d) {
      double acc = 0.0;
      for (int j = 0; j < lim[r]; ++j) acc += p[j] / sum * v[static_cast<std::size_t>(j) * ld + col + d];
      o[d] = static_cast<float>(acc);
    }
  }
}

}  // namespace npw_test
