// Threading and scratch of the int8 backend. Rows are split over the pool when there are many (the
// encoder's 1500 frames: each thread quantises its own rows, then multiplies them, with no barrier in
// between); output tiles are split when there are few (a decoder step). The quantised activations live
// in per-thread scratch that only grows, so the steady state allocates nothing and two threads calling
// linear() on one backend cannot trample each other's rows.
#include "backend/cpu/int8_backend.h"

#include <algorithm>
#include <string>

#include "backend/cpu/int8_pack.h"
#include "util/aligned_buffer.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

// Below this many multiply-adds a product is not worth waking the pool for.
constexpr double kParallelMacs = 1 << 18;
// From this many rows per thread on, split rows; below it, split output tiles.
constexpr int kRowSplitPerThread = 16;
// Row chunks start at multiples of this (the AMX tile height, a multiple of the VNNI register tile).
constexpr int64_t kRowAlign = 16;

[[noreturn]] void bad_call(const std::string& what, const std::string& why) {
  throw Error(ErrorKind::InvalidArgument, "cpu-int8 backend " + what + ": " + why);
}

struct Scratch {
  AlignedBuffer<uint8_t> q{MemoryLabel{"cpu-int8: quantised activations"}};
  AlignedBuffer<float> scale{MemoryLabel{"cpu-int8: quantised activations"}};
  AlignedBuffer<float> tail{MemoryLabel{"cpu-int8: quantised activations"}};  // linear_range's last, partial record
};

Scratch& thread_scratch() {
  static thread_local Scratch s;
  return s;
}

// Room in s for M rows of quantised activations of nb blocks each.
Int8Rows scratch_rows(Scratch& s, int M, int nb) {
  const std::size_t ldq = static_cast<std::size_t>(nb) * kInt8Block;
  s.q.reserve_at_least(static_cast<std::size_t>(M) * ldq);
  s.scale.reserve_at_least(static_cast<std::size_t>(M) * nb);
  return Int8Rows{s.q.data(), ldq, s.scale.data(), static_cast<std::size_t>(nb)};
}

}  // namespace

CpuInt8Backend::CpuInt8Backend(int n_threads) : CpuInt8Backend(n_threads, int8_best_isa()) {}

// f32_ starts on a one-thread pool (no worker) and takes this backend's in set_threads.
CpuInt8Backend::CpuInt8Backend(int n_threads, Int8Isa isa) : kernel_(&int8_kernel(isa)), f32_(1) {
  set_threads(n_threads);
}

CpuInt8Backend::CpuInt8Backend(std::shared_ptr<ThreadPool> pool) : kernel_(&int8_kernel(int8_best_isa())), f32_(1) {
  use_thread_pool(std::move(pool));
}

CpuInt8Backend::~CpuInt8Backend() = default;

void CpuInt8Backend::set_threads(int n) {
  if (n < 1) bad_call("set_threads", "the number of threads must be at least 1 (got " + std::to_string(n) + ")");
  if (!pool_ || pool_->size() != n) {
    pool_.reset();
    use_thread_pool(std::make_shared<ThreadPool>(n));
  }
}

void CpuInt8Backend::use_thread_pool(std::shared_ptr<ThreadPool> pool) {
  if (!pool) bad_call("use_thread_pool", "no pool");
  f32_.use_thread_pool(pool);
  pool_ = std::move(pool);
}

int CpuInt8Backend::threads() const { return pool_->size(); }

// A matrix for few rows is streamed whole every decoder step: huge pages (fewer TLB misses along it).
std::unique_ptr<PackedMatrix> CpuInt8Backend::pack(const TensorView& w) const {
  return int8_pack(w, pool_.get(), Pages::Huge);
}

// Read block by block from the cache by many rows: 4 KiB pages (huge ones measured slower on a Zen 5).
std::unique_ptr<PackedMatrix> CpuInt8Backend::pack_for_many_rows(const TensorView& w) const {
  return int8_pack(w, pool_.get(), Pages::Small);
}

