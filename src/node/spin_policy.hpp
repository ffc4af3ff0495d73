// When a thread that ran out of work should poll a while for more before it
// sleeps in the kernel (NodeConfig::io_spin).
//
// Waking a sleeping thread costs tens of microseconds on many virtual
// machines, more than a small message's round trip on one host, so a short
// spin removes a wake-up from every exchange whose answer comes back within
// it. A spin that finds nothing is a waste of CPU, so a thread spins only
// when both signs say it will pay:
//  - its last wait asleep was short (fewer than kWorthGap spins, measured
//    from running out of work to the next work, so it includes the wake-up a
//    spin would save): idle nodes, keep-alives and slow-paced peers never
//    make it spin;
//  - its recent spins found work and had the CPU to themselves: after a spin
//    that found nothing, or that lost its CPU to another thread, it skips
//    the next 1, 2, 4 ... up to kMaxSkip chances to spin, and a spin that
//    finds work ends the back-off. A peer whose answers come back a little
//    later than the spin (a round trip over a LAN) thus costs at most one
//    wasted spin in kMaxSkip waits, not one in every wait; and where threads
//    outnumber CPUs (the peer process on the same machine, or any other
//    load) a spinner stops competing for a CPU the others need.
// One per thread; not thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace weft {

// How a spin ended.
enum class SpinOutcome {
  found_work,
  found_nothing,  // it ran its full length
  lost_cpu,       // another thread ran on its CPU meanwhile (see kLostCpu)
};

class SpinPolicy {
 public:
  static constexpr int kWorthGap = 8;
  static constexpr std::uint32_t kMaxSkip = 64;
  // A spinning thread polls and yields in a loop, a microsecond or two a
  // round. A round that takes longer than this means the thread was off its
  // CPU: a yield handed it to another runnable thread, or it was preempted.
  static constexpr std::chrono::microseconds kLostCpu{20};

  explicit SpinPolicy(std::chrono::microseconds spin) noexcept : spin_(spin) {}

  std::chrono::microseconds spin() const noexcept { return spin_; }

  // Asked each time the thread runs out of work: spin now? A no during a
  // back-off uses up one of the chances it skips.
  bool should_spin() noexcept {
    if (spin_.count() <= 0 || !last_gap_short_) return false;
    if (skip_ > 0) {
      --skip_;
      return false;
    }
    return true;
  }

  // The spin asked for ended.
  void spun(SpinOutcome outcome) noexcept {
    if (outcome == SpinOutcome::found_work) {
      backoff_ = 0;
      return;
    }
    backoff_ = backoff_ == 0 ? 1 : std::min(backoff_ * 2, kMaxSkip);
    skip_ = backoff_;
    last_gap_short_ = false;  // until a wait asleep says otherwise
  }

  // The thread slept and woke to work `gap` after it ran out of work (spin
  // included).
  void slept(std::chrono::steady_clock::duration gap) noexcept {
    last_gap_short_ = gap < kWorthGap * spin_;
  }

 private:
  std::chrono::microseconds spin_;
  bool last_gap_short_ = false;
  std::uint32_t backoff_ = 0;  // length of the current back-off, 0 for none
  std::uint32_t skip_ = 0;     // chances to spin still skipped in it
};

}  // namespace weft
