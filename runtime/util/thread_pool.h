// A persistent pool of worker threads for data-parallel loops inside a stage (attention heads, mel
// frames, element-wise passes). Threads are created once; a parallel_for costs a wake-up, not a spawn.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>  // kept: includers may rely on it
#include <mutex>
#include <thread>
#include <vector>

#include "util/function_ref.h"

namespace npw {

class ThreadPool {
 public:
  // n_threads counts the calling thread: n_threads = 1 runs everything inline.
  explicit ThreadPool(int n_threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool();

  int size() const { return n_threads_; }

  // How long a worker with no job, or a caller whose workers are still busy, polls before it sleeps
  // (thread_pool.cpp says how): a pause shorter than this between loops costs no wake-up.
  static constexpr int kPollMicroseconds = 500;

  // Calls fn(begin, end, thread_index) over a partition of [0, n) into at most size() contiguous
  // chunks, and returns when all are done. fn must not throw; it runs on pool threads.
  // (Should it throw anyway, the first exception is rethrown here once every chunk has finished.)
  // A parallel_for issued from inside any pool's fn runs inline as one chunk (thread_index 0), so
  // nested parallel code never oversubscribes the cores; calls from several outside threads are
  // served one at a time.
  // fn is taken by reference (FunctionRef), so a call allocates nothing whatever the lambda captures.
  // Every chunk runs with subnormal floats flushed to zero (util/flush_denormals.h: on Intel cores
  // each subnormal result is a microcode assist; attention over sharp scores ran 5x slower), the
  // calling thread's own float mode restored when the call returns.
  using ChunkFn = FunctionRef<void(int64_t, int64_t, int)>;
  void parallel_for(int64_t n, ChunkFn fn);

  // True on a thread that is currently running a parallel_for chunk of any pool.
  static bool in_parallel_region();

 private:
  void worker(int index);
  void wake_workers();

  int n_threads_;
  std::vector<std::thread> threads_;
  std::mutex call_mutex_;  // one parallel_for at a time

  // The hand-over is lock-free: a decoder step issues dozens of small loops, and two mutex round
  // trips a loop (~0.8 us on two cores) were a tenth of a tiny model's step. The job is published by
  // a release of ticket_ (a sequence number in its high 32 bits, the job's chunk count in its low
  // 32, so a worker with no chunk never reads the job), and finished by pending_ reaching zero. Each
  // side polls (kPollMicroseconds), then sleeps on a condition variable; the other side takes mutex_
  // to notify only when it sees a sleeper (both sides' store-then-load is seq_cst, so one of them
  // sees the other).
  alignas(64) std::atomic<uint64_t> ticket_{0};
  const ChunkFn* job_ = nullptr;  // written before ticket_ is released, read after it is acquired
  int64_t job_n_ = 0;
  alignas(64) std::atomic<int> pending_{0};
  alignas(64) std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;  // guards error_ and the condition variables' sleeps
  std::condition_variable wake_;
  std::condition_variable done_;
  std::exception_ptr error_;
};

}  // namespace npw
