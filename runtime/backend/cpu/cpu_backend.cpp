// OpenBLAS products for the f32 CPU backend: weights of any GGML type are dequantised once into
// aligned f32 rows, so a linear layer is one sgemm (X times W transposed) whatever the file held.
#include "backend/cpu/cpu_backend.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/panel_gemm.h"
#include "backend/cpu/skinny_gemm.h"
#include "model/quant.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/openblas.h"
#include "util/cancel.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

// Below this many multiply-adds a product is not worth waking the pool for.
constexpr double kParallelMacs = 1 << 18;
// A product longer than this many multiply-adds runs in row blocks of about this size when a stop
// flag is set (CpuBackend::row_blocks): a few milliseconds each on two cores, large enough that the
// blocks still split evenly over the pool (2^28 / (512 x 2048) = 256 rows, 18 panel tiles).
constexpr double kCancelBlockMacs = 1 << 28;
// A skinny product is memory-bound: splitting it pays from a smaller size, as soon as the weights
// outgrow what one core streams in the time a wake-up costs.
constexpr double kSkinnyParallelFloats = 1 << 16;

// Y's rows [0, M) x columns [0, n) set to the bias; returns the beta that accumulates a product onto
// them (1), or 0 without a bias. One pass over Y either way: the product then writes it once.
float bias_rows(const float* bias, int M, int n, float* Y, int ldy) {
  if (!bias) return 0.0f;
  for (int m = 0; m < M; ++m) std::memcpy(Y + static_cast<std::size_t>(m) * ldy, bias, sizeof(float) * static_cast<std::size_t>(n));
  return 1.0f;
}

// The row storages as panel_gemm reads them.
HalfRows rows_of(const uint16_t* w) { return HalfRows{w}; }
const Q8Weights& rows_of(const Q8Weights* w) { return *w; }

// dst[i] = the half src[i], exactly: F16C where the active level has it.
void widen(const uint16_t* src, float* dst, std::size_t n, SimdLevel level) {
  if (level != SimdLevel::Scalar) {
    widen_f16_f16c(src, dst, n);
  } else {
    for (std::size_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(src[i]);
  }
}

[[noreturn]] void bad_call(const std::string& what, const std::string& why) {
  throw Error(ErrorKind::InvalidArgument, "cpu backend " + what + ": " + why);
}

std::string str(long long v) { return std::to_string(v); }

// C = alpha op(A) op(B) + beta C on one thread (OpenBLAS, opened on the first call: util/openblas.h).
void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
  openblas::sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// Rows are streamed once per decoder step (huge pages: fewer TLB misses); panels are the many-row
// products' layout, read from cache block by block (4 KiB pages: measured faster, aligned_buffer.h).
Pages pages_of(CpuPackedMatrix::Storage s) {
  using S = CpuPackedMatrix::Storage;
  return s == S::F32Panels || s == S::F16Panels || s == S::Q8Panels ? Pages::Small : Pages::Huge;
}

}  // namespace

CpuPackedMatrix::CpuPackedMatrix(int n_out, int n_in, Storage storage, bool block_offsets)
    : n_out_(n_out),
      n_in_(n_in),
      storage_(storage),
      offsets_(block_offsets && storage == Storage::Q8),
      data_(MemoryLabel{"packed weights"}, pages_of(storage)),
      half_(MemoryLabel{"packed weights"}, pages_of(storage)),
      quants_(MemoryLabel{"packed weights"}, pages_of(storage)) {
  const std::size_t n = static_cast<std::size_t>(n_out) * static_cast<std::size_t>(n_in);
  if (storage == Storage::F32) {
    data_.resize(n);
  } else if (storage == Storage::F16) {
    half_.resize(n);
  } else if (storage == Storage::Q8) {
    quants_.resize(n);
    // One half more: the panel kernel's gather of a row's scales reads each as 32 bits.
    half_.resize((offsets_ ? 2 : 1) * (n / kQ8Block) + 1);
  } else if (storage == Storage::F32Panels) {
    data_.resize(panel_floats(n_out, n_in));
  } else if (storage == Storage::Q8Panels) {
    quants_.resize(panel_floats(n_out, n_in));
    half_.resize(panel_floats(n_out, n_in / kQ8PanelBlock));
  } else {
    half_.resize(panel_floats(n_out, n_in));
  }
}

