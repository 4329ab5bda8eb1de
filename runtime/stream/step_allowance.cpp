// The live latency's step allowance: see step_allowance.h.
#include "stream/step_allowance.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace npw {

double StepAllowance::estimate() const {
  if (recent_.size() < kMinSteps) return 0.0;
  std::vector<double> v(recent_.begin(), recent_.end());
  std::sort(v.begin(), v.end());
  return v[v.size() - 2];
}

bool StepAllowance::add(double processing) {
  if (!(processing >= 0.0)) return false;  // NaN or a clock step back: not a measurement
  recent_.push_back(processing);
  if (recent_.size() > kWindow) recent_.pop_front();
  const double e = estimate();
  if (e <= seconds()) return false;
  const double want = std::min(kMaxSeconds, std::ceil(e * kHeadroom / kQuantum - 1e-9) * kQuantum);
  if (want <= seconds()) return false;
  measured_ = want;
  return true;
}

void StepAllowance::reset() {
  recent_.clear();
  measured_ = 0.0;
}

}  // namespace npw
