// How long a live step may take in the latency the element announces. The configured step is a
// promise only if a step's processing fits in it; on a slow CPU, a loaded machine or a large model it
// does not, the next step then covers all the audio that arrived meanwhile, and every word waits
// about the processing time instead of the step. So the announced step is max(step, measured
// processing), the processing measured as the second-largest of the last 20 steps (about their 95th
// percentile; one stall does not move it: the backlog rule handles that), with 20 % headroom in
// 100 ms increments. It only grows during a stream: sinks schedule by it, and each change costs a
// LATENCY round through the pipeline.
#pragma once

#include <cstddef>
#include <deque>

namespace npw {

class StepAllowance {
 public:
  static constexpr std::size_t kWindow = 20;     // steps remembered
  static constexpr std::size_t kMinSteps = 4;    // measured before the allowance may grow
  static constexpr double kHeadroom = 1.2;
  static constexpr double kQuantum = 0.1;        // seconds
  static constexpr double kMaxSeconds = 10.0;    // the longest `latency` step

  // `step`: the configured update step (seconds).
  explicit StepAllowance(double step = 1.0) : step_(step) {}

  // A new configured step (a property change while playing): what was measured stays.
  void set_step(double step) { step_ = step; }
  // One step's processing time (seconds). True when the allowance grew (announce a new latency).
  bool add(double processing);
  // Seconds a step is allowed in the latency rule: max(configured step, measured allowance).
  double seconds() const { return measured_ > step_ ? measured_ : step_; }
  // The measured part alone (0 until steps were slower than the step): never decreases.
  double measured() const { return measured_; }
  // The processing estimate from the steps remembered (0 before kMinSteps steps).
  double estimate() const;
  // A new stream on a possibly different machine load: measurements and growth forgotten.
  void reset();

 private:
  double step_;
  double measured_ = 0.0;
  std::deque<double> recent_;
};

}  // namespace npw