bool CpuPackedMatrix::copy_row(int o, float* out) const {
  if (o < 0 || o >= n_out_) return false;
  const std::size_t at = static_cast<std::size_t>(o) * static_cast<std::size_t>(n_in_);
  switch (storage_) {
    case Storage::F32:
      std::memcpy(out, data_.data() + at, static_cast<std::size_t>(n_in_) * sizeof(float));
      return true;
    case Storage::F16:
      for (int i = 0; i < n_in_; ++i) out[i] = fp16_to_fp32(half_[at + static_cast<std::size_t>(i)]);
      return true;
    case Storage::Q8: {
      // dequantize_row's value: the quant times its block's f16 scale, in f32 (plus the block's offset
      // for q5_1 / q4_1).
      const Q8Weights w = q8();
      for (int i = 0; i < n_in_; ++i) out[i] = q8_weight(w, at + static_cast<std::size_t>(i));
      return true;
    }
    default:
      return false;  // panels: a row is spread over a panel's slices
  }
}

CpuBackend::CpuBackend(int n_threads) { set_threads(n_threads); }

CpuBackend::CpuBackend(std::shared_ptr<ThreadPool> pool) {
  use_thread_pool(std::move(pool));
}

CpuBackend::~CpuBackend() = default;

void CpuBackend::set_threads(int n) {
  if (n < 1) bad_call("set_threads", "the number of threads must be at least 1 (got " + str(n) + ")");
  if (!pool_ || pool_->size() != n) {
    pool_.reset();
    pool_ = std::make_shared<ThreadPool>(n);
  }
}

void CpuBackend::use_thread_pool(std::shared_ptr<ThreadPool> pool) {
  if (!pool) bad_call("use_thread_pool", "no pool");
  pool_ = std::move(pool);
}

int CpuBackend::threads() const { return pool_->size(); }

std::size_t CpuBackend::check_packable(const TensorView& w) const {
  const std::string what = "pack of tensor '" + w.name + "'";
  if (w.ne[2] != 1 || w.ne[3] != 1) bad_call(what, "expected a 2-D weight matrix");
  if (w.ne[0] < 1 || w.ne[1] < 1 || w.ne[0] > INT32_MAX || w.ne[1] > INT32_MAX) {
    bad_call(what, "unsupported shape " + str(w.ne[0]) + " x " + str(w.ne[1]));
  }
  if (!w.data) bad_call(what, "no data");
  const int n_in = static_cast<int>(w.ne[0]);
  const int n_out = static_cast<int>(w.ne[1]);
  if (n_in % ggml_block_elems(w.type) != 0) {
    bad_call(what, "row length " + str(n_in) + " is not a multiple of the " + ggml_type_name(w.type) + " block");
  }
  const std::size_t row_bytes = ggml_row_bytes(w.type, n_in);
  if (w.nbytes < row_bytes * static_cast<std::size_t>(n_out)) {
    bad_call(what, "holds " + str(static_cast<long long>(w.nbytes)) + " bytes, its shape needs " +
                       str(static_cast<long long>(row_bytes * static_cast<std::size_t>(n_out))));
  }
  return row_bytes;
}

