// The live latency's step allowance: grows to the steps' measured cost (about their 95th percentile)
// with headroom, ignores a single stall, never shrinks during a stream, follows the configured step.
#include "stream/step_allowance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace npw {
namespace {

TEST(StepAllowance, StaysAtTheStepWhileStepsFitInIt) {
  StepAllowance a(0.5);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(a.add(0.3 + 0.004 * (i % 50)));
  EXPECT_DOUBLE_EQ(a.seconds(), 0.5);
  EXPECT_DOUBLE_EQ(a.measured(), 0.0);
}

TEST(StepAllowance, GrowsToSlowStepsWithHeadroomOnceEnoughAreMeasured) {
  StepAllowance a(0.5);
  EXPECT_FALSE(a.add(1.8));
  EXPECT_FALSE(a.add(1.8));
  EXPECT_FALSE(a.add(1.8));
  EXPECT_DOUBLE_EQ(a.seconds(), 0.5);  // three steps are not a measurement yet
  EXPECT_TRUE(a.add(1.8));
  EXPECT_NEAR(a.seconds(), 2.2, 1e-9);  // 1.8 * 1.2 = 2.16, up to the next 100 ms
  // The same cost again: nothing new to announce.
  for (int i = 0; i < 30; ++i) EXPECT_FALSE(a.add(1.8));
  EXPECT_NEAR(a.seconds(), 2.2, 1e-9);
}

TEST(StepAllowance, OneStallDoesNotMoveIt) {
  StepAllowance a(1.0);
  for (int i = 0; i < 10; ++i) a.add(0.4);
  EXPECT_FALSE(a.add(3.4));  // the backlog rule deals with a stall
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(a.add(0.4));
  EXPECT_DOUBLE_EQ(a.seconds(), 1.0);
  // A second slow step while the stall is among the last 20 is a pattern.
  EXPECT_TRUE(a.add(3.0));
  EXPECT_NEAR(a.seconds(), 3.6, 1e-9);
}

TEST(StepAllowance, NeverShrinksWhenStepsGetFasterAgain) {
  StepAllowance a(0.2);
  for (int i = 0; i < 6; ++i) a.add(1.0);
  EXPECT_NEAR(a.seconds(), 1.2, 1e-9);
  for (int i = 0; i < 40; ++i) EXPECT_FALSE(a.add(0.05));
  EXPECT_NEAR(a.seconds(), 1.2, 1e-9);
}

TEST(StepAllowance, FollowsTheConfiguredStepAboveWhatWasMeasured) {
  StepAllowance a(0.2);
  for (int i = 0; i < 6; ++i) a.add(0.9);
  EXPECT_NEAR(a.seconds(), 1.1, 1e-9);
  a.set_step(3.0);
  EXPECT_DOUBLE_EQ(a.seconds(), 3.0);
  a.set_step(0.5);
  EXPECT_NEAR(a.seconds(), 1.1, 1e-9);  // the measurement stays when the step comes down again
  a.reset();
  EXPECT_DOUBLE_EQ(a.seconds(), 0.5);
}

TEST(StepAllowance, IsBoundedAndIgnoresNonsense) {
  StepAllowance a(0.5);
  EXPECT_FALSE(a.add(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_FALSE(a.add(-1.0));
  for (int i = 0; i < 6; ++i) a.add(60.0);
  EXPECT_DOUBLE_EQ(a.seconds(), StepAllowance::kMaxSeconds);
  EXPECT_FALSE(a.add(100.0));
}

}  // namespace
}  // namespace npw
