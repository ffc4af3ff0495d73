// Seed 3: a node stop that reported "stopped" while the process could not
// exit (connections drained instead of aborted, resources of the handshake
// never closed, components stopped in an order that kept them alive). weft
// halts its connection manager first, then stops listeners, connections,
// handlers and threads (docs/LIFECYCLE.md says why in that order), aborts
// whatever is left at the deadline, and leaves nothing behind.
// This group stops a node under load: 100+ connections, peers that never
// read (the node's send buffers full), streams mid-write, dials to a
// listener that never accepts, operations of every kind pending, and new
// submissions racing the stop.
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <gtest/gtest.h>

#include "fault_proxy.hpp"
#include "lifecycle_util.hpp"
#include "node/node.hpp"
#include "stall_client.hpp"

using namespace lc;

namespace {

// Submits `count` operations made by `submit(token)` and returns their tokens.
std::vector<std::uint64_t> submit_all(std::uint64_t& next_token, int count,
                                      const std::function<int(std::uint64_t)>& submit) {
  std::vector<std::uint64_t> tokens;
  for (int i = 0; i < count; ++i) {
    const std::uint64_t token = next_token++;
    const int st = submit(token);
    EXPECT_EQ(st, WEFT_OK) << weft_last_error();
    if (st == WEFT_OK) tokens.push_back(token);
  }
  return tokens;
}

// One call made while the stop was racing.
struct RacingCall {
  Clock::time_point started;
  const char* what;
  std::uint64_t token;
  int status;
  std::string error;
};

}  // namespace

