// ThreadPool: every index visited exactly once whatever the sizes, chunks contiguous and in range,
// repeated calls on the same pool, nesting inline, exceptions reaching the caller.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

void expect_exact_cover(ThreadPool& pool, int64_t n) {
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  std::mutex m;
  std::set<int> threads_seen;
  int chunks = 0;
  pool.parallel_for(n, [&](int64_t b, int64_t e, int t) {
    ASSERT_LE(0, b);
    ASSERT_LT(b, e);
    ASSERT_LE(e, n);
    for (int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
    std::lock_guard<std::mutex> lock(m);
    EXPECT_TRUE(threads_seen.insert(t).second) << "thread index " << t << " got two chunks";
    EXPECT_LT(t, pool.size());
    ++chunks;
  });
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), 1) << "index " << i << " of " << n;
  EXPECT_EQ(chunks, static_cast<int>(std::min<int64_t>(n, pool.size())));
}

TEST(ThreadPool, OneThreadRunsInlineOnTheCaller) {
  ThreadPool pool(1);
  EXPECT_EQ(pool.size(), 1);
  const auto caller = std::this_thread::get_id();
  pool.parallel_for(17, [&](int64_t b, int64_t e, int t) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 17);
    EXPECT_EQ(t, 0);
  });
  expect_exact_cover(pool, 1);
}

TEST(ThreadPool, CoversEveryIndexOnceForAllSizes) {
  for (int threads : {2, 3, 5}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 3, 4, 5, 7, 11, 64, 1001}) expect_exact_cover(pool, n);
  }
}

TEST(ThreadPool, MoreThreadsThanWork) {
  ThreadPool pool(8);
  for (int rep = 0; rep < 50; ++rep) {
    expect_exact_cover(pool, 3);
    expect_exact_cover(pool, 1);
  }
}

TEST(ThreadPool, EmptyRangeCallsNothing) {
  ThreadPool pool(3);
  bool called = false;
  pool.parallel_for(0, [&](int64_t, int64_t, int) { called = true; });
  pool.parallel_for(-5, [&](int64_t, int64_t, int) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ThreadPool, ManyRepeatedCallsSumCorrectly) {
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  for (int rep = 0; rep < 2000; ++rep) {
    const int64_t n = 1 + rep % 13;
    pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
      int64_t s = 0;
      for (int64_t i = b; i < e; ++i) s += i;
      total += s;
    });
  }
  int64_t want = 0;
  for (int rep = 0; rep < 2000; ++rep) {
    const int64_t n = 1 + rep % 13;
    want += n * (n - 1) / 2;
  }
  EXPECT_EQ(total.load(), want);
}

// Every way a hand-over can go: back to back (both sides polling), after a pause longer than the
// poll (workers asleep: the caller must wake them), and with the workers' chunks outlasting the
// caller's (the caller asleep: the last worker must wake it). Each call's chunks all run, once.
TEST(ThreadPool, HandsOverWhetherTheOtherSidePollsOrSleeps) {
  ThreadPool pool(3);
  const auto beyond_poll = std::chrono::microseconds(ThreadPool::kPollMicroseconds + 300);
  std::atomic<int64_t> total{0};
  int64_t want = 0;
  for (int rep = 0; rep < 300; ++rep) {
    const int mode = rep % 3;
    if (mode == 1) std::this_thread::sleep_for(beyond_poll);
    const int64_t n = 2 + rep % 7;
    pool.parallel_for(n, [&](int64_t b, int64_t e, int thread) {
      if (mode == 2 && thread != 0) std::this_thread::sleep_for(beyond_poll);
      for (int64_t i = b; i < e; ++i) total += i + 1;
    });
    want += n * (n + 1) / 2;
    ASSERT_EQ(total.load(), want) << "call " << rep << " returned before all its chunks ran";
  }
}

// Jobs with fewer chunks than threads leave workers out; those must neither run a chunk of a job
// they were not counted in nor miss the next job that counts them, whether they poll or sleep.
TEST(ThreadPool, WorkersLeftOutOfAJobStillServeTheNext) {
  ThreadPool pool(4);
  const auto beyond_poll = std::chrono::microseconds(ThreadPool::kPollMicroseconds + 300);
  std::vector<std::atomic<int>> hits(8);
  for (int rep = 0; rep < 3000; ++rep) {
    const int64_t n = 1 + (rep * 7 + rep / 5) % 6;
    if (rep % 97 == 0) std::this_thread::sleep_for(beyond_poll);
    for (auto& h : hits) h = 0;
    pool.parallel_for(n, [&](int64_t b, int64_t e, int thread) {
      if (rep % 89 == 0 && thread == 3) std::this_thread::sleep_for(beyond_poll);
      for (int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
    });
    for (int64_t i = 0; i < 8; ++i) {
      ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), i < n ? 1 : 0) << "call " << rep << " index " << i;
    }
  }
}

