// The portable f32 backend: every weight is widened once to a 64-byte aligned row-major f32 matrix and
// every product is an OpenBLAS sgemm. It is the reference the other backends are measured against and
// the fallback when no accelerator is present.
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"
#include "util/aligned_buffer.h"

namespace npw {

class ThreadPool;

// W as f32 [n_out][n_in], rows n_in floats apart.
class CpuPackedMatrix : public PackedMatrix {
 public:
  CpuPackedMatrix(int n_out, int n_in);
  int n_out() const override { return n_out_; }
  int n_in() const override { return n_in_; }
  std::size_t bytes() const override { return data_.size() * sizeof(float); }
  const float* data() const { return data_.data(); }
  float* data() { return data_.data(); }

 private:
  int n_out_;
  int n_in_;
  AlignedBuffer<float> data_;
};

// Threads: OpenBLAS is pinned to one thread and the backend splits each product over its own pool
// instead, so that a product issued from inside another parallel loop (attention heads run on the
// stream's pool) runs single-threaded instead of oversubscribing the cores. openblas_set_num_threads
// is process-wide; every CpuBackend sets the same value, so streams do not disturb each other.
class CpuBackend : public Backend {
 public:
  explicit CpuBackend(int n_threads);
  ~CpuBackend() override;

  std::string kind() const override { return "cpu"; }
  std::unique_ptr<PackedMatrix> pack(const TensorView& w) const override;
  void linear(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y,
              int ldy) override;
  void matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
              const float* B, int ldb, float beta, float* C, int ldc) override;
  void set_threads(int n) override;
  int threads() const override;

 private:
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace npw
