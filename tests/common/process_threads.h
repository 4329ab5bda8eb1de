// The number of threads this process has now (Linux: its /proc/self/task entries), for tests that
// check how many workers an object starts; -1 where /proc cannot be read.
#pragma once

#include <dirent.h>

#include <chrono>
#include <thread>

namespace npwtest {

inline int process_threads() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  while (const dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

// The number of threads once it is `want`, polled for up to 2 s, else the last count. A thread
// that pthread_join has returned for can stay listed in /proc/self/task for a moment (the kernel
// reaps it after waking the joiner), so a count taken right after an object stopped its workers may
// still include them; one that never leaves is a real leak and still fails the comparison.
inline int threads_reach(int want) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int n = process_threads();
  while (n != want && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    n = process_threads();
  }
  return n;
}

// A baseline count: the number once it has held still for 50 ms (polled for up to 2 s). A count
// taken right after an earlier test's objects stopped their workers can include threads the kernel
// has not reaped yet, and a baseline one too high makes every later comparison fail.
inline int settled_threads() {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int n = process_threads();
  auto since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const int m = process_threads();
    const auto now = std::chrono::steady_clock::now();
    if (m != n) {
      n = m;
      since = now;
    } else if (now - since >= std::chrono::milliseconds(50)) {
      break;
    }
  }
  return n;
}

}  // namespace npwtest
