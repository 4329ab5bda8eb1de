// Packing, placement and the device product of the NPU backend (see npu_backend.h). One device
// product is: quantise the rows into the pooled A buffer's host memory, sync exactly those bytes,
// one launch, sync back exactly the rows of C asked for, dequantise into Y. Nothing is allocated
// once the pooled buffers have reached the largest product's size.
#include "backend/npu/npu_backend.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/int8_backend.h"
#include "backend/npu/host_quantize.h"
#include "backend/npu/npu_packed.h"
#include "backend/npu/op_shapes.h"
#include "backend/npu/placement.h"
#include "model/ggml_types.h"
#include "model/quant.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace npu {

std::size_t NpuPackedMatrix::bytes() const {
  if (cpu) return cpu->bytes();
  return static_cast<std::size_t>(Np) * static_cast<std::size_t>(Kp) * (op == Op::GemmI8 ? 1 : 2);
}

NpuBackend::NpuBackend(std::shared_ptr<NpuContext> context, int n_threads, Precision precision)
    : context_(std::move(context)), precision_(precision), op_(precision == Precision::Int8 ? Op::GemmI8 : Op::GemmBf16) {
  if (!context_) throw Error(ErrorKind::InvalidArgument, "NPU backend: no device context");
  kind_ = context_->name() + (precision == Precision::Bf16 ? "-bf16" : "");
  books_.device = context_->info().name;
  // The CPU backends inside start on one-thread pools (no workers) and share this one's.
  if (precision == Precision::Int8) {
    cpu_ = std::make_unique<CpuInt8Backend>(1);
  } else {
    cpu_ = std::make_unique<CpuBackend>(1);
  }
  f32_ = std::make_unique<CpuBackend>(1);
  use_thread_pool(std::make_shared<ThreadPool>(n_threads));
  {
    std::lock_guard<std::mutex> lock(context_->mutex());
    context_->check_usable();
    // The smallest shape the kernels have: loaded and self-tested here, or this throws.
    const std::vector<int> d = context_->catalog().smallest_shape(op_name(op_));
    context_->kernel(op_, d[0], d[1], d[2]);
    context_->note_run();
  }
  context_->stream_started();
}

NpuBackend::~NpuBackend() {
  context_->stream_stopped();
  std::lock_guard<std::mutex> lock(context_->mutex());
  a_.reset();
  for (auto& c : c_) c.reset();
}

void NpuBackend::set_threads(int n) {
  if (n < 1) throw Error(ErrorKind::InvalidArgument, "NPU backend set_threads: the number of threads must be at least 1");
  if (pool_->size() != n) use_thread_pool(std::make_shared<ThreadPool>(n));
}

void NpuBackend::use_thread_pool(std::shared_ptr<ThreadPool> pool) {
  if (!pool) throw Error(ErrorKind::InvalidArgument, "NPU backend use_thread_pool: no pool");
  cpu_->use_thread_pool(pool);
  f32_->use_thread_pool(pool);
  if (wide_) wide_->use_thread_pool(pool);
  pool_ = std::move(pool);
}

int NpuBackend::threads() const { return pool_->size(); }

std::unique_ptr<PackedMatrix> NpuBackend::pack(const TensorView& w) const { return pack_matrix(w, true); }

std::unique_ptr<PackedMatrix> NpuBackend::pack_for_many_rows(const TensorView& w) const { return pack_matrix(w, false); }

