// SpinPolicy: when a thread out of work polls before it sleeps.
#include "node/spin_policy.hpp"

#include <gtest/gtest.h>

namespace weft {
namespace {

using namespace std::chrono_literals;
using Clock = SpinPolicy::Clock;

// A thread on a simulated clock: it works, runs out of work, and then either
// spins (if the policy says so) or sleeps until the next work.
struct Thread {
  explicit Thread(std::chrono::microseconds spin) : policy(spin) {}

  // One cycle: `busy` of work, then `wait` until the next work. A spin
  // finds that work if `spin_finds` (a spin that ends with `other` instead
  // lasts the whole spin, then the thread sleeps the rest of the wait).
  // Returns whether it spun.
  bool cycle(std::chrono::microseconds busy, std::chrono::microseconds wait, bool spin_finds,
             SpinOutcome other = SpinOutcome::found_nothing) {
    now += busy;
    if (!policy.out_of_work(now)) {
      now += wait;
      policy.woke(now);
      return false;
    }
    if (spin_finds) {
      now += wait;
      policy.spun(SpinOutcome::found_work, now);
      return true;
    }
    now += policy.spin();
    policy.spun(other, now);
    now += wait > policy.spin() ? wait - policy.spin() : 0us;
    policy.woke(now);
    return true;
  }

  int spins_over(int cycles, std::chrono::microseconds busy, std::chrono::microseconds wait, bool spin_finds,
                 SpinOutcome other = SpinOutcome::found_nothing) {
    int spins = 0;
    for (int i = 0; i < cycles; ++i) spins += cycle(busy, wait, spin_finds, other) ? 1 : 0;
    return spins;
  }

  SpinPolicy policy;
  Clock::time_point now = Clock::time_point{} + 1h;
};

TEST(SpinPolicy, NeverSpinsWithoutASpinOrBeforeAShortWait) {
  Thread off(0us);
  EXPECT_EQ(off.spins_over(100, 5us, 10us, true), 0);

  Thread fresh(50us);
  EXPECT_FALSE(fresh.cycle(5us, 10us, true)) << "no wait seen yet";
  EXPECT_TRUE(fresh.cycle(5us, 10us, true));
}

// Idle nodes and slow-paced peers: waits of 8 spins or more never make it spin.
TEST(SpinPolicy, SlowPacedWorkNeverSpins) {
  Thread thread(50us);
  EXPECT_EQ(thread.spins_over(1000, 5us, 400us, true), 0);
  EXPECT_EQ(thread.spins_over(1000, 5us, 30ms, true), 0);
}

// A fast exchange on one host, each end waiting more than it works: every
// spin finds work, so it keeps spinning.
TEST(SpinPolicy, SpinsWhileSpinsFindWork) {
  Thread thread(50us);
  EXPECT_EQ(thread.spins_over(1000, 10us, 20us, true), 999);
}

// A thread busy most of the time (bulk data, churn at full speed) does not
// spin, though its waits are short and a spin would find work; once it
// waits more than it works again, it spins again.
TEST(SpinPolicy, ABusyThreadDoesNotSpin) {
  Thread thread(50us);
  thread.spins_over(100, 10us, 20us, true);
  EXPECT_LE(thread.spins_over(50, 90us, 10us, true), 5) << "the busy share rises within a few cycles";
  EXPECT_EQ(thread.spins_over(1000, 90us, 10us, true), 0);
  EXPECT_LT(thread.policy.busy_share(), 0.95);
  EXPECT_GT(thread.policy.busy_share(), 0.85);
  EXPECT_GE(thread.spins_over(100, 10us, 20us, true), 80);
}

// Answers that come back a little later than the spin (a round trip over a
// LAN): each wait is short, yet no spin finds work. The back-off doubles up
// to 64 skipped chances, so over 1,000 waits it spins 1 + 6 times to reach
// the cap, then once in every 65.
TEST(SpinPolicy, BacksOffWhenSpinsFindNothing) {
  Thread thread(50us);
  const int spins = thread.spins_over(1000, 10us, 200us, false);
  EXPECT_GE(spins, 7);
  EXPECT_LE(spins, 7 + 1000 / 65 + 1) << "a wasted spin in most waits";
}

// Where threads outnumber CPUs the spinner's CPU is wanted: a spin that lost
// its CPU backs off as one that found nothing does, though work keeps coming
// back fast.
TEST(SpinPolicy, ASpinThatLostItsCpuBacksOff) {
  Thread thread(50us);
  const int spins = thread.spins_over(1000, 10us, 60us, false, SpinOutcome::lost_cpu);
  EXPECT_GE(spins, 7);
  EXPECT_LE(spins, 7 + 1000 / 65 + 1);
}

// One spin that finds work ends the back-off at once.
TEST(SpinPolicy, AFoundSpinEndsTheBackOff) {
  Thread thread(50us);
  thread.spins_over(300, 10us, 100us, false);  // backing off at the cap
  // Within the cap's 64 skipped chances it spins once more; that spin finds
  // work, and from then on every chance is taken.
  int cycles = 0;
  while (!thread.cycle(10us, 20us, true)) ASSERT_LE(++cycles, 65);
  EXPECT_EQ(thread.spins_over(100, 10us, 20us, true), 100);
}

// After a spin that found nothing, a long wait asleep stops spinning
// altogether until waits are short again.
TEST(SpinPolicy, ALongWaitAfterAFailedSpinStopsIt) {
  Thread thread(50us);
  thread.cycle(10us, 20us, true);
  ASSERT_TRUE(thread.cycle(10us, 5ms, false));
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(thread.cycle(10us, 5ms, true)) << i;
}

// A poller whose polls time out asks again and again with no work between:
// its wait counts from the first time it ran out of work, so a long idle
// stretch ended by work does not look like a short wait.
TEST(SpinPolicy, RepeatedPollsWithoutWorkKeepTheWaitsStart) {
  Thread thread(50us);
  thread.spins_over(10, 10us, 20us, true);
  thread.now += 10us;
  ASSERT_TRUE(thread.policy.out_of_work(thread.now));
  thread.now += 50us;
  thread.policy.spun(SpinOutcome::found_nothing, thread.now);
  for (int i = 0; i < 100; ++i) {  // 100 polls of 1 ms that time out
    thread.now += 1ms;
    EXPECT_FALSE(thread.policy.out_of_work(thread.now));
  }
  thread.now += 100us;
  thread.policy.woke(thread.now);  // work, 100 µs into the last poll
  EXPECT_FALSE(thread.cycle(10us, 20us, true)) << "the wait before was 100 ms, not 100 µs";
}

}  // namespace
}  // namespace weft
