// Seed 4: an async call dropped halfway left a stateful engine unusable
// (Wasmtime). In weft protocol state lives on the node's threads; a caller
// can only ask for cancellation, and the operation then finishes or rolls
// back there and completes exactly once. This group sends 100,000 operations
// of every kind through the C ABI, each cancelled at a random moment (before
// it starts, while it runs, after it completed), checks that each completed
// once with its own result or WEFT_ECANCELED, that the echo stream carried
// exactly the bytes the writes reported (a cancelled read loses nothing, a
// cancelled write sends nothing or a prefix), and that the node still works
// and holds nothing more than before.
#include <gtest/gtest.h>

#include "lifecycle_util.hpp"
#include "scenarios.hpp"

using namespace lc;

TEST(Seed4Cancellation, HundredThousandOperationsCancelledAtRandomMoments) {
  const std::uint64_t total = scaled(100000);
  report("seed 4: " + std::to_string(total) + " cancelled operations (" + build_kind() +
         " build; CI size 100000, divided by " + std::to_string(sanitizer_divisor()) +
         " under sanitizers, times WEFT_LIFECYCLE_SCALE)");
  warm_up_threads();
  const Snapshot baseline = Snapshot::take();
  weft_node listener = start_node({{WEFT_LIMIT_MAX_CONNECTIONS_PER_PEER, 1024}});
  weft_node node = start_node({{WEFT_LIMIT_MAX_OUTBOUND_CONNECTIONS, 1024},
                               {WEFT_LIMIT_MAX_CONNECTIONS_PER_PEER, 1024}},
                              2, false);
  const std::string addr = listen_addr(listener);
  const weft_conn conn = dial(node, addr);
  const weft_stream echo = open_stream(node, conn, "/echo/1.0.0");
  ASSERT_NE(echo.id, 0u);
  ASSERT_EQ(weft_node_handle(node, "/lc/accepted/never"), WEFT_OK);
  // A successful ping leaves its stream open for the next ping: one ping
  // before the rest state is taken and one after the storm, so that both
  // hold that stream.
  auto ping_ok = [&](std::uint64_t token) {
    Pump pump(node);
    EXPECT_EQ(weft_ping(conn, token), WEFT_OK);
    EXPECT_TRUE(pump.until([&] { return pump.seen(token) == 1; },
                           [&](const Event& e) { EXPECT_EQ(e.status, WEFT_OK) << e.error; }, 20s));
  };
  ping_ok(7);
  // What the node holds at rest with this one connection and stream.
  const std::uint64_t streams_at_rest = stat(node, WEFT_STAT_STREAMS);
  const Snapshot at_rest = quiet_snapshot();

  const std::uint64_t storm_seed = seed(0xca9ce1);
  report("seed 4: random seed " + std::to_string(storm_seed));
  const auto f = cancel_storm(node, conn, echo, addr, "/lc/accepted/never", total, storm_seed);
  report("seed 4: " + std::to_string(f.operations) + " operations in " + std::to_string(f.seconds) + " s, " +
         std::to_string(f.writes) + " writes, " + std::to_string(f.echoed_bytes) + " bytes echoed" + f.table());
  EXPECT_EQ(f.operations, total);
  // Every kind was caught cancelled at every moment it can be, and every kind
  // but the accepts (nobody opens those streams) also finished.
  for (int k = 0; k < CancelFigures::kinds; ++k) {
    std::uint64_t finished = 0;
    for (int m = 0; m < CancelFigures::moments; ++m) finished += f.statuses[k][m][0];
    // Before it starts and while it runs (after completion nothing is left to cancel).
    for (int m = 0; m < 2; ++m) {
      EXPECT_GT(f.statuses[k][m][1], 0u) << CancelFigures::kind_name(k) << " never cancelled "
                                         << CancelFigures::moment_name(m);
    }
    if (k != CancelFigures::accept_kind) {
      EXPECT_GT(finished, 0u) << CancelFigures::kind_name(k) << " never finished";
    }
  }
  EXPECT_EQ(stat(node, WEFT_STAT_PENDING_OPS), 0u);
  EXPECT_EQ(stat(node, WEFT_STAT_QUEUED_EVENTS), 0u);
  EXPECT_EQ(live(kLiveOperations), 0u);
  ping_ok(8);

  // The node is as it was: same streams and connections, same live counts...
  ASSERT_EQ(weft_stream_free(echo), WEFT_OK);
  EXPECT_TRUE(eventually([&] {
    return stat(node, WEFT_STAT_CONNECTIONS) == 1 && stat(node, WEFT_STAT_STREAMS) == streams_at_rest - 1;
  })) << stat(node, WEFT_STAT_CONNECTIONS) << " connections, " << stat(node, WEFT_STAT_STREAMS) << " streams";
  Snapshot expected = at_rest;
  expected.live[kLiveStreams] -= 2;  // the echo stream, both ends
  EXPECT_EQ(settle_to(expected), "") << "compared with before the cancellations";
  // ... and it works.
  const weft_stream again = open_stream(node, conn, "/echo/1.0.0");
  Pump check(node);
  ASSERT_EQ(weft_ping(conn, 1), WEFT_OK);
  const std::uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
  ASSERT_EQ(weft_stream_write(again, hello, sizeof hello, 2), WEFT_OK);
  ASSERT_EQ(weft_stream_read(again, 64, 3), WEFT_OK);
  int ok = 0;
  std::vector<std::uint8_t> got;
  ASSERT_TRUE(check.until([&] { return ok == 3; }, [&](const Event& e) {
    EXPECT_EQ(e.status, WEFT_OK) << e.error;
    ++ok;
    got.insert(got.end(), e.data.begin(), e.data.end());
  }, slow(10s)));
  EXPECT_EQ(got, std::vector<std::uint8_t>(hello, hello + sizeof hello));
  const weft_conn second = dial(node, addr);
  EXPECT_NE(second.id, 0u);

  close_node(node);
  close_node(listener);
  EXPECT_EQ(settle_to(baseline), "") << "left behind after close";
}
