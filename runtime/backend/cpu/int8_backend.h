// The CPU int8 backend ("cpu-int8"): weights quantised once at load to 32-blocks of int8 with f32
// scales (q8_0 files used as they are), activations quantised on the fly, integer dot products on AMX,
// AVX-512 VNNI or AVX2 chosen at run time. It trades ~1 % of accuracy for several times the f32 speed
// and under a third of the weight bytes a decoder step reads. Products on activations (attention) go
// to the f32 backend.
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/int8_kernels.h"

namespace npw {

class ThreadPool;

class CpuInt8Backend : public Backend {
 public:
  // Uses the best variant this CPU supports.
  explicit CpuInt8Backend(int n_threads);
  // Forces a variant (tests, benchmarks); throws npw::Error(Unavailable) when the CPU lacks it.
  CpuInt8Backend(int n_threads, Int8Isa isa);
  // The best variant on the stream's pool (see Backend::use_thread_pool), making none of its own.
  explicit CpuInt8Backend(std::shared_ptr<ThreadPool> pool);
  ~CpuInt8Backend() override;

  std::string kind() const override { return "cpu-int8"; }
  // Already a speed-for-accuracy path: the encoder's attention may run in bf16 too (on AMX tiles or
  // with AVX512_BF16 where present; the f32 kernels elsewhere).
  bool reduced_precision_attention() const override { return true; }
  Int8Isa isa() const { return kernel_->isa; }
  std::unique_ptr<PackedMatrix> pack(const TensorView& w) const override;
  // The same records on 4 KiB pages (int8_packed.h).
  std::unique_ptr<PackedMatrix> pack_for_many_rows(const TensorView& w) const override;
  void linear(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y,
              int ldy) override;
  // The rows of X quantised once for every job, and the jobs' products in one pass over the pool: a
  // decoder layer's q, k and v (three small products a step, each a wake-up of the pool and a
  // quantisation of the same rows) or a window's cross-attention keys and values.
  void linear_many(const float* X, int M, int ldx, const LinearJob* jobs, int n) override;
  // Ranges that start on a record (o0 a multiple of kInt8Tile): the range's rows of X quantised once
  // per call, then its records' tiles (split over the pool from outside one).
  bool linear_range(const float* X, int M, int ldx, const PackedMatrix& W, int o0, int o1, float* Y,
                    int ldy) override;
  // Where the kernel has a GELU quantiser (AVX-512 variants, at the AVX-512 SIMD level, whose gelu()
  // is the same lane by lane): GELU applied while the rows are quantised.
  bool linear_of_gelu(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y,
                      int ldy) override;
  void matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
              const float* B, int ldb, float beta, float* C, int ldc) override;
  // Rows are quantised from where they are, overlapping or not: a convolution's im2col rows need no
  // copy (tiny's encoder convolutions on a Xeon, 2 threads: 3.3 -> 2.7 ms a window).
  bool whole_products() const override { return true; }
  void set_threads(int n) override;
  int threads() const override;
  std::shared_ptr<ThreadPool> thread_pool() const override { return pool_; }
  // Also the pool of the f32 backend inside.
  void use_thread_pool(std::shared_ptr<ThreadPool> pool) override;

 private:
  // Jobs run together by one call of products(); linear_many takes more a group at a time.
  static constexpr int kMaxJobs = 4;
  // linear(), linear_many() and linear_of_gelu() (what names the caller in errors; with gelu, the
  // products of GELU(X)); 1 <= n <= kMaxJobs.
  void products(const char* what, const float* X, int M, int ldx, const LinearJob* jobs, int n, bool gelu = false);

  const Int8Kernel* kernel_;
  std::shared_ptr<ThreadPool> pool_;
  CpuBackend f32_;  // matmul() on activations
};

}  // namespace npw