std::unique_ptr<PackedMatrix> NpuBackend::pack_matrix(const TensorView& w, bool with_cpu_form) const {
  auto refuse = [&](const std::string& why) {
    throw Error(ErrorKind::InvalidArgument, kind_ + " backend: cannot pack tensor '" + w.name + "': " + why);
  };
  if (w.ne[2] != 1 || w.ne[3] != 1) refuse("expected a 2-D weight matrix");
  if (w.ne[0] < 1 || w.ne[1] < 1 || w.ne[0] > INT32_MAX / 2 || w.ne[1] > INT32_MAX / 2) refuse("unsupported shape");
  if (!w.data) refuse("no data");
  if (!ggml_type_is_known(static_cast<int32_t>(w.type))) refuse("unknown type " + std::to_string(static_cast<int>(w.type)));
  const int n_in = static_cast<int>(w.ne[0]), n_out = static_cast<int>(w.ne[1]);
  if (n_in % ggml_block_elems(w.type) != 0) refuse("row length is not a multiple of the type's block");
  const std::size_t row_bytes = ggml_row_bytes(w.type, n_in);
  if (w.nbytes < row_bytes * static_cast<std::size_t>(n_out)) refuse("fewer bytes than its shape needs");

  auto p = std::make_unique<NpuPackedMatrix>();
  p->n_out_ = n_out;
  p->n_in_ = n_in;
  p->op = op_;
  p->owner = this->context_.get();
  p->context = context_;
  const GemmPadding pad = gemm_padding(context_->info().generation);
  p->Np = round_up(n_out, pad.n);
  p->Kp = round_up(n_in, pad.k);
  const bool device_form = p->Np <= kMaxGemmN && p->Kp <= kMaxGemmK;
  // A matrix too wide for the kernels (the 51864-row token embedding of the logits) keeps a CPU form
  // even when packed for many rows.
  if (with_cpu_form || !device_form) p->cpu = cpu_->pack_for_many_rows(w);
  if (!device_form) return p;

  const int e = op_input_bytes(op_name(op_));
  const std::size_t b_bytes = static_cast<std::size_t>(p->Np) * static_cast<std::size_t>(p->Kp) * static_cast<std::size_t>(e);
  std::lock_guard<std::mutex> lock(context_->mutex());
  context_->check_usable();
  // Any shape of this (Np, Kp) places the buffer in the op's B memory group; the smallest is loaded.
  const int Mp = context_->catalog().rows_for(op_name(op_), 1, p->Np, p->Kp);
  const Kernel& k = context_->kernel(op_, Mp, p->Np, p->Kp);
  p->weights = context_->device().allocate(b_bytes, k, 1);
  auto* dst = static_cast<unsigned char*>(p->weights->host());
  std::memset(dst, 0, b_bytes);  // padding rows and columns are zero
  if (op_ == Op::GemmI8) p->scales.resize(static_cast<std::size_t>(p->Np));
  std::vector<float> row(static_cast<std::size_t>(n_in));
  for (int o = 0; o < n_out; ++o) {
    const uint8_t* src = w.data + static_cast<std::size_t>(o) * row_bytes;
    if (w.type == GgmlType::F32) {
      std::memcpy(row.data(), src, row.size() * sizeof(float));
    } else {
      dequantize_row(w.type, src, row.data(), n_in);
    }
    const std::size_t at = static_cast<std::size_t>(o) * static_cast<std::size_t>(p->Kp);
    if (op_ == Op::GemmI8) {
      p->scales[static_cast<std::size_t>(o)] = quantize_row_i8(row.data(), n_in, p->Kp, reinterpret_cast<int8_t*>(dst) + at);
    } else {
      convert_row_bf16(row.data(), n_in, p->Kp, reinterpret_cast<uint16_t*>(dst) + at);
    }
  }
  p->weights->sync_to_device(0, b_bytes);  // the one sync of these weights, ever
  return p;
}

const NpuPackedMatrix& NpuBackend::own_matrix(const PackedMatrix& W) const {
  const auto* p = dynamic_cast<const NpuPackedMatrix*>(&W);
  if (!p || p->owner != context_.get() || p->op != op_) {
    throw Error(ErrorKind::InvalidArgument, kind_ + " backend linear: the weight matrix was packed by a different backend");
  }
  return *p;
}

void NpuBackend::linear(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y, int ldy) {
  const NpuPackedMatrix& p = own_matrix(W);
  if (M < 0) throw Error(ErrorKind::InvalidArgument, kind_ + " backend linear: negative row count " + std::to_string(M));
  if (ldx < 1) throw Error(ErrorKind::InvalidArgument, kind_ + " backend linear: ldx " + std::to_string(ldx) + " < 1");
  if (ldy < p.n_out()) {
    throw Error(ErrorKind::InvalidArgument, kind_ + " backend linear: ldy " + std::to_string(ldy) + " is less than n_out " +
                                                std::to_string(p.n_out()));
  }
  if (M == 0) return;
  if (!place_on_device(M, p.weights != nullptr, p.cpu != nullptr)) {
    if (ldx < p.n_in()) {
      throw Error(ErrorKind::InvalidArgument, kind_ + " backend linear: overlapping rows (ldx " + std::to_string(ldx) +
                                                  " < n_in " + std::to_string(p.n_in()) + ") on the CPU path");
    }
    cpu_->linear(X, M, ldx, *p.cpu, bias, Y, ldy);
    std::lock_guard<std::mutex> lock(mutex_);
    ++books_.products_on_cpu;
    return;
  }
  const LinearJob job{&W, bias, Y, ldy};
  const NpuPackedMatrix* packed = &p;
  device_batch(X, M, ldx, &job, &packed, 1);
}

