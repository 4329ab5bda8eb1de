// The persistent worker pool behind every data-parallel loop of a stage. Workers sleep on a
// condition variable between jobs, so a parallel_for costs at most one wake-up; the calling thread
// runs the first chunk itself instead of idling while it waits. A stage issues its loops back to back
// (a decoder step dozens of small ones), so workers and the caller first poll for a few microseconds
// before sleeping, and while they poll the hand-over touches no mutex: a loop that follows closely
// costs two cache-line transfers, not futex round trips (a greedy decoding profile spent ~25 % of
// its samples in the pool's locks and the kernel's wake-ups when every hand-over took the mutex).
#include "util/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "util/error.h"

namespace npw {

namespace {

// Depth of parallel_for chunks running on this thread (any pool): nested loops run inline.
thread_local int t_parallel_depth = 0;

struct DepthGuard {
  DepthGuard() { ++t_parallel_depth; }
  ~DepthGuard() { --t_parallel_depth; }
};

// Chunk c of k over [0, n): contiguous, sizes differ by at most one.
inline int64_t chunk_begin(int64_t n, int k, int c) { return n * c / k; }

// How long a worker or the caller polls before sleeping on its condition variable.
constexpr auto kSpin = std::chrono::microseconds(30);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls until ready() or kSpin has passed; true if ready() became true.
template <typename Ready>
bool spin_until(Ready ready) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= until) return false;
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads) {
  if (n_threads < 1) {
    throw Error(ErrorKind::InvalidArgument,
                "thread pool: the number of threads must be at least 1 (got " + std::to_string(n_threads) + ")");
  }
  threads_.reserve(static_cast<std::size_t>(n_threads - 1));
  for (int i = 1; i < n_threads; ++i) threads_.emplace_back(&ThreadPool::worker, this, i);
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  { std::lock_guard<std::mutex> lock(mutex_); }  // a worker between its check and its wait gets there
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

bool ThreadPool::in_parallel_region() { return t_parallel_depth > 0; }

void ThreadPool::parallel_for(int64_t n, ChunkFn fn) {
  if (n <= 0) return;
  const int k = static_cast<int>(std::min<int64_t>(n, n_threads_));
  if (k == 1 || in_parallel_region()) {
    DepthGuard depth;
    fn(0, n, 0);
    return;
  }

  std::lock_guard<std::mutex> call(call_mutex_);
  job_ = &fn;
  job_n_ = n;
  any_error_.store(false, std::memory_order_relaxed);
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1);  // seq_cst: publishes the job, ordered before the sleepers_ check
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> lock(mutex_); }
    wake_.notify_all();
  }

  std::exception_ptr own_error;
  {
    DepthGuard depth;
    try {
      fn(0, chunk_begin(n, k, 1), 0);
    } catch (...) {
      own_error = std::current_exception();
    }
  }
  wait_for_workers();
  std::exception_ptr worker_error;
  if (any_error_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(mutex_);
    worker_error = error_;
    error_ = nullptr;
  }
  if (own_error) std::rethrow_exception(own_error);
  if (worker_error) std::rethrow_exception(worker_error);
}

void ThreadPool::wait_for_workers() {
  if (spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) return;
  std::unique_lock<std::mutex> lock(mutex_);
  caller_asleep_.store(true);
  done_.wait(lock, [this] { return pending_.load() == 0; });
  caller_asleep_.store(false);
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    auto ready = [&] { return generation_.load(std::memory_order_acquire) != seen || stop_.load(std::memory_order_relaxed); };
    if (!spin_until(ready)) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
      sleepers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    // Exactly the next job: the caller cannot start another before this worker has counted down.
    seen = generation_.load(std::memory_order_acquire);
    const ChunkFn* job = job_;
    const int64_t n = job_n_;
    const int k = static_cast<int>(std::min<int64_t>(n, n_threads_));

    std::exception_ptr error;
    if (index < k) {
      DepthGuard depth;
      try {
        (*job)(chunk_begin(n, k, index), chunk_begin(n, k, index + 1), index);
      } catch (...) {
        error = std::current_exception();
      }
    }
    if (error) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = error;
      any_error_.store(true, std::memory_order_relaxed);
    }
    // seq_cst: either the caller sees 0 before it sleeps or this sees it asleep and wakes it.
    if (pending_.fetch_sub(1) == 1 && caller_asleep_.load()) {
      { std::lock_guard<std::mutex> lock(mutex_); }
      done_.notify_one();
    }
  }
}

}  // namespace npw