void CpuInt8Backend::linear(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y,
                            int ldy) {
  const LinearJob job{&W, bias, Y, ldy};
  products("linear", X, M, ldx, &job, 1);
}

void CpuInt8Backend::linear_many(const float* X, int M, int ldx, const LinearJob* jobs, int n) {
  if (n < 0 || (n > 0 && !jobs)) bad_call("linear_many", "no jobs");
  for (int j = 0; j < n; j += kMaxJobs) products("linear_many", X, M, ldx, jobs + j, std::min(kMaxJobs, n - j));
}

// One product or several of the same rows: the rows are quantised once, then every job's tiles are
// multiplied in one pass over the pool, the jobs' tiles laid end to end.
bool CpuInt8Backend::linear_of_gelu(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y,
                                    int ldy) {
  if (!kernel_->quantize_gelu || active_simd_level() != SimdLevel::Avx512) return false;
  const LinearJob job{&W, bias, Y, ldy};
  products("linear_of_gelu", X, M, ldx, &job, 1, true);
  return true;
}

void CpuInt8Backend::products(const char* what, const float* X, int M, int ldx, const LinearJob* jobs, int n,
                              bool gelu) {
  const Int8PackedMatrix* packed[kMaxJobs] = {};
  int tiles_before[kMaxJobs + 1] = {0};
  for (int j = 0; j < n; ++j) {
    packed[j] = jobs[j].W ? dynamic_cast<const Int8PackedMatrix*>(jobs[j].W) : nullptr;
    const std::string job = n > 1 ? "job " + std::to_string(j) + ": " : "";
    if (!packed[j]) bad_call(what, job + "the weight matrix was packed by a different backend");
    if (packed[j]->n_in() != packed[0]->n_in())
      bad_call(what, job + "n_in " + std::to_string(packed[j]->n_in()) + ", job 0's " + std::to_string(packed[0]->n_in()));
    if (jobs[j].ldy < packed[j]->n_out())
      bad_call(what, job + "ldy " + std::to_string(jobs[j].ldy) + " is less than n_out " +
                         std::to_string(packed[j]->n_out()));
    tiles_before[j + 1] = tiles_before[j] + packed[j]->n_tiles();
  }
  const int n_in = packed[0]->n_in();
  if (M < 0) bad_call(what, "negative row count " + std::to_string(M));
  // ldx may be less than n_in: overlapping rows (whole_products()), read as they are.
  if (ldx < 1) bad_call(what, "ldx " + std::to_string(ldx) + " is not positive");
  if (M == 0) return;

  const int nb = packed[0]->n_blocks();
  Scratch& s = thread_scratch();
  const Int8Rows rows = scratch_rows(s, M, nb);
  Int8Product p[kMaxJobs];
  double macs = 0.0;
  for (int j = 0; j < n; ++j) {
    p[j] = Int8Product{rows, packed[j], jobs[j].bias, jobs[j].Y, static_cast<std::size_t>(jobs[j].ldy)};
    macs += static_cast<double>(M) * packed[j]->n_out() * n_in;
  }
  const Int8Kernel& k = *kernel_;
  const auto quantize = gelu ? k.quantize_gelu : k.quantize;
  const std::size_t uldx = static_cast<std::size_t>(ldx);
  const int total_tiles = tiles_before[n];
  // Rows [m0, m1) x tiles [t0, t1) of the jobs' tiles laid end to end.
  auto tiles = [&](int m0, int m1, int t0, int t1) {
    for (int j = 0; j < n; ++j) {
      const int a = std::max(t0, tiles_before[j]), b = std::min(t1, tiles_before[j + 1]);
      if (a < b) k.gemm(p[j], m0, m1, a - tiles_before[j], b - tiles_before[j]);
    }
  };

  const int n_threads = pool_->size();
  if (n_threads == 1 || ThreadPool::in_parallel_region() || macs < kParallelMacs) {
    quantize(X, uldx, n_in, nb, 0, M, rows);
    tiles(0, M, 0, total_tiles);
  } else if (M >= kRowSplitPerThread * n_threads) {
    // Split at multiples of kRowAlign so that each thread's rows fill whole register / AMX tiles and
    // only the last chunk has leftover rows.
    const int64_t groups = (M + kRowAlign - 1) / kRowAlign;
    pool_->parallel_for(groups, [&](int64_t g0, int64_t g1, int) {
      const int m0 = static_cast<int>(g0 * kRowAlign);
      const int m1 = static_cast<int>(std::min<int64_t>(g1 * kRowAlign, M));
      quantize(X, uldx, n_in, nb, m0, m1, rows);
      tiles(m0, m1, 0, total_tiles);
    });
  } else {
    quantize(X, uldx, n_in, nb, 0, M, rows);
    pool_->parallel_for(total_tiles, [&](int64_t t0, int64_t t1, int) {
      tiles(0, M, static_cast<int>(t0), static_cast<int>(t1));
    });
  }
}