void NpuBackend::linear_many(const float* X, int M, int ldx, const LinearJob* jobs, int n) {
  if (n < 0 || n > kMaxBatch) {
    throw Error(ErrorKind::InvalidArgument, kind_ + " backend linear_many: " + std::to_string(n) +
                                                " products in one batch (at most " + std::to_string(kMaxBatch) + ")");
  }
  // One batch only when every product goes to the device with the same padded input width (the rows
  // are prepared once for all); otherwise product by product, as the interface promises.
  const NpuPackedMatrix* packed[kMaxBatch] = {};
  bool together = n > 1 && M > 0;
  for (int i = 0; i < n && together; ++i) {
    if (!jobs[i].W) throw Error(ErrorKind::InvalidArgument, kind_ + " backend linear_many: product " + std::to_string(i) + " has no weights");
    packed[i] = &own_matrix(*jobs[i].W);
    together = packed[i]->weights && packed[i]->Kp == packed[0]->Kp && packed[i]->n_in() == packed[0]->n_in() &&
               jobs[i].ldy >= packed[i]->n_out() && place_on_device(M, true, packed[i]->cpu != nullptr);
  }
  if (!together || ldx < 1) {
    Backend::linear_many(X, M, ldx, jobs, n);
    return;
  }
  device_batch(X, M, ldx, jobs, packed, n);
}

void NpuBackend::ensure_buffers(const Kernel& kernel, int n_outputs, std::size_t a_bytes, std::size_t c_bytes) {
  if (!a_ || a_->size() < a_bytes) {
    a_.reset();
    a_ = context_->device().allocate(a_bytes, kernel, 0);
    ++books_.buffers_allocated;
  }
  for (int i = 0; i < n_outputs; ++i) {
    std::unique_ptr<DeviceBuffer>& c = c_[static_cast<std::size_t>(i)];
    if (!c || c->size() < c_bytes) {
      c.reset();
      c = context_->device().allocate(c_bytes, kernel, 2);
      ++books_.buffers_allocated;
    }
  }
}