TEST(Seed3StopUnderLoad, EveryOperationCompletesOnceAndNothingIsLeft) {
  warm_up_threads();
  const Snapshot baseline = Snapshot::take();
  // Long operation deadlines: only the stop may end what is pending.
  weft_node node = start_node(with_limits(kManyConnections, {{WEFT_LIMIT_PING_TIMEOUT_MS, 600000},
                                                      {WEFT_LIMIT_DIAL_TIMEOUT_MS, 600000},
                                                      {WEFT_LIMIT_HANDSHAKE_TIMEOUT_MS, 600000}}),
                              2);
  weft_node peer = start_node(with_limits(kManyConnections, {{WEFT_LIMIT_INBOUND_STREAM_BACKLOG, 4096}}));
  weft_node inbound = start_node(kManyConnections, 1, false);
  // Registered, never accepted: streams to it are never read.
  ASSERT_EQ(weft_node_handle(peer, "/lc/sink/1"), WEFT_OK);
  ASSERT_EQ(weft_node_handle(node, "/lc/never/1"), WEFT_OK);
  FaultProxy::Options small_buffers;
  small_buffers.receive_buffer = 4096;
  auto frozen_proxy = std::make_unique<FaultProxy>(listen_port(peer), small_buffers);
  auto never_accepting = std::make_unique<NeverAccepting>();

  Pump pump(node);
  std::uint64_t next_token = 1;
  std::unordered_map<std::uint64_t, Event> done;  // completions seen before the stop
  auto keep = [&](const Event& e) { done[e.token] = e; };
  auto wait_all = [&](const std::vector<std::uint64_t>& tokens) {
    EXPECT_TRUE(pump.until([&] {
      for (auto t : tokens)
        if (!done.count(t)) return false;
      return true;
    }, keep, slow(30s)));
  };

  // 60 connections to the peer, 8 through a proxy that will stop reading,
  // 40 from another node.
  const std::string peer_addr = listen_addr(peer);
  auto direct_dials = submit_all(next_token, 60, [&](auto t) { return weft_dial(node, peer_addr.c_str(), t); });
  const std::string frozen_addr = frozen_proxy->multiaddr(peer_id(peer));
  auto frozen_dials = submit_all(next_token, 8, [&](auto t) { return weft_dial(node, frozen_addr.c_str(), t); });
  {
    Pump inbound_pump(inbound);
    const std::string node_addr = listen_addr(node);
    for (int i = 0; i < 40; ++i) {
      ASSERT_EQ(weft_dial(inbound, node_addr.c_str(), 1 + i), WEFT_OK);
    }
    int opened = 0;
    ASSERT_TRUE(inbound_pump.until([&] { return opened == 40; }, [&](const Event& e) {
      EXPECT_EQ(e.status, WEFT_OK) << e.error;
      ++opened;
    }, slow(30s)));
  }
  wait_all(direct_dials);
  wait_all(frozen_dials);
  std::vector<weft_conn> direct, frozen;
  for (auto t : direct_dials) direct.push_back(done.at(t).conn);
  for (auto t : frozen_dials) frozen.push_back(done.at(t).conn);
  for (auto& c : direct) {
    ASSERT_NE(c.id, 0u);
  }
  for (auto& c : frozen) {
    ASSERT_NE(c.id, 0u);
  }

  // Streams nobody reads: one on each of 20 direct connections, many on each
  // frozen one. Echo streams on 10 more.
  const char* sink[] = {"/lc/sink/1"};
  const char* echo[] = {"/echo/1.0.0"};
  std::vector<std::uint64_t> opens;
  for (int i = 0; i < 20; ++i)
    for (auto t : submit_all(next_token, 1, [&](auto t) { return weft_open_stream(direct[i], sink, 1, t); }))
      opens.push_back(t);
  // Enough bytes per frozen connection to fill the session's send buffer,
  // the batch being written and the kernel's send buffer at its largest.
  constexpr int kFrozenStreams = 24;
  for (auto& c : frozen)
    for (auto t : submit_all(next_token, kFrozenStreams, [&](auto t) { return weft_open_stream(c, sink, 1, t); }))
      opens.push_back(t);
  for (int i = 20; i < 30; ++i)
    for (auto t : submit_all(next_token, 1, [&](auto t) { return weft_open_stream(direct[i], echo, 1, t); }))
      opens.push_back(t);
  wait_all(opens);
  std::vector<weft_stream> sink_direct, sink_frozen, echo_streams;
  for (std::size_t i = 0; i < opens.size(); ++i) {
    const Event& e = done.at(opens[i]);
    ASSERT_EQ(e.status, WEFT_OK) << e.error;
    const std::size_t frozen_end = 20 + frozen.size() * kFrozenStreams;
    (i < 20 ? sink_direct : i < frozen_end ? sink_frozen : echo_streams).push_back(e.stream);
  }

  // The proxy stops reading: what the node sends on those connections piles
  // up in its own buffers.
  frozen_proxy->freeze_all();
  std::vector<std::uint64_t> submitted;
  auto add = [&](const std::vector<std::uint64_t>& tokens) {
    submitted.insert(submitted.end(), tokens.begin(), tokens.end());
  };
  const std::vector<std::uint8_t> big(1 << 20, 0x5a);
  const std::vector<std::uint8_t> under_window(240 * 1024, 0xa5);
  std::vector<std::uint64_t> frozen_writes;
  for (auto s : sink_frozen)
    for (auto t : submit_all(next_token, 1, [&](auto t) {
           return weft_stream_write(s, under_window.data(), under_window.size(), t);
         }))
      frozen_writes.push_back(t);
  add(frozen_writes);
  for (auto s : sink_direct) {
    add(submit_all(next_token, 1, [&](auto t) { return weft_stream_write(s, big.data(), big.size(), t); }));
    add(submit_all(next_token, 1, [&](auto t) { return weft_stream_read(s, 4096, t); }));
  }
  for (auto s : echo_streams) add(submit_all(next_token, 2, [&](auto t) { return weft_stream_read(s, 4096, t); }));
  for (auto& c : frozen) add(submit_all(next_token, 2, [&](auto t) { return weft_ping(c, t); }));
  const std::string stuck_addr = never_accepting->multiaddr();
  add(submit_all(next_token, 10, [&](auto t) { return weft_dial(node, stuck_addr.c_str(), t); }));
  add(submit_all(next_token, 10, [&](auto t) { return weft_accept_stream(node, "/lc/never/1", t); }));
  for (int i = 40; i < 50; ++i) add(submit_all(next_token, 1, [&](auto t) { return weft_identify(direct[i], t); }));

  // Settled: the node's send path to the frozen proxy is blocked (writes
  // smaller than the stream window cannot be queued), and the proxy reads nothing.
  pump.until([] { return false; }, keep, 300ms);
  const std::uint64_t proxy_bytes = frozen_proxy->bytes_from_dialers();
  pump.until([] { return false; }, keep, 100ms);
  EXPECT_EQ(frozen_proxy->bytes_from_dialers(), proxy_bytes) << "the frozen links still read";
  int frozen_pending = 0;
  for (auto t : frozen_writes) frozen_pending += done.count(t) == 0;
  EXPECT_GT(frozen_pending, 0) << "no write is held up by a full send buffer";
  const std::uint64_t connections = stat(node, WEFT_STAT_CONNECTIONS);
  const std::uint64_t pending_before = stat(node, WEFT_STAT_PENDING_OPS);
  EXPECT_GE(connections, 100u + 10u);
  report("seed 3: stopping with " + std::to_string(connections) + " connections (" +
         std::to_string(stat(node, WEFT_STAT_HANDSHAKING)) + " handshaking), " +
         std::to_string(pending_before) + " operations pending, " + std::to_string(frozen_pending) +
         " writes held by full send buffers");

  // New submissions race the stop from another thread.
  std::atomic<bool> racing{true};
  std::atomic<std::uint64_t> racing_token{1ull << 40};
  std::vector<RacingCall> calls;
  std::thread racer([&] {
    for (int round = 0; racing; ++round) {
      const auto t0 = Clock::now();
      const std::uint64_t token = racing_token++;
      int st;
      const char* what;
      switch (round % 3) {
        case 0: what = "dial"; st = weft_dial(node, peer_addr.c_str(), token); break;
        case 1: what = "open_stream"; st = weft_open_stream(direct[50 + round % 10], echo, 1, token); break;
        default: what = "accept_stream"; st = weft_accept_stream(node, "/lc/never/1", token); break;
      }
      calls.push_back({t0, what, token, st, st == WEFT_OK ? "" : weft_last_error()});
      std::this_thread::sleep_for(200us);
    }
  });
  std::this_thread::sleep_for(50ms);
  const auto deadline = 500ms;
  const auto t_stop = Clock::now();
  ASSERT_EQ(weft_node_stop(node, deadline.count()), WEFT_OK) << weft_last_error();
  const auto t_stopped = Clock::now();
  std::this_thread::sleep_for(50ms);
  racing = false;
  racer.join();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(t_stopped - t_stop);
  report("seed 3: stop took " + std::to_string(took.count()) + " ms (deadline " +
         std::to_string(deadline.count()) + " ms)");
  EXPECT_LE(took, deadline + stop_margin());

  // Every operation, racing ones included, has completed exactly once.
  EXPECT_EQ(stat(node, WEFT_STAT_PENDING_OPS), 0u);
  EXPECT_EQ(stat(node, WEFT_STAT_CONNECTIONS), 0u);
  for (const auto& c : calls)
    if (c.status == WEFT_OK) submitted.push_back(c.token);
  pump.until([] { return false; }, keep, 50ms);
  std::unordered_set<std::uint64_t> expected(submitted.begin(), submitted.end());
  for (auto t : submitted) {
    EXPECT_EQ(pump.seen(t), 1) << "token " << t;
  }
  EXPECT_TRUE(pump.duplicates().empty());
  for (const auto& [token, e] : done)
    if (expected.count(token) && e.type == WEFT_EVENT_DIAL && e.status == WEFT_OK) {
      // A racing dial that won: its connection ended with the stop.
      EXPECT_NE(e.conn.id, 0u);
    }

  // During the stop new work was refused with a clear status, and once
  // refused, never accepted again.
  bool refused = false;
  int refused_while_stopping = 0;
  for (const auto& c : calls) {
    if (c.status != WEFT_OK) {
      EXPECT_EQ(c.status, WEFT_ESTOPPED) << c.what << ": " << c.error;
      EXPECT_NE(c.error.find("stop"), std::string::npos) << c.error;
      refused = true;
      if (c.started < t_stopped) ++refused_while_stopping;
    } else {
      EXPECT_FALSE(refused) << c.what << " accepted after an earlier call was refused";
      EXPECT_LT(c.started, t_stopped) << c.what << " accepted after the stop returned";
    }
  }
  EXPECT_GT(refused_while_stopping, 0) << "no call was refused while the stop was in progress";

  EXPECT_EQ(weft_node_close(node), WEFT_OK);
  frozen_proxy.reset();
  never_accepting.reset();
  close_node(inbound);
  close_node(peer);
  EXPECT_EQ(settle_to(baseline), "") << "left behind after close";
}