std::unique_ptr<PackedMatrix> CpuBackend::pack(const TensorView& w) const {
  const std::size_t row_bytes = check_packable(w);
  const int n_in = static_cast<int>(w.ne[0]);
  const int n_out = static_cast<int>(w.ne[1]);

  if (w.type == GgmlType::F16) {
    auto packed = std::make_unique<CpuPackedMatrix>(n_out, n_in, CpuPackedMatrix::Storage::F16);
    // Rows of halves are contiguous in the file (no padding between records' rows).
    std::memcpy(packed->half_data(), w.data, static_cast<std::size_t>(n_out) * row_bytes);
    return packed;
  }
  if (is_scaled_int8_type(w.type) || is_offset_int8_type(w.type)) {
    // q8_0, q5_0, q4_0: every weight a quant times its block's f16 scale; q5_1, q4_1: plus the
    // block's offset. Split into rows of int8 quants, of scales and of offsets (the file's halves), so
    // that the kernels read them in address order: 1.0625 (1.125 with offsets) bytes a weight, against
    // the 4 of widened floats the 4- and 5-bit types took before.
    auto packed = std::make_unique<CpuPackedMatrix>(n_out, n_in, CpuPackedMatrix::Storage::Q8,
                                                    is_offset_int8_type(w.type));
    int8_t* q = packed->q8_quants();
    uint16_t* d = packed->q8_scales();
    uint16_t* m = packed->q8_offsets();
    const int n_blocks = n_in / kQ8Block;
    pool_->parallel_for(n_out, [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r) {
        split_int8_row(w.type, w.data + static_cast<std::size_t>(r) * row_bytes, n_blocks, q + r * n_in,
                       d + r * n_blocks, m ? m + r * n_blocks : nullptr);
      }
    });
    return packed;
  }
  auto packed = std::make_unique<CpuPackedMatrix>(n_out, n_in);
  float* dst = packed->data();
  // Dequantising the token embedding of a large model is a noticeable part of load time: split rows.
  pool_->parallel_for(n_out, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      dequantize_row(w.type, w.data + static_cast<std::size_t>(r) * row_bytes, dst + r * n_in, n_in);
    }
  });
  return packed;
}

namespace {

// W [n_out][n_in] into the panel layout, a panel per task: its rows fetched into scratch by
// fetch(o, row) (dequantised, or the halves copied out of a file that need not be aligned), then
// interleaved.
template <typename T, typename Fetch>
void to_panels(ThreadPool& pool, int n_out, int n_in, Fetch fetch, T* dst) {
  const int n_panels = (n_out + kPanelCols - 1) / kPanelCols;
  const std::size_t ui = static_cast<std::size_t>(n_in), panel = static_cast<std::size_t>(kPanelCols) * ui;
  pool.parallel_for(n_panels, [&](int64_t p0, int64_t p1, int) {
    std::vector<T> rows(panel);
    for (int64_t p = p0; p < p1; ++p) {
      const int o0 = static_cast<int>(p) * kPanelCols, n = std::min(kPanelCols, n_out - o0);
      for (int j = 0; j < n; ++j) fetch(o0 + j, rows.data() + static_cast<std::size_t>(j) * ui);
      pack_panels(n, n_in, [&](int o) { return rows.data() + static_cast<std::size_t>(o) * ui; }, dst + p * panel);
    }
  });
}

}  // namespace

std::unique_ptr<PackedMatrix> CpuBackend::pack_for_many_rows(const TensorView& w) const {
  // q5_1 / q4_1 stay in rows, which the panel kernel gathers from (widened, offsets added) as it goes.
  // Without AVX2 the rows go to OpenBLAS.
  if (active_simd_level() == SimdLevel::Scalar || is_offset_int8_type(w.type)) return pack(w);
  const std::size_t row_bytes = check_packable(w);
  const int n_in = static_cast<int>(w.ne[0]);
  const int n_out = static_cast<int>(w.ne[1]);
  const auto row = [&](int o) { return w.data + static_cast<std::size_t>(o) * row_bytes; };
  if (w.type == GgmlType::F16) {
    // The halves' bits as they are.
    auto packed = std::make_unique<CpuPackedMatrix>(n_out, n_in, CpuPackedMatrix::Storage::F16Panels);
    to_panels(*pool_, n_out, n_in, [&](int o, uint16_t* dst) { std::memcpy(dst, row(o), row_bytes); },
              packed->panel_half_data());
    return packed;
  }
  if (is_scaled_int8_type(w.type)) {
    // q8_0, q5_0, q4_0 (a quant times its block's f16 scale): the int8 quants go where pack_panels
    // puts elements, the scales (halves) likewise as a matrix of n_in / 32 inputs.
    auto packed = std::make_unique<CpuPackedMatrix>(n_out, n_in, CpuPackedMatrix::Storage::Q8Panels);
    const int n_blocks = n_in / kQ8PanelBlock;
    to_panels(*pool_, n_out, n_in, [&](int o, int8_t* dst) { split_int8_row(w.type, row(o), n_blocks, dst, nullptr, nullptr); },
              packed->panel_q8_quants());
    to_panels(*pool_, n_out, n_blocks, [&](int o, uint16_t* dst) { split_int8_row(w.type, row(o), n_blocks, nullptr, dst, nullptr); },
              packed->panel_q8_scales());
    return packed;
  }
  auto packed = std::make_unique<CpuPackedMatrix>(n_out, n_in, CpuPackedMatrix::Storage::F32Panels);
  to_panels(*pool_, n_out, n_in, [&](int o, float* dst) { dequantize_row(w.type, row(o), dst, n_in); },
            packed->panel_data());
  return packed;
}