bool CpuInt8Backend::linear_range(const float* X, int M, int ldx, const PackedMatrix& W, int o0, int o1, float* Y,
                                  int ldy) {
  const auto* packed = dynamic_cast<const Int8PackedMatrix*>(&W);
  if (!packed) bad_call("linear_range", "the weight matrix was packed by a different backend");
  const int n_out = packed->n_out();
  const int n_in = packed->n_in();
  if (M < 0) bad_call("linear_range", "negative row count " + std::to_string(M));
  if (o0 < 0 || o1 < o0 || o1 > n_out)
    bad_call("linear_range", "rows [" + std::to_string(o0) + ", " + std::to_string(o1) + ") outside the matrix's " +
                                 std::to_string(n_out));
  if (ldx < n_in) bad_call("linear_range", "ldx " + std::to_string(ldx) + " is less than n_in " + std::to_string(n_in));
  if (ldy < o1 - o0)
    bad_call("linear_range", "ldy " + std::to_string(ldy) + " is less than the range's " + std::to_string(o1 - o0));
  // Ranges start on a record's first output; a range that ends inside a record has that record's
  // outputs formed in a small buffer and only the range's copied.
  if (o0 % kInt8Tile != 0) return false;
  if (M == 0 || o1 == o0) return true;

  const int nb = packed->n_blocks();
  Scratch& s = thread_scratch();
  const Int8Rows rows = scratch_rows(s, M, nb);
  const Int8Kernel& k = *kernel_;
  k.quantize(X, static_cast<std::size_t>(ldx), n_in, nb, 0, M, rows);

  const int t0 = o0 / kInt8Tile;
  const int t_full = o1 == n_out ? packed->n_tiles() : o1 / kInt8Tile;
  Int8Product p{rows, packed, nullptr, Y, static_cast<std::size_t>(ldy), static_cast<std::size_t>(o0)};
  if (t_full > t0) {
    const double macs = static_cast<double>(M) * (t_full - t0) * kInt8Tile * n_in;
    if (pool_->size() == 1 || ThreadPool::in_parallel_region() || macs < kParallelMacs) {
      k.gemm(p, 0, M, t0, t_full);
    } else {
      pool_->parallel_for(t_full - t0, [&](int64_t a, int64_t b, int) {
        k.gemm(p, 0, M, t0 + static_cast<int>(a), t0 + static_cast<int>(b));
      });
    }
  }
  const int tail0 = t_full * kInt8Tile;
  if (tail0 < o1) {
    s.tail.reserve_at_least(static_cast<std::size_t>(M) * kInt8Tile);
    const Int8Product t{rows, packed, nullptr, s.tail.data(), kInt8Tile, static_cast<std::size_t>(tail0)};
    k.gemm(t, 0, M, t_full, t_full + 1);
    for (int m = 0; m < M; ++m) {
      std::copy(s.tail.data() + static_cast<std::size_t>(m) * kInt8Tile,
                s.tail.data() + static_cast<std::size_t>(m) * kInt8Tile + (o1 - tail0),
                Y + static_cast<std::size_t>(m) * ldy + (tail0 - o0));
    }
  }
  return true;
}

void CpuInt8Backend::matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                            const float* B, int ldb, float beta, float* C, int ldc) {
  f32_.matmul(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace npw
