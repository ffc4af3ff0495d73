// When a thread that ran out of work should poll a while for more before it
// sleeps in the kernel (NodeConfig::io_spin).
//
// Waking a sleeping thread costs tens of microseconds on many virtual
// machines, more than a small message's round trip on one host, so a short
// spin removes a wake-up from every exchange whose answer comes back within
// it. A spin that finds nothing is a waste of CPU, and a spinning thread
// holds a CPU other threads may need, so a thread spins only when all three
// signs say it will pay:
//  - its last wait was short (fewer than kWorthGap spins, measured from
//    running out of work to the next work, so a wait asleep includes the
//    wake-up a spin would save): idle nodes, keep-alives and slow-paced
//    peers never make it spin;
//  - it waits more than it works (a busy share under kMaxBusyShare, averaged
//    over its recent work/wait cycles): a thread that is busy most of the
//    time (bulk transfer, stream churn at full speed) saves little by
//    spinning, while its spins keep a CPU the scheduler could give to the
//    other end of the exchange;
//  - its recent spins found work and had the CPU to themselves: after a spin
//    that found nothing, or that lost its CPU to another thread, it skips
//    the next 1, 2, 4 ... up to kMaxSkip chances to spin, and a spin that
//    finds work ends the back-off. A peer whose answers come back a little
//    later than the spin (a round trip over a LAN) thus costs at most one
//    wasted spin in kMaxSkip waits, not one in every wait; and where threads
//    outnumber CPUs a spinner stops competing for a CPU the others need.
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
  using Clock = std::chrono::steady_clock;
  static constexpr int kWorthGap = 8;
  static constexpr std::uint32_t kMaxSkip = 64;
  static constexpr double kMaxBusyShare = 0.5;
  // A spinning thread polls and yields in a loop, a microsecond or two a
  // round. A round that takes longer than this means the thread was off its
  // CPU: a yield handed it to another runnable thread, or it was preempted.
  static constexpr std::chrono::microseconds kLostCpu{20};

  explicit SpinPolicy(std::chrono::microseconds spin) noexcept : spin_(spin) {}

  std::chrono::microseconds spin() const noexcept { return spin_; }

  // The thread ran out of work at `now`: spin now? A no during a back-off
  // uses up one of the chances it skips. Asked again without work between
  // (a poll that timed out), the wait still counts from the first time.
  bool out_of_work(Clock::time_point now) noexcept {
    if (working_) {
      const double busy = std::chrono::duration<double>(now - work_since_).count();
      const double cycle = busy + last_wait_;
      if (cycle > 0) busy_share_ += (busy / cycle - busy_share_) / kShareWeight;
    }
    if (working_ || idle_since_ == Clock::time_point{}) idle_since_ = now;
    working_ = false;
    if (spin_.count() <= 0 || !last_wait_short_ || busy_share_ >= kMaxBusyShare) return false;
    if (skip_ > 0) {
      --skip_;
      return false;
    }
    return true;
  }

  // The spin asked for ended at `now`.
  void spun(SpinOutcome outcome, Clock::time_point now) noexcept {
    if (outcome == SpinOutcome::found_work) {
      backoff_ = 0;
      work_arrived(now);
      return;
    }
    backoff_ = backoff_ == 0 ? 1 : std::min(backoff_ * 2, kMaxSkip);
    skip_ = backoff_;
    last_wait_short_ = false;  // until a wait asleep says otherwise
  }

  // The thread slept and woke to work at `now`.
  void woke(Clock::time_point now) noexcept { work_arrived(now); }

  double busy_share() const noexcept { return busy_share_; }

 private:
  static constexpr double kShareWeight = 8;  // cycles the average spans, roughly

  void work_arrived(Clock::time_point now) noexcept {
    const auto wait = now - idle_since_;
    last_wait_short_ = wait < kWorthGap * spin_;
    last_wait_ = std::chrono::duration<double>(wait).count();
    work_since_ = now;
    working_ = true;
  }

  std::chrono::microseconds spin_;
  bool last_wait_short_ = false;
  bool working_ = false;
  double last_wait_ = 0;    // seconds
  double busy_share_ = 0;   // of recent cycles, 0..1
  Clock::time_point idle_since_{};
  Clock::time_point work_since_{};
  std::uint32_t backoff_ = 0;  // length of the current back-off, 0 for none
  std::uint32_t skip_ = 0;     // chances to spin still skipped in it
};

}  // namespace weft