int CpuBackend::few_row_limit() {
  return active_simd_level() == SimdLevel::Avx2 ? kSkinnyBlockedMaxRowsAvx2 : kSkinnyBlockedMaxRows;
}

// A few-row product through the skinny kernels of the active SIMD level, split over the pool's
// output rows when the weights are worth it; false (nothing done) where the rows or the level do not
// allow it. More than 8 rows (up to kSkinnyBlockedMaxRows) run as groups of 8 over L2-sized blocks of
// weight rows, in row blocks between which a stop flag is polled (row_blocks). T is the weights'
// storage: floats, the halves of an f16 matrix, or q8_0 quants and scales.
template <typename T>
bool CpuBackend::skinny(const float* X, int M, int ldx, const T* W, int n_in, int n_out, const float* bias, float* Y,
                        int ldy) {
  const SimdLevel level = active_simd_level();
  if (M > kSkinnyBlockedMaxRows || level == SimdLevel::Scalar) return false;
  using Kernel = void (*)(const float*, int, int, const T*, int, int, int, const float*, float*, int);
  const Kernel kernel = level == SimdLevel::Avx512 ? static_cast<Kernel>(skinny_gemm_avx512)
                                                   : static_cast<Kernel>(skinny_gemm_avx2);
  const std::size_t bx = static_cast<std::size_t>(ldx), by = static_cast<std::size_t>(ldy);
  const bool split = pool_->size() > 1 && !ThreadPool::in_parallel_region() &&
                     static_cast<double>(n_out) * n_in >= kSkinnyParallelFloats;
  // Rows [r0, r1) of X by every weight row, split over the pool by weight rows.
  auto rows = [&](int r0, int r1) {
    auto outputs = [&](int o0, int o1) {
      if (r1 - r0 <= kSkinnyMaxRows) {
        kernel(X + r0 * bx, r1 - r0, ldx, W, n_in, o0, o1, bias, Y + r0 * by, ldy);
        return;
      }
      // Blocks of weight rows that stay in L2 while every group of 8 rows of X meets them: the
      // matrix is read from memory once, not once per group.
      constexpr int kOutBlock = 64;
      for (int b0 = o0; b0 < o1; b0 += kOutBlock) {
        const int b1 = std::min(o1, b0 + kOutBlock);
        for (int m0 = r0; m0 < r1; m0 += kSkinnyMaxRows) {
          kernel(X + m0 * bx, std::min(kSkinnyMaxRows, r1 - m0), ldx, W, n_in, b0, b1, bias, Y + m0 * by, ldy);
        }
      }
    };
    if (split) {
      pool_->parallel_for(n_out, [&](int64_t o0, int64_t o1, int) { outputs(static_cast<int>(o0), static_cast<int>(o1)); });
    } else {
      outputs(0, n_out);
    }
  };
  if (M <= kSkinnyMaxRows) {
    rows(0, M);
  } else {
    row_blocks(M, static_cast<double>(n_out) * n_in, rows);
  }
  return true;
}

