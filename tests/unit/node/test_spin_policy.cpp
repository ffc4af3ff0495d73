// SpinPolicy: when a thread out of work polls before it sleeps.
#include "node/spin_policy.hpp"

#include <gtest/gtest.h>

namespace weft {
namespace {

using namespace std::chrono_literals;

// A thread that spins until told otherwise, with every wait asleep `gap`
// long and every spin finding work or not as `found` says; returns how many
// of `waits` times it ran out of work it spun.
int spins_over(SpinPolicy& policy, int waits, std::chrono::microseconds gap, bool found) {
  int spins = 0;
  for (int i = 0; i < waits; ++i) {
    if (policy.should_spin()) {
      ++spins;
      policy.spun(found ? SpinOutcome::found_work : SpinOutcome::found_nothing);
      if (found) continue;
    }
    policy.slept(gap);
  }
  return spins;
}

TEST(SpinPolicy, NeverSpinsWithoutASpinOrBeforeAShortWait) {
  SpinPolicy off(0us);
  off.slept(1us);
  EXPECT_FALSE(off.should_spin());

  SpinPolicy fresh(50us);
  EXPECT_FALSE(fresh.should_spin()) << "no wait seen yet";
  fresh.slept(1us);
  EXPECT_TRUE(fresh.should_spin());
}

// Idle nodes and slow-paced peers: waits of 8 spins or more never make it spin.
TEST(SpinPolicy, SlowPacedWorkNeverSpins) {
  SpinPolicy policy(50us);
  EXPECT_EQ(spins_over(policy, 1000, 400us, false), 0);
  EXPECT_EQ(spins_over(policy, 1000, 30ms, true), 0);
}

// A fast exchange on one host: every spin finds work, so it keeps spinning.
TEST(SpinPolicy, SpinsWhileSpinsFindWork) {
  SpinPolicy policy(50us);
  policy.slept(100us);
  EXPECT_EQ(spins_over(policy, 1000, 100us, true), 1000);
}

// Answers that come back a little later than the spin (a round trip over a
// LAN): each wait is short, yet no spin finds work. The back-off doubles up
// to 64 skipped chances, so over 1,000 waits it spins 1 + 6 times to reach
// the cap, then once in every 65.
TEST(SpinPolicy, BacksOffWhenSpinsFindNothing) {
  SpinPolicy policy(50us);
  policy.slept(200us);
  const int spins = spins_over(policy, 1000, 200us, false);
  EXPECT_GE(spins, 7);
  EXPECT_LE(spins, 7 + 1000 / 65 + 1) << "a wasted spin in most waits";
}

// One spin that finds work ends the back-off at once.
TEST(SpinPolicy, AFoundSpinEndsTheBackOff) {
  SpinPolicy policy(50us);
  policy.slept(100us);
  spins_over(policy, 200, 100us, false);  // backing off at the cap
  // Within the cap's 64 skipped chances it spins once more; that spin finds
  // work, and from then on every chance is taken.
  int waits_to_spin = 0;
  while (!policy.should_spin()) {
    policy.slept(100us);
    ASSERT_LE(++waits_to_spin, 65);
  }
  policy.spun(SpinOutcome::found_work);
  EXPECT_EQ(spins_over(policy, 100, 100us, true), 100);
}

// After a spin that found nothing, a long wait asleep stops spinning
// altogether until waits are short again.
TEST(SpinPolicy, ALongWaitAfterAFailedSpinStopsIt) {
  SpinPolicy policy(50us);
  policy.slept(100us);
  ASSERT_TRUE(policy.should_spin());
  policy.spun(SpinOutcome::found_nothing);
  policy.slept(5ms);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(policy.should_spin()) << i;
}

// Where threads outnumber CPUs the spinner's CPU is wanted: a spin that lost
// its CPU backs off as one that found nothing does, though work keeps coming
// back fast.
TEST(SpinPolicy, ASpinThatLostItsCpuBacksOff) {
  SpinPolicy policy(50us);
  policy.slept(100us);
  int spins = 0;
  for (int i = 0; i < 1000; ++i) {
    if (policy.should_spin()) {
      ++spins;
      policy.spun(SpinOutcome::lost_cpu);
    }
    policy.slept(100us);
  }
  EXPECT_LE(spins, 7 + 1000 / 65 + 1);
}

}  // namespace
}  // namespace weft
