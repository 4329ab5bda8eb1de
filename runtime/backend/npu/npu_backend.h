// The NPU backend ("npu", "npu-emulator"): Backend over an npu::Device. Many-row products (the
// encoder's, the cross-attention keys and values, prompt prefill) run as one device launch each on
// weights packed once at load; a decoder step's few rows stay on the CPU's int8 kernels (placement.h
// says where the line is and why); attention and the norms stay on the CPU. Per stream it keeps one
// pooled pair of device buffers (activations in, results out), sized at first use and synced over
// exactly the bytes a product uses, and books of what it did on the device.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "backend/backend.h"
#include "backend/npu/device.h"
#include "backend/npu/npu_context.h"
#include "util/aligned_buffer.h"

namespace npw {

class ThreadPool;

namespace npu {

class NpuPackedMatrix;

enum class Precision { Int8, Bf16 };

class NpuBackend : public Backend {
 public:
  // Runs the start-up self-test (a small product of the op) before returning, so that a broken
  // device is refused here (npw::Error(Unavailable) naming the kernel and by how much).
  NpuBackend(std::shared_ptr<NpuContext> context, int n_threads, Precision precision = Precision::Int8);
  ~NpuBackend() override;

  std::string kind() const override { return kind_; }
  std::unique_ptr<PackedMatrix> pack(const TensorView& w) const override;
  std::unique_ptr<PackedMatrix> pack_for_many_rows(const TensorView& w) const override;
  void linear(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y,
              int ldy) override;
  void linear_many(const float* X, int M, int ldx, const LinearJob* jobs, int n) override;
  void matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
              const float* B, int ldb, float beta, float* C, int ldc) override;
  bool reduced_precision_attention() const override { return precision_ == Precision::Int8; }
  bool whole_products() const override { return true; }
  // A raised flag makes products return at once, their results unspecified (the caller discards the
  // window): before the rows are prepared, and during a device run, which it ends (device.h).
  void set_cancel(const std::atomic<bool>* flag) override;
  bool accelerator_books(AcceleratorBooks* out) const override;
  // int8: a bf16 backend on the same device, made on first use (its books are its own).
  Backend& wide_range_products() override;
  void set_threads(int n) override;
  int threads() const override;
  std::shared_ptr<ThreadPool> thread_pool() const override { return pool_; }
  void use_thread_pool(std::shared_ptr<ThreadPool> pool) override;

  NpuContext& context() { return *context_; }
  Precision precision() const { return precision_; }

 private:
  std::unique_ptr<PackedMatrix> pack_matrix(const TensorView& w, bool with_cpu_form) const;
  // The largest batch linear_many() runs as one (a window's products come at most three at a time).
  static constexpr int kMaxBatch = 8;
  const NpuPackedMatrix& own_matrix(const PackedMatrix& W) const;
  // Products of the same rows X as one batch: X prepared once into A, one device run of n launches
  // (one runlist on XRT), each result synced back over exactly its rows.
  void device_batch(const float* X, int M, int ldx, const LinearJob* jobs, const NpuPackedMatrix* const* W, int n);
  void ensure_buffers(const Kernel& kernel, int n_outputs, std::size_t a_bytes, std::size_t c_bytes);

  std::shared_ptr<NpuContext> context_;
  Precision precision_;
  Op op_;
  std::string kind_;
  std::unique_ptr<Backend> cpu_;  // few-row products (cpu-int8, or cpu for bf16)
  std::unique_ptr<Backend> f32_;  // matmul on activations
  std::shared_ptr<ThreadPool> pool_;  // shared with cpu_, f32_ and wide_
  std::unique_ptr<NpuBackend> wide_;  // see wide_range_products()
  const std::atomic<bool>* cancel_ = nullptr;

  mutable std::mutex mutex_;  // the pooled buffers and books (linear may be called from several threads)
  std::unique_ptr<DeviceBuffer> a_;
  std::unique_ptr<DeviceBuffer> c_[kMaxBatch];  // one result buffer per product of a batch
  AlignedBuffer<float> row_scales_;
  AcceleratorBooks books_;
  std::string failure_;  // set after a device run failed: every later product refuses
};

}  // namespace npu
}  // namespace npw
