// The portable f32 backend: the reference the other backends are measured against and the fallback
// when no accelerator is present. Weights are kept in 64-byte aligned row-major matrices (f16 and q8_0
// as compact as the file holds them, every other type widened to f32 once); few-row products (decoder
// steps) run through the skinny kernels, the rest through the panel kernels of panel_gemm.h (AVX2 and
// AVX-512), and through OpenBLAS sgemm on f32 only on a CPU without AVX2 and for matmul()'s transposed
// operands (the portable attention's reference).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "backend/cpu/panel_gemm.h"
#include "backend/cpu/skinny_gemm.h"
#include "util/aligned_buffer.h"

namespace npw {

class ThreadPool;

// W [n_out][n_in], rows n_in elements apart: as IEEE half floats when the file stores f16 (kept as
// they are: half the memory, and half the bytes a decoder step streams; widened exactly where they
// are used), as int8 quants + the file's half block scales when it stores q8_0 (Q8: 1.0625 bytes a
// weight, as in the file, instead of 4; each weight is the f32 product dequantize_row() gives, formed
// where it is used), as f32
// otherwise (every other type dequantised once). Matrices packed for many rows on
// a CPU with AVX2 or AVX-512 are in the panel layout of panel_gemm.h instead of rows (halves stay
// halves, q8_0 stays quants + scales).
class CpuPackedMatrix : public PackedMatrix {
 public:
  enum class Storage { F32, F16, F32Panels, F16Panels, Q8, Q8Panels };
  // block_offsets (Q8 storage only): room for an offset per block as well (q5_1, q4_1).
  CpuPackedMatrix(int n_out, int n_in, Storage storage = Storage::F32, bool block_offsets = false);
  int n_out() const override { return n_out_; }
  int n_in() const override { return n_in_; }
  std::size_t bytes() const override {
    return half_.size() * sizeof(uint16_t) + data_.size() * sizeof(float) + quants_.size();
  }
  Storage storage() const { return storage_; }
  bool copy_row(int o, float* out) const override;
  // F32Panels / F16Panels storage: the panels; nullptr otherwise.
  const float* panel_data() const { return storage_ == Storage::F32Panels ? data_.data() : nullptr; }
  float* panel_data() { return storage_ == Storage::F32Panels ? data_.data() : nullptr; }
  const uint16_t* panel_half_data() const { return storage_ == Storage::F16Panels ? half_.data() : nullptr; }
  uint16_t* panel_half_data() { return storage_ == Storage::F16Panels ? half_.data() : nullptr; }
  // F32 storage: the rows; nullptr for the other storages.
  const float* data() const { return storage_ == Storage::F32 ? data_.data() : nullptr; }
  float* data() { return storage_ == Storage::F32 ? data_.data() : nullptr; }
  // F16 storage: the rows' half-float bits; nullptr for F32 storage.
  const uint16_t* half_data() const { return storage_ == Storage::F16 ? half_.data() : nullptr; }
  uint16_t* half_data() { return storage_ == Storage::F16 ? half_.data() : nullptr; }
  // Q8 storage: quants [n_out][n_in], scales [n_out][n_in / 32] (halves) and, with block offsets, the
  // offsets after them (in half_); empty otherwise.
  Q8Weights q8() const {
    return storage_ == Storage::Q8 ? Q8Weights{quants_.data(), half_.data(), offsets()} : Q8Weights{nullptr, nullptr};
  }
  int8_t* q8_quants() { return storage_ == Storage::Q8 ? quants_.data() : nullptr; }
  uint16_t* q8_scales() { return storage_ == Storage::Q8 ? half_.data() : nullptr; }
  uint16_t* q8_offsets() { return const_cast<uint16_t*>(offsets()); }
  // Q8Panels storage: quants and scales (halves) in the panel layout (panel_gemm.h); nullptr otherwise.
  Q8Panels panel_q8() const {
    return storage_ == Storage::Q8Panels ? Q8Panels{quants_.data(), half_.data()} : Q8Panels{nullptr, nullptr};
  }
  int8_t* panel_q8_quants() { return storage_ == Storage::Q8Panels ? quants_.data() : nullptr; }
  uint16_t* panel_q8_scales() { return storage_ == Storage::Q8Panels ? half_.data() : nullptr; }

 private:
  // Q8 storage with block offsets: they follow the scales in half_.
  const uint16_t* offsets() const {
    return storage_ == Storage::Q8 && offsets_
               ? half_.data() + static_cast<std::size_t>(n_out_) * static_cast<std::size_t>(n_in_) / kQ8Block
               : nullptr;
  }

  int n_out_;
  int n_in_;
  Storage storage_;
  bool offsets_ = false;
  AlignedBuffer<float> data_;
  AlignedBuffer<uint16_t> half_;
  AlignedBuffer<int8_t> quants_;
};

// Threads: OpenBLAS is pinned to one thread and the backend splits each product over its own pool
// instead, so that a product issued from inside another parallel loop (attention heads run on the
// stream's pool) runs single-threaded instead of oversubscribing the cores. OpenBLAS's thread count
// is process-wide; the loader sets it to one when it opens the library (util/openblas.h), and only
// the bench's ceilings change it, back to one when they finish.
class CpuBackend : public Backend {
 public:
  explicit CpuBackend(int n_threads);
  // On the stream's pool (see Backend::use_thread_pool), making none of its own.
  explicit CpuBackend(std::shared_ptr<ThreadPool> pool);
  ~CpuBackend() override;