namespace {

// Runs `task` on `node`'s I/O threads; the future gets its result.
template <typename T>
std::future<T> start_on(weft::Node& node, weft::Task<T> task) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  asio::co_spawn(node.io(), std::move(task), [promise](std::exception_ptr e, T value) {
    if (e) promise->set_exception(e);
    else promise->set_value(std::move(value));
  });
  return future;
}

std::unique_ptr<weft::Node> cpp_node(bool listen) {
  weft::NodeConfig config;
  if (listen) config.listen_addrs = {"/ip4/127.0.0.1/tcp/0"};
  config.io_threads = 2;
  config.limits.max_inbound_connections = 1024;
  config.limits.max_outbound_connections = 1024;
  config.limits.max_connections_per_peer = 1024;
  config.limits.max_pending_handshakes = 1024;
  auto node = weft::Node::create(std::move(config));
  EXPECT_TRUE(node.ok()) << node.error().message();
  auto st = (*node)->start();
  EXPECT_TRUE(st.ok()) << st.error().message();
  return std::move(*node);
}

weft::Multiaddr address_of(const weft::Node& n) {
  return *weft::Multiaddr::parse(n.listen_addrs().at(0).to_string() + "/p2p/" + n.peer_id().to_string());
}

bool halted(const weft::Node& n) {
  const auto trace = n.stop_trace();
  return !trace.empty() && trace.front() == "connection manager";
}

}  // namespace