void NpuBackend::device_batch(const float* X, int M, int ldx, const LinearJob* jobs, const NpuPackedMatrix* const* W,
                              int n) {
  std::lock_guard<std::mutex> own(mutex_);
  if (!failure_.empty()) throw Error(ErrorKind::Internal, failure_);
  if (cancel_requested(cancel_)) return;
  std::lock_guard<std::mutex> lock(context_->mutex());
  context_->check_usable();
  const char* op = op_name(op_);
  const int n_in = W[0]->n_in(), Kp = W[0]->Kp;
  int max_rows = M;
  int widest = 0;
  for (int i = 0; i < n; ++i) {
    max_rows = std::min(max_rows, context_->catalog().max_rows(op, W[i]->Np, Kp));
    widest = std::max(widest, W[i]->Np);
  }
  const std::size_t e = static_cast<std::size_t>(op_input_bytes(op));
  books_.products_on_device += static_cast<std::uint64_t>(n);
  for (int m0 = 0; m0 < M; m0 += max_rows) {
    const int rows = std::min(max_rows, M - m0);
    Launch launches[kMaxBatch];
    const Kernel* kernels[kMaxBatch] = {};
    int Mp_max = 0;
    for (int i = 0; i < n; ++i) {
      const int Mp = context_->catalog().rows_for(op, rows, W[i]->Np, Kp);
      kernels[i] = &context_->kernel(op_, Mp, W[i]->Np, Kp);
      Mp_max = std::max(Mp_max, Mp);
    }
    ensure_buffers(*kernels[0], n, static_cast<std::size_t>(Mp_max) * Kp * e, static_cast<std::size_t>(Mp_max) * widest * 4);
    row_scales_.reserve_at_least(static_cast<std::size_t>(rows));
    const double seconds_before = context_->device().books().device_seconds;

    // Rows into the A buffer, quantised / rounded in place, once for every product of the batch.
    auto* a = static_cast<unsigned char*>(a_->host());
    float* scales = row_scales_.data();
    const Precision precision = precision_;
    auto fill = [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* x = X + static_cast<std::size_t>(m0 + r) * static_cast<std::size_t>(ldx);
        unsigned char* dst = a + static_cast<std::size_t>(r) * Kp * e;
        if (precision == Precision::Int8) {
          scales[r] = quantize_row_i8(x, n_in, Kp, reinterpret_cast<int8_t*>(dst));
        } else {
          convert_row_bf16(x, n_in, Kp, reinterpret_cast<uint16_t*>(dst));
        }
      }
    };
    pool_->parallel_for(rows, fill);
    const std::size_t a_used = static_cast<std::size_t>(rows) * Kp * e;
    a_->sync_to_device(0, a_used);
    for (int i = 0; i < n; ++i) {
      Launch& l = launches[i];
      l.kernel = kernels[i];
      l.n_args = 3;
      l.args[0] = a_.get();
      l.args[1] = W[i]->weights.get();
      l.args[2] = c_[static_cast<std::size_t>(i)].get();
    }
    const auto run_start = std::chrono::steady_clock::now();
    try {
      context_->device().run(launches, n, context_->timeout_ms(), cancel_);
    } catch (const Error& err) {
      // Stopped: not the device's fault; the caller sees its flag and discards the window.
      if (err.kind() == ErrorKind::Cancelled) return;
      const KernelSpec& spec = kernels[0]->spec();
      failure_ = kind_ + ": the device product " + std::string(op) + " " + std::to_string(spec.dims[0]) + "x" +
                 std::to_string(spec.dims[1]) + "x" + std::to_string(spec.dims[2]) +
                 (n > 1 ? " (in a batch of " + std::to_string(n) + ")" : std::string()) + " failed: " + err.what();
      context_->fail(failure_);
      throw Error(ErrorKind::Internal, failure_);
    }
    context_->note_run();
    books_.run_wall_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
    books_.launches += static_cast<std::uint64_t>(n);
    ++books_.batches;
    books_.bytes_to_device += a_used;
    books_.device_seconds += context_->device().books().device_seconds - seconds_before;

    for (int i = 0; i < n; ++i) {
      const int Np = W[i]->Np, n_out = W[i]->n_out();
      const std::size_t c_used = static_cast<std::size_t>(rows) * Np * 4;
      DeviceBuffer& cb = *c_[static_cast<std::size_t>(i)];
      cb.sync_from_device(0, c_used);
      books_.bytes_from_device += c_used;
      const unsigned char* c = static_cast<const unsigned char*>(cb.host());
      const float* col_scales = W[i]->scales.data();
      const float* bias = jobs[i].bias;
      float* Y = jobs[i].Y;
      const int ldy = jobs[i].ldy;
      auto finish = [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; ++r) {
          float* y = Y + static_cast<std::size_t>(m0 + r) * static_cast<std::size_t>(ldy);
          const unsigned char* row = c + static_cast<std::size_t>(r) * Np * 4;
          if (precision == Precision::Int8) {
            dequantize_row_i8(reinterpret_cast<const int32_t*>(row), n_out, scales[r], col_scales, bias, y);
          } else {
            finish_row_f32(reinterpret_cast<const float*>(row), n_out, bias, y);
          }
        }
      };
      pool_->parallel_for(rows, finish);
    }
  }
}

void NpuBackend::matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                        const float* B, int ldb, float beta, float* C, int ldc) {
  f32_->matmul(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void NpuBackend::set_cancel(const std::atomic<bool>* flag) {
  cancel_ = flag;
  cpu_->set_cancel(flag);
  f32_->set_cancel(flag);
  if (wide_) wide_->set_cancel(flag);
}

Backend& NpuBackend::wide_range_products() {
  if (precision_ == Precision::Bf16) return *this;
  if (!wide_) {
    wide_ = std::make_unique<NpuBackend>(context_, 1, Precision::Bf16);
    wide_->use_thread_pool(pool_);
    wide_->set_cancel(cancel_);
  }
  return *wide_;
}

bool NpuBackend::accelerator_books(AcceleratorBooks* out) const {
  if (out) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      *out = books_;
    }
    // The stream's bf16 products (the log-mel on the device) are this stream's work too.
    AcceleratorBooks w;
    if (wide_ && wide_->accelerator_books(&w)) {
      out->launches += w.launches;
      out->batches += w.batches;
      out->bytes_to_device += w.bytes_to_device;
      out->bytes_from_device += w.bytes_from_device;
      out->buffers_allocated += w.buffers_allocated;
      out->products_on_device += w.products_on_device;
      out->products_on_cpu += w.products_on_cpu;
      out->device_seconds += w.device_seconds;
      out->run_wall_seconds += w.run_wall_seconds;
    }
  }
  return true;
}

}  // namespace npu
}  // namespace npw