void CpuBackend::linear(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y,
                        int ldy) {
  const auto* packed = dynamic_cast<const CpuPackedMatrix*>(&W);
  if (!packed) bad_call("linear", "the weight matrix was packed by a different backend");
  const int n_out = packed->n_out();
  const int n_in = packed->n_in();
  if (M < 0) bad_call("linear", "negative row count " + str(M));
  if (ldx < n_in) bad_call("linear", "ldx " + str(ldx) + " is less than n_in " + str(n_in));
  if (ldy < n_out) bad_call("linear", "ldy " + str(ldy) + " is less than n_out " + str(n_out));
  if (M == 0) return;
  if (packed->storage() == CpuPackedMatrix::Storage::F16) {
    linear_f16(X, M, ldx, *packed, bias, Y, ldy);
    return;
  }
  if (packed->storage() == CpuPackedMatrix::Storage::Q8) {
    linear_q8(X, M, ldx, *packed, bias, Y, ldy);
    return;
  }
  if (packed->storage() == CpuPackedMatrix::Storage::F32Panels ||
      packed->storage() == CpuPackedMatrix::Storage::F16Panels ||
      packed->storage() == CpuPackedMatrix::Storage::Q8Panels) {
    linear_panels(X, M, ldx, *packed, bias, Y, ldy);
    return;
  }

  if (M <= few_row_limit() && skinny(X, M, ldx, packed->data(), n_in, n_out, bias, Y, ldy)) return;
  if (active_simd_level() != SimdLevel::Scalar) {
    linear_tiles(X, M, ldx, FloatRows{packed->data()}, n_out, n_in, bias, Y, ldy);
    return;
  }
  product(X, M, ldx, packed->data(), n_in, n_out, bias, Y, ldy);
}

bool CpuBackend::linear_range(const float* X, int M, int ldx, const PackedMatrix& W, int o0, int o1, float* Y,
                              int ldy) {
  const auto* packed = dynamic_cast<const CpuPackedMatrix*>(&W);
  if (!packed) bad_call("linear_range", "the weight matrix was packed by a different backend");
  const int n_in = packed->n_in();
  if (M < 0) bad_call("linear_range", "negative row count " + str(M));
  if (o0 < 0 || o1 < o0 || o1 > packed->n_out())
    bad_call("linear_range", "rows [" + str(o0) + ", " + str(o1) + ") outside the matrix's " + str(packed->n_out()));
  if (ldx < n_in) bad_call("linear_range", "ldx " + str(ldx) + " is less than n_in " + str(n_in));
  if (ldy < o1 - o0) bad_call("linear_range", "ldy " + str(ldy) + " is less than the range's " + str(o1 - o0));
  const SimdLevel level = active_simd_level();
  if (level == SimdLevel::Scalar) return false;
  const auto storage = packed->storage();
  if (storage != CpuPackedMatrix::Storage::F32 && storage != CpuPackedMatrix::Storage::F16 &&
      storage != CpuPackedMatrix::Storage::Q8)
    return false;  // panels: only whole panels could be ranged, and no caller needs that
  const std::size_t skip = static_cast<std::size_t>(o0) * static_cast<std::size_t>(n_in);
  const Q8Weights q8 =
      storage == CpuPackedMatrix::Storage::Q8 ? columns_from(packed->q8(), o0, n_in) : Q8Weights{nullptr, nullptr};
  const int n = o1 - o0;
  if (M > (level == SimdLevel::Avx512 ? kRangePanelMinRows : kRangePanelMinRowsAvx2)) {
    switch (storage) {
      case CpuPackedMatrix::Storage::F32: linear_tiles(X, M, ldx, FloatRows{packed->data() + skip}, n, n_in, nullptr, Y, ldy); break;
      case CpuPackedMatrix::Storage::F16: linear_tiles(X, M, ldx, HalfRows{packed->half_data() + skip}, n, n_in, nullptr, Y, ldy); break;
      default: linear_tiles(X, M, ldx, q8, n, n_in, nullptr, Y, ldy); break;
    }
    return true;
  }
  for (int m0 = 0; m0 < M; m0 += kSkinnyBlockedMaxRows) {
    const int rows = std::min(kSkinnyBlockedMaxRows, M - m0);
    const float* x = X + static_cast<std::size_t>(m0) * ldx;
    float* y = Y + static_cast<std::size_t>(m0) * ldy;
    switch (storage) {
      case CpuPackedMatrix::Storage::F32: skinny(x, rows, ldx, packed->data() + skip, n_in, n, nullptr, y, ldy); break;
      case CpuPackedMatrix::Storage::F16: skinny(x, rows, ldx, packed->half_data() + skip, n_in, n, nullptr, y, ldy); break;
      default: skinny(x, rows, ldx, &q8, n_in, n, nullptr, y, ldy); break;
    }
  }
  return true;
}