  std::string kind() const override { return "cpu"; }
  std::unique_ptr<PackedMatrix> pack(const TensorView& w) const override;
  // With AVX2 or AVX-512, the panel layout: halves for f16 weights, quants + scales for q8_0, q5_0 and
  // q4_0, f32 for every other type (q5_1 and q4_1 stay in rows, which the panel kernels gather from).
  std::unique_ptr<PackedMatrix> pack_for_many_rows(const TensorView& w) const override;
  void linear(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y,
              int ldy) override;
  // For row storages (f32, f16, q8_0) at AVX2 or above: the skinny kernels over the range, in groups
  // of at most kSkinnyBlockedMaxRows rows of X; with more than kRangePanelMinRows rows, the panel
  // kernel over the rows gathered a slice at a time instead. Measured on a Xeon (AVX-512,
  // f16, tiny's 51,865 x 384 in blocks of 256 to 1024 ids, one thread): at 100 rows 28 ms against 35,
  // at 64 rows 20 against 24, at 32 rows 14 against 12.
  static constexpr int kRangePanelMinRows = 32;
  // At AVX2 the skinny kernels hold out longer. Measured on a Zen 3 (AVX2, f16, tiny, the alignment
  // pass's vocabulary product, two threads, alternated 3x): at ~32 rows 10-12.7 ms against 13.2-14.3
  // through the panel kernel, ~48 rows even, ~64 rows 20.6-30 against 19-20.5, ~104 rows 37-41 against
  // 33-35.
  static constexpr int kRangePanelMinRowsAvx2 = 48;
  bool linear_range(const float* X, int M, int ldx, const PackedMatrix& W, int o0, int o1, float* Y,
                    int ldy) override;
  // At AVX2 and above, C = alpha A B (untransposed, beta 0: the word-timing pass's scores) through the
  // panel kernels, B's rows read 32 columns at a time; every other form through OpenBLAS.
  void matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
              const float* B, int ldb, float beta, float* C, int ldc) override;
  void set_threads(int n) override;
  int threads() const override;
  std::shared_ptr<ThreadPool> thread_pool() const override { return pool_; }
  void use_thread_pool(std::shared_ptr<ThreadPool> pool) override;
  // Polled between row blocks of a long product (an encoder product of a large model runs for tens of
  // milliseconds): a stop returns with the rest of Y unspecified, and the caller discards it.
  void set_cancel(const std::atomic<bool>* flag) override { cancel_ = flag; }

 private:
  // Checks a weight tensor's shape, type and size for packing; returns its bytes per row.
  std::size_t check_packable(const TensorView& w) const;
  // linear() for F16 storage: few rows through the skinny kernels straight from the halves, more
  // through the panel kernels gathering the rows a slice at a time. Without AVX2 (OpenBLAS): called
  // from outside the pool, the whole matrix widened into widened_ by all threads, then the f32
  // product split as matmul() splits it; from inside a pool chunk (a convolution block per thread),
  // blocks of output rows widened into per-thread scratch, each block one sgemm.
  void linear_f16(const float* X, int M, int ldx, const CpuPackedMatrix& W, const float* bias, float* Y, int ldy);
  // The same for Q8 storage, the rows dequantised where linear_f16 widens halves.
  void linear_q8(const float* X, int M, int ldx, const CpuPackedMatrix& W, const float* bias, float* Y, int ldy);
  // The shared body: few rows through skinny(W_skinny), else rows [r0, r1) of W made f32 by
  // to_f32(r0, r1, dst) and multiplied as linear_f16 describes.
  template <typename T, typename ToF32>
  void linear_narrow(const float* X, int M, int ldx, const CpuPackedMatrix& W, const T* W_skinny, ToF32 to_f32,
                     const float* bias, float* Y, int ldy);
  // Y = X W^T + bias for f32 weights W [n_out][n_in] through OpenBLAS: split over the pool by the
  // longer side of Y when it pays (each chunk with its own bias), else one sgemm on the calling thread.
  void product(const float* X, int M, int ldx, const float* W, int n_in, int n_out, const float* bias, float* Y,
               int ldy);
  // product() on rows it hands out: one call per row block (row_blocks).
  void product_rows(const float* X, int M, int ldx, const float* W, int n_in, int n_out, const float* bias, float* Y,
                    int ldy);
  // linear() for the panel storages, through linear_tiles.
  void linear_panels(const float* X, int M, int ldx, const CpuPackedMatrix& W, const float* bias, float* Y, int ldy);
  // A product through panel_gemm over any of its weight sources (panels, or rows gathered a slice at
  // a time): row tiles split over the pool when there are enough of them, else whole panels of output
  // columns; in row blocks when a stop flag is set (row_blocks).
  template <typename Src>
  void linear_tiles(const float* X, int M, int ldx, const Src& w, int n_out, int n_in, const float* bias, float* Y,
                    int ldy);
  // fn(r0, r1) over the rows [0, M) of a product of `macs_per_row` multiply-adds per row: at once, or,
  // with a stop flag set and a long product, in blocks of rows with the flag checked between them.
  template <typename Fn>
  void row_blocks(int M, double macs_per_row, Fn fn);
  template <typename T>
  bool skinny(const float* X, int M, int ldx, const T* W, int n_in, int n_out, const float* bias, float* Y, int ldy);
  // The most rows linear() gives the skinny kernels at the active level (skinny_gemm.h:
  // kSkinnyBlockedMaxRowsAvx2 at AVX2, kSkinnyBlockedMaxRows otherwise); more go to the panel kernels.
  static int few_row_limit();

  std::shared_ptr<ThreadPool> pool_;
  const std::atomic<bool>* cancel_ = nullptr;
  // linear_f16's widened weights without AVX2: grown to the largest f16 matrix once, then reused
  // (n_out x n_in floats; 26 MB for large-v3's MLP).
  AlignedBuffer<float> widened_{MemoryLabel{"widening scratch of f16 products"}};
};

}  // namespace npw
