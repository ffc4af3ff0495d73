// Seed 1: a ping timer reused on an error path (rust-libp2p panicked after
// 30+ minutes). weft arms a fresh deadline per phase and never waits on a
// fired timer again. This group runs hours of ping life in seconds: pings
// back to back on several connections through a proxy that stalls, delays,
// drops and resets them, re-dialling after every failure, and counts the
// node's timers: back to the idle figure once the connections are gone, and
// back to zero after close.
#include <gtest/gtest.h>

#include "lifecycle_util.hpp"
#include "scenarios.hpp"

using namespace lc;

TEST(Seed1Timers, PingCyclesThroughInjectedFaults) {
  const std::uint64_t target = scaled(100000);
  report(std::string("seed 1: ") + std::to_string(target) + " ping cycles (" + build_kind() +
         " build; CI size 100000, divided by " + std::to_string(sanitizer_divisor()) +
         " under sanitizers, times WEFT_LIFECYCLE_SCALE)");
  warm_up_threads();
  const Snapshot baseline = Snapshot::take();

  weft_node listener = start_node({{WEFT_LIMIT_MAX_CONNECTIONS_PER_PEER, 4096},
                                   {WEFT_LIMIT_MAX_INBOUND_CONNECTIONS, 4096},
                                   {WEFT_LIMIT_MAX_PENDING_HANDSHAKES, 4096}});
  const auto ping_timeout = slow(100ms);
  weft_node pinger = start_node({{WEFT_LIMIT_PING_TIMEOUT_MS, std::uint64_t(ping_timeout.count())},
                                 {WEFT_LIMIT_DIAL_TIMEOUT_MS, 3000},
                                 {WEFT_LIMIT_HANDSHAKE_TIMEOUT_MS, 3000},
                                 {WEFT_LIMIT_MAX_CONNECTIONS_PER_PEER, 4096},
                                 {WEFT_LIMIT_MAX_OUTBOUND_CONNECTIONS, 4096},
                                 {WEFT_LIMIT_MAX_PENDING_HANDSHAKES, 4096}},
                                1, false);
  // What two started nodes without connections hold.
  const std::uint64_t idle_timers = quiet_snapshot().live[kLiveTimers];

  FaultProxy::Options options;
  // Not slowed under sanitizers: fewer cycles then, and still as many faults
  // between them.
  options.min_gap = 8ms;
  options.max_gap = 30ms;
  options.max_stall = 2 * ping_timeout;  // about half the stalls outlast the ping timeout
  options.max_delay_period = 2 * ping_timeout;
  options.max_chunk_delay = ping_timeout / 4;
  options.seed = seed(20240501);
  report("seed 1: proxy seed " + std::to_string(options.seed));
  auto proxy = std::make_unique<FaultProxy>(listen_port(listener), options);
  // 32 connections with 4 pings pending on each.
  const auto figures =
      ping_through_faults(pinger, proxy->multiaddr(peer_id(listener)), *proxy, target, 32, 4, slow(15s));
  report("seed 1: " + figures.text());

  // With no connection left, the timers are exactly those of two idle nodes:
  // none was left behind by any error path.
  EXPECT_TRUE(eventually([&] {
    return stat(listener, WEFT_STAT_CONNECTIONS) == 0 && stat(pinger, WEFT_STAT_CONNECTIONS) == 0;
  }, slow(10s)));
  EXPECT_TRUE(eventually([&] { return live(kLiveTimers) == idle_timers; }, 5s))
      << "timers: " << live(kLiveTimers) << ", idle nodes hold " << idle_timers;
  EXPECT_EQ(live(kLiveOperations), 0u);
  EXPECT_EQ(live(kLiveConnections), 0u);
  EXPECT_EQ(live(kLiveStreams), 0u);

  EXPECT_GE(figures.cycles, target);
  // Every kind of fault happened, the pings saw them, and most pings worked.
  for (int k = 0; k < FaultProxy::kFaultKinds; ++k)
    EXPECT_GE(figures.faults[k], 3u) << FaultProxy::fault_name(k) << " was never injected";
  EXPECT_GT(figures.failures, 0u);
  EXPECT_GT(figures.recoveries, 0u);
  EXPECT_GT(figures.successes, figures.cycles / 2);

  proxy.reset();
  EXPECT_EQ(weft_node_close(pinger), WEFT_OK);
  EXPECT_EQ(weft_node_close(listener), WEFT_OK);
  EXPECT_EQ(settle_to(baseline), "") << "left behind after close";
}