template <typename Fn>
void CpuBackend::row_blocks(int M, double macs_per_row, Fn fn) {
  const double macs = macs_per_row * M;
  if (!cancel_ || macs <= 2 * kCancelBlockMacs) {
    fn(0, M);
    return;
  }
  int block = static_cast<int>(kCancelBlockMacs / std::max(1.0, macs_per_row));
  const int group = panel_row_group();
  block = std::max(group, block / group * group);
  for (int r0 = 0; r0 < M; r0 += block) {
    if (cancel_requested(cancel_)) return;
    fn(r0, std::min(M, r0 + block));
  }
}

void CpuBackend::linear_panels(const float* X, int M, int ldx, const CpuPackedMatrix& W, const float* bias, float* Y,
                               int ldy) {
  if (const float* panels = W.panel_data()) {
    linear_tiles(X, M, ldx, panels, W.n_out(), W.n_in(), bias, Y, ldy);
  } else if (const uint16_t* halves = W.panel_half_data()) {
    linear_tiles(X, M, ldx, halves, W.n_out(), W.n_in(), bias, Y, ldy);
  } else {
    linear_tiles(X, M, ldx, W.panel_q8(), W.n_out(), W.n_in(), bias, Y, ldy);
  }
}

template <typename Src>
void CpuBackend::linear_tiles(const float* X, int M, int ldx, const Src& w, int n_out, int n_in, const float* bias,
                              float* Y, int ldy) {
  const double macs_per_row = static_cast<double>(n_out) * n_in;
  auto rows = [&](int r0, int r1) { panel_gemm(X, ldx, r0, r1, w, n_out, n_in, bias, Y, ldy); };
  if (pool_->size() == 1 || ThreadPool::in_parallel_region() || macs_per_row * M < kParallelMacs) {
    row_blocks(M, macs_per_row, rows);
    return;
  }
  row_blocks(M, macs_per_row, [&](int b0, int b1) {
    const int group = panel_row_group();
    const int tiles = (b1 - b0 + group - 1) / group;
    if (tiles >= 4 * pool_->size()) {
      // Whole row tiles per thread, so that only the last tile of the last thread is partial.
      pool_->parallel_for(tiles, [&](int64_t t0, int64_t t1, int) {
        rows(b0 + static_cast<int>(t0) * group, static_cast<int>(std::min<int64_t>(b1, b0 + t1 * group)));
      });
      return;
    }
    // A few row tiles (a prompt of a hundred rows) would leave threads idle or uneven: the
    // output columns are split instead, in whole panels, each thread reading only its own weights.
    const int n_panels = (n_out + kPanelCols - 1) / kPanelCols;
    pool_->parallel_for(n_panels, [&](int64_t p0, int64_t p1, int) {
      const int o0 = static_cast<int>(p0) * kPanelCols;
      const int o1 = static_cast<int>(std::min<int64_t>(n_out, p1 * kPanelCols));
      panel_gemm(X, ldx, b0, b1, columns_from(w, o0, n_in), o1 - o0, n_in, bias ? bias + o0 : nullptr, Y + o0, ldy);
    });
  });
}

void CpuBackend::product(const float* X, int M, int ldx, const float* W, int n_in, int n_out, const float* bias,
                         float* Y, int ldy) {
  const std::size_t bx = static_cast<std::size_t>(ldx), by = static_cast<std::size_t>(ldy);
  row_blocks(M, static_cast<double>(n_out) * n_in, [&](int r0, int r1) {
    product_rows(X + r0 * bx, r1 - r0, ldx, W, n_in, n_out, bias, Y + r0 * by, ldy);
  });
}