// The order, observed under load: from the moment the connection manager
// halts, the node admits nothing (its connection count only falls, new dials
// and streams to it fail, raw connects end), and then the listeners,
// connections, protocol handlers and I/O threads stop in that order.
TEST(Seed3StopUnderLoad, StopOrderUnderLoad) {
  warm_up_threads();
  const Snapshot baseline = Snapshot::take();
  auto node = cpp_node(true);
  auto other = cpp_node(true);
  const auto node_addr = address_of(*node);
  const auto other_addr = address_of(*other);

  std::vector<std::future<weft::Result<std::shared_ptr<weft::Connection>>>> dials;
  for (int i = 0; i < 60; ++i) dials.push_back(start_on(*other, other->dial(node_addr)));
  for (int i = 0; i < 50; ++i) dials.push_back(start_on(*node, node->dial(other_addr)));
  std::vector<std::shared_ptr<weft::Connection>> into_node;  // other's connections to node
  for (std::size_t i = 0; i < dials.size(); ++i) {
    auto conn = dials[i].get();
    ASSERT_TRUE(conn.ok()) << conn.error().message();
    if (i < 60) into_node.push_back(*conn);
  }
  const std::uint16_t node_port = weft::to_tcp_target(node_addr)->port;
  std::vector<std::unique_ptr<StalledClient>> stalled;
  for (int i = 0; i < 10; ++i) {
    std::string error;
    auto c = StalledClient::start(node_port, static_cast<Stage>(i % 5), &error);
    ASSERT_NE(c, nullptr) << error;
    stalled.push_back(std::move(c));
  }
  // Open connections whose clients never answer the close: the stop runs
  // to its deadline, which gives the knocks below time to race it.
  for (int i = 0; i < 5; ++i) {
    std::string error;
    auto c = StalledClient::start(node_port, Stage::mid_stream_negotiation, &error);
    ASSERT_NE(c, nullptr) << error;
    stalled.push_back(std::move(c));
  }
  ASSERT_TRUE(eventually([&] { return node->stats().connections == 125; }))
      << node->stats().connections << " connections";

  // Watches the node while it stops.
  std::atomic<bool> watching{true};
  std::vector<std::size_t> counts_after_halt;
  std::thread watcher([&] {
    while (watching) {
      const bool h = halted(*node);
      const auto n = node->stats().connections;
      if (h) counts_after_halt.push_back(n);
      std::this_thread::sleep_for(100us);
    }
  });
  // Knocks on the node while it stops: dials, streams on open connections,
  // raw connects. Those that start after the halt must all fail.
  struct Knock {
    std::future<weft::Result<std::shared_ptr<weft::Connection>>> dial;
    std::future<weft::Result<weft::Stream>> stream;
  };
  std::vector<Knock> knocks_after_halt;
  int raw_after_halt = 0, raw_still_open = 0;
  std::atomic<bool> knocking{true};
  std::thread knocker([&] {
    for (int i = 0; knocking; ++i) {
      const bool after = halted(*node);
      Knock k;
      k.dial = start_on(*other, other->dial(node_addr));
      std::vector<std::string> protos{"/echo/1.0.0"};
      k.stream = start_on(*other, other->open_stream(into_node[i % into_node.size()], protos));
      const int fd = connect_loopback(node_port, 200ms);
      if (after) {
        knocks_after_halt.push_back(std::move(k));
        if (fd >= 0) {
          ++raw_after_halt;
          raw_still_open += wait_socket_end(fd, 2s) == StalledClient::End::still_open;
        }
      }
      if (fd >= 0) ::close(fd);
      std::this_thread::sleep_for(1ms);
    }
  });
  std::this_thread::sleep_for(20ms);
  node->stop(300ms);
  knocking = false;
  knocker.join();
  watching = false;
  watcher.join();

  const std::vector<std::string> order{"connection manager", "listeners", "connections",
                                       "protocol handlers", "io threads"};
  EXPECT_EQ(node->stop_trace(), order);
  ASSERT_FALSE(counts_after_halt.empty());
  for (std::size_t i = 1; i < counts_after_halt.size(); ++i)
    ASSERT_LE(counts_after_halt[i], counts_after_halt[i - 1]) << "a connection was admitted after the halt";
  EXPECT_EQ(node->stats().connections, 0u);
  EXPECT_GT(knocks_after_halt.size(), 0u);
  for (auto& k : knocks_after_halt) {
    EXPECT_FALSE(k.dial.get().ok()) << "a dial to the stopping node succeeded";
    EXPECT_FALSE(k.stream.get().ok()) << "a stream to the stopping node opened";
  }
  EXPECT_EQ(raw_still_open, 0) << "of " << raw_after_halt << " raw connects after the halt";
  for (auto& c : stalled) {
    EXPECT_NE(c->wait_end(2s), StalledClient::End::still_open);
  }
  report("seed 3 order: " + std::to_string(counts_after_halt.size()) + " samples after the halt, " +
         std::to_string(knocks_after_halt.size()) + " dials and streams refused, " +
         std::to_string(raw_after_halt) + " raw connects ended");

  into_node.clear();
  other->stop(1000ms);
  node.reset();
  other.reset();
  stalled.clear();
  EXPECT_EQ(settle_to(baseline), "") << "left behind after the nodes were destroyed";
}