TEST(ThreadPool, WorkRunsOnSeveralThreads) {
  ThreadPool pool(2);
  std::mutex m;
  std::set<std::thread::id> ids;
  pool.parallel_for(2, [&](int64_t, int64_t, int) {
    std::lock_guard<std::mutex> lock(m);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(ids.size(), 2u);
}

TEST(ThreadPool, NestedCallsRunInline) {
  ThreadPool outer(3), inner(3);
  std::atomic<int> inner_total{0};
  std::atomic<int> bad_nesting{0};
  EXPECT_FALSE(ThreadPool::in_parallel_region());
  outer.parallel_for(6, [&](int64_t b, int64_t e, int) {
    if (!ThreadPool::in_parallel_region()) bad_nesting++;
    for (int64_t i = b; i < e; ++i) {
      const auto me = std::this_thread::get_id();
      inner.parallel_for(10, [&](int64_t ib, int64_t ie, int t) {
        if (std::this_thread::get_id() != me || t != 0 || ib != 0 || ie != 10) bad_nesting++;
        inner_total += static_cast<int>(ie - ib);
      });
    }
  });
  EXPECT_FALSE(ThreadPool::in_parallel_region());
  EXPECT_EQ(bad_nesting.load(), 0);
  EXPECT_EQ(inner_total.load(), 60);
}

TEST(ThreadPool, CallsFromSeveralThreadsAreServedOneAtATime) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  auto client = [&] {
    for (int rep = 0; rep < 300; ++rep) {
      pool.parallel_for(10, [&](int64_t b, int64_t e, int) { total += e - b; });
    }
  };
  std::thread a(client), b(client);
  a.join();
  b.join();
  EXPECT_EQ(total.load(), 2 * 300 * 10);
}

TEST(ThreadPool, ExceptionReachesTheCallerAndThePoolStaysUsable) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.parallel_for(3, [&](int64_t b, int64_t, int) {
    if (b == 2) throw std::runtime_error("chunk failed");
  }),
               std::runtime_error);
  EXPECT_THROW(pool.parallel_for(3, [&](int64_t b, int64_t, int) {
    if (b == 0) throw std::runtime_error("caller chunk failed");
  }),
               std::runtime_error);
  expect_exact_cover(pool, 9);
}

#if defined(__x86_64__) || defined(__i386__)
// Every chunk, on a worker or the caller, inline or nested, runs with subnormals flushed (FTZ and DAZ
// in MXCSR), and the caller's own mode is back when the call returns, also after an exception.
TEST(ThreadPool, ChunksFlushSubnormalsAndTheCallersModeIsRestored) {
  constexpr unsigned kFlush = 0x8040u;
  const unsigned before = _mm_getcsr();
  ASSERT_EQ(before & kFlush, 0u) << "the test thread starts with subnormals kept";
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    std::atomic<int> flushed{0}, chunks{0};
    pool.parallel_for(64, [&](int64_t, int64_t, int) {
      chunks++;
      if ((_mm_getcsr() & kFlush) == kFlush) flushed++;
      pool.parallel_for(4, [&](int64_t, int64_t, int) {
        if ((_mm_getcsr() & kFlush) != kFlush) flushed = -1000;
      });
      // A subnormal product comes out as zero.
      volatile float tiny = 1e-30f, small = 1e-10f;
      if (tiny * small != 0.0f) flushed = -1000;
    });
    EXPECT_EQ(flushed.load(), chunks.load()) << threads;
    EXPECT_EQ(_mm_getcsr(), before) << threads;
    EXPECT_THROW(pool.parallel_for(8, [](int64_t, int64_t, int) { throw std::runtime_error("chunk"); }), std::runtime_error);
    EXPECT_EQ(_mm_getcsr(), before) << threads;
  }
  volatile float tiny = 1e-30f, small = 1e-10f;
  EXPECT_NE(tiny * small, 0.0f) << "the caller's subnormals are its own again";
}
#endif

TEST(ThreadPool, RejectsZeroThreads) {
  EXPECT_THROW(ThreadPool(0), Error);
  EXPECT_THROW(ThreadPool(-1), Error);
}

}  // namespace
}  // namespace npw