void CpuBackend::product_rows(const float* X, int M, int ldx, const float* W, int n_in, int n_out, const float* bias,
                              float* Y, int ldy) {
  const double macs = static_cast<double>(M) * n_out * n_in;
  if (pool_->size() == 1 || ThreadPool::in_parallel_region() || macs < kParallelMacs) {
    const float beta = bias_rows(bias, M, n_out, Y, ldy);
    sgemm(false, true, M, n_out, n_in, 1.0f, X, ldx, W, n_in, beta, Y, ldy);
    return;
  }
  // The longer side of Y split over the pool, as matmul() splits it, each chunk writing its own part
  // of the bias just before its sgemm accumulates onto it (a bias pass over all of Y on the calling
  // thread would leave the other cores idle for as long as it takes).
  const std::size_t ux = static_cast<std::size_t>(ldx), uy = static_cast<std::size_t>(ldy);
  const std::size_t ui = static_cast<std::size_t>(n_in);
  if (M >= n_out) {
    pool_->parallel_for(M, [&](int64_t m0, int64_t m1, int) {
      const int rows = static_cast<int>(m1 - m0);
      float* y = Y + static_cast<std::size_t>(m0) * uy;
      const float beta = bias_rows(bias, rows, n_out, y, ldy);
      sgemm(false, true, rows, n_out, n_in, 1.0f, X + static_cast<std::size_t>(m0) * ux, ldx, W, n_in, beta, y, ldy);
    });
  } else {
    pool_->parallel_for(n_out, [&](int64_t o0, int64_t o1, int) {
      const int cols = static_cast<int>(o1 - o0);
      float* y = Y + o0;
      const float beta = bias_rows(bias ? bias + o0 : nullptr, M, cols, y, ldy);
      sgemm(false, true, M, cols, n_in, 1.0f, X, ldx, W + static_cast<std::size_t>(o0) * ui, n_in, beta, y, ldy);
    });
  }
}

void CpuBackend::linear_f16(const float* X, int M, int ldx, const CpuPackedMatrix& W, const float* bias, float* Y,
                            int ldy) {
  const uint16_t* half = W.half_data();
  const std::size_t un = static_cast<std::size_t>(W.n_in());
  const SimdLevel level = active_simd_level();
  linear_narrow(X, M, ldx, W, half, [&](int o0, int o1, float* dst) {
    widen(half + static_cast<std::size_t>(o0) * un, dst, static_cast<std::size_t>(o1 - o0) * un, level);
  }, bias, Y, ldy);
}

void CpuBackend::linear_q8(const float* X, int M, int ldx, const CpuPackedMatrix& W, const float* bias, float* Y,
                           int ldy) {
  const Q8Weights q8 = W.q8();
  const std::size_t un = static_cast<std::size_t>(W.n_in());
  linear_narrow(X, M, ldx, W, &q8, [&](int o0, int o1, float* dst) {
    // The same values dequantize_row() forms: quant times its block's scale, in f32 (plus the
    // block's offset where there is one).
    const std::size_t n = static_cast<std::size_t>(o1 - o0) * un, first = static_cast<std::size_t>(o0) * un;
    const int8_t* q = q8.q + first;
    const uint16_t* d = q8.d + first / kQ8Block;
    const uint16_t* m = q8.m ? q8.m + first / kQ8Block : nullptr;
    for (std::size_t b = 0; b < n / kQ8Block; ++b) {
      float* y = dst + b * kQ8Block;
      const int8_t* qb = q + b * kQ8Block;
      const float db = fp16_to_fp32(d[b]);
      for (int j = 0; j < kQ8Block; ++j) y[j] = static_cast<float>(qb[j]) * db;
      if (m) {
        const float mb = fp16_to_fp32(m[b]);
        for (int j = 0; j < kQ8Block; ++j) y[j] += mb;
      }
    }
  }, bias, Y, ldy);
}

