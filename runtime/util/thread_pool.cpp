// The persistent worker pool behind every data-parallel loop of a stage. Workers sleep on a
// condition variable between jobs, so a parallel_for costs at most one wake-up; the calling thread
// runs the first chunk itself instead of idling while it waits. A stage issues its loops back to back
// (a decoder step dozens of small ones), so workers and the caller first poll before sleeping, and
// hand a job over through two atomics (see thread_pool.h): a loop that follows closely then costs
// neither a futex round trip nor a lock.
#include "util/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "util/error.h"
#include "util/flush_denormals.h"

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

// How a worker or the caller polls before sleeping on its condition variable: kSpin of pause loops,
// then up to ThreadPool::kPollMicroseconds in all with the core offered to other threads between
// short loops. 30 us alone was too short for a decoder step: the step's serial start (embeddings,
// the first LayerNorm, quantising the rows: ~21 us) after the worker had already waited out the end
// of the vocabulary product put it to sleep, and waking it took a futex call and, on a KVM guest,
// 60-750 us (base f16, 5-beam steps, Xeon: 78-87 us of worker start delay a step, 5 % of the step;
// with the yielding phase 8-33 us). The yields keep the core usable by other streams' threads meanwhile.
constexpr auto kSpin = std::chrono::microseconds(30);
constexpr auto kPoll = std::chrono::microseconds(ThreadPool::kPollMicroseconds);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls until ready() or kPoll has passed (see kSpin); true if ready() became true.
template <typename Ready>
bool spin_until(Ready ready) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() - start >= kSpin) break;
  }
  for (;;) {
    for (int i = 0; i < 16; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    std::this_thread::yield();
    if (ready()) return true;
    if (std::chrono::steady_clock::now() - start >= kPoll) return false;
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
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    wake_.notify_all();
  }
  for (auto& t : threads_) t.join();
}

bool ThreadPool::in_parallel_region() { return t_parallel_depth > 0; }

void ThreadPool::wake_workers() {
  std::lock_guard<std::mutex> lock(mutex_);
  wake_.notify_all();
}

void ThreadPool::parallel_for(int64_t n, ChunkFn fn) {
  if (n <= 0) return;
  const int k = static_cast<int>(std::min<int64_t>(n, n_threads_));
  if (k == 1 || in_parallel_region()) {
    DepthGuard depth;
    const ScopedFlushDenormals flush;
    fn(0, n, 0);
    return;
  }

  std::lock_guard<std::mutex> call(call_mutex_);
  job_ = &fn;
  job_n_ = n;
  error_ = nullptr;
  pending_.store(k - 1, std::memory_order_relaxed);
  const uint64_t sequence = (ticket_.load(std::memory_order_relaxed) >> 32) + 1;
  ticket_.store(sequence << 32 | static_cast<uint64_t>(k));
  if (sleeping_workers_.load() > 0) wake_workers();

  std::exception_ptr own_error;
  {
    DepthGuard depth;
    const ScopedFlushDenormals flush;
    try {
      fn(0, chunk_begin(n, k, 1), 0);
    } catch (...) {
      own_error = std::current_exception();
    }
  }

  if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
    std::unique_lock<std::mutex> lock(mutex_);
    caller_sleeping_.store(true);
    done_.wait(lock, [this] { return pending_.load() == 0; });
    caller_sleeping_.store(false, std::memory_order_relaxed);
  }
  // Every worker's error_ write happened before its decrement of pending_.
  const std::exception_ptr worker_error = error_;
  error_ = nullptr;
  job_ = nullptr;
  if (own_error) std::rethrow_exception(own_error);
  if (worker_error) std::rethrow_exception(worker_error);
}

void ThreadPool::worker(int index) {
  // A worker runs nothing but the runtime's chunks: subnormals flushed for good (see thread_pool.h).
  set_flush_denormals();
  uint64_t seen = 0;
  for (;;) {
    if (!spin_until([&] {
          return ticket_.load(std::memory_order_acquire) != seen || stop_.load(std::memory_order_relaxed);
        })) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleeping_workers_.fetch_add(1);
      wake_.wait(lock, [&] { return stop_.load() || ticket_.load() != seen; });
      sleeping_workers_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (stop_.load()) return;
    seen = ticket_.load(std::memory_order_acquire);
    // A worker past the job's chunk count is not counted in pending_ and leaves the job alone: by
    // the time it looks, the job may be over and the next one being written.
    const int k = static_cast<int>(seen & 0xFFFFFFFFu);
    if (index >= k) continue;
    // A counted worker's job cannot end (nor job_ change) before this worker has run its chunk.
    const ChunkFn* job = job_;
    const int64_t n = job_n_;

    std::exception_ptr error;
    {
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
    }
    if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

}  // namespace npw
