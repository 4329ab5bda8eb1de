// Wall-clock stopwatch for the benchmark's stages. steady_clock, because the shared machine's wall
// clock may be adjusted while a run is in progress.
#pragma once

#include <chrono>

namespace npw {

class Stopwatch {
 public:
  using Clock = std::chrono::steady_clock;
  Stopwatch() : start_(Clock::now()) {}
  void restart() { start_ = Clock::now(); }
  double ms() const { return std::chrono::duration<double, std::milli>(Clock::now() - start_).count(); }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  Clock::time_point start_;
};

}  // namespace npw