template <typename T, typename ToF32>
void CpuBackend::linear_narrow(const float* X, int M, int ldx, const CpuPackedMatrix& W, const T* W_skinny,
                               ToF32 to_f32, const float* bias, float* Y, int ldy) {
  const int n_out = W.n_out(), n_in = W.n_in();
  const bool split = pool_->size() > 1 && !ThreadPool::in_parallel_region();
  if (M <= few_row_limit() && skinny(X, M, ldx, W_skinny, n_in, n_out, bias, Y, ldy)) return;
  if (active_simd_level() != SimdLevel::Scalar) {
    // Widened a panel slice at a time inside the product: no f32 copy of the matrix.
    linear_tiles(X, M, ldx, rows_of(W_skinny), n_out, n_in, bias, Y, ldy);
    return;
  }
  const std::size_t un = static_cast<std::size_t>(n_in);
  if (split && static_cast<double>(M) * n_out * n_in >= kParallelMacs) {
    // Each weight is widened once per call either way; widened whole, the product then runs as one
    // f32 sgemm per thread (each packing its rows of X once), not one per block of weight rows.
    widened_.reserve_at_least(static_cast<std::size_t>(n_out) * un);
    float* wf = widened_.data();
    pool_->parallel_for(n_out, [&](int64_t o0, int64_t o1, int) {
      to_f32(static_cast<int>(o0), static_cast<int>(o1), wf + static_cast<std::size_t>(o0) * un);
    });
    product(X, M, ldx, wf, n_in, n_out, bias, Y, ldy);
    return;
  }
  // On the calling thread (inside another loop's chunk, or too small to split): blocks of up to 256
  // weight rows (the wider, the closer sgemm runs to its peak) widened into this thread's own
  // scratch, grown once (thread_local: each chunk's thread gets its own), each block one sgemm.
  constexpr int kBlock = 256;
  thread_local AlignedBuffer<float> scratch{MemoryLabel{"widening scratch of f16 products"}};
  scratch.reserve_at_least(static_cast<std::size_t>(std::min(kBlock, n_out)) * un);
  float* wf = scratch.data();
  for (int o0 = 0; o0 < n_out; o0 += kBlock) {
    const int rows = std::min(kBlock, n_out - o0);
    to_f32(o0, o0 + rows, wf);
    const float beta = bias_rows(bias ? bias + o0 : nullptr, M, rows, Y + o0, ldy);
    sgemm(false, true, M, rows, n_in, 1.0f, X, ldx, wf, n_in, beta, Y + o0, ldy);
  }
}

void CpuBackend::matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                        const float* B, int ldb, float beta, float* C, int ldc) {
  if (M < 0 || N < 0 || K < 0) bad_call("matmul", "negative size " + str(M) + " x " + str(N) + " x " + str(K));
  if (lda < std::max(1, trans_a ? M : K)) bad_call("matmul", "lda " + str(lda) + " too small");
  if (ldb < std::max(1, trans_b ? K : N)) bad_call("matmul", "ldb " + str(ldb) + " too small");
  if (ldc < std::max(1, N)) bad_call("matmul", "ldc " + str(ldc) + " too small");
  if (M == 0 || N == 0) return;

  if (!trans_a && !trans_b && beta == 0.0f && K > 0 && active_simd_level() != SimdLevel::Scalar) {
    // The word-timing pass's scores (queries by keys stored transposed): B's columns as the panel
    // kernel's weights, so that a transcription with word timestamps does not open OpenBLAS either.
    linear_tiles(A, M, lda, FloatColumns{B, static_cast<std::size_t>(ldb)}, N, K, nullptr, C, ldc);
    if (alpha != 1.0f) {
      for (int m = 0; m < M; ++m) {
        float* c = C + static_cast<std::size_t>(m) * static_cast<std::size_t>(ldc);
        for (int n = 0; n < N; ++n) c[n] *= alpha;
      }
    }
    return;
  }
  const double macs = static_cast<double>(M) * N * K;
  if (pool_->size() == 1 || ThreadPool::in_parallel_region() || macs < kParallelMacs) {
    sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // Split the longer side of C: rows of activations for the encoder, output columns for the
  // decoder's one-token steps.
  const std::size_t ua = static_cast<std::size_t>(lda), ub = static_cast<std::size_t>(ldb);
  const std::size_t uc = static_cast<std::size_t>(ldc);
  if (M >= N) {
    pool_->parallel_for(M, [&](int64_t m0, int64_t m1, int) {
      const float* a = trans_a ? A + m0 : A + static_cast<std::size_t>(m0) * ua;
      sgemm(trans_a, trans_b, static_cast<int>(m1 - m0), N, K, alpha, a, lda, B, ldb, beta,
            C + static_cast<std::size_t>(m0) * uc, ldc);
    });
  } else {
    pool_->parallel_for(N, [&](int64_t n0, int64_t n1, int) {
      const float* b = trans_b ? B + static_cast<std::size_t>(n0) * ub : B + n0;
      sgemm(trans_a, trans_b, M, static_cast<int>(n1 - n0), K, alpha, A, lda, b, ldb, beta, C + n0, ldc);
    });
  }
}

}  // namespace npw
