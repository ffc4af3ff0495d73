// Node-level tests: two weft nodes in one process over loopback TCP, and raw
// TCP clients that misbehave at the connection's edges.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <future>
#include <thread>

#include <sys/resource.h>

#include "node/node.hpp"
#include "protocols/echo.hpp"
#include "protocols/perf.hpp"
#include "protocols/ping.hpp"
#include "crypto/crypto.hpp"

using namespace weft;
using namespace std::chrono_literals;

namespace {

// Runs a coroutine on the node's I/O thread and waits for its result.
template <typename T>
T await(Node& n, Task<T> task, std::chrono::seconds limit = 30s) {
  auto p = std::make_shared<std::promise<T>>();
  auto f = p->get_future();
  asio::co_spawn(n.io(), std::move(task), [p](std::exception_ptr e, T v) {
    if (e) p->set_exception(e);
    else p->set_value(std::move(v));
  });
  if (f.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "operation did not complete within " << limit.count() << " s";
    std::abort();
  }
  return f.get();
}

std::unique_ptr<Node> make_node(NodeConfig config = {}) {
  if (config.listen_addrs.empty()) config.listen_addrs = {"/ip4/127.0.0.1/tcp/0"};
  auto n = Node::create(std::move(config));
  EXPECT_TRUE(n.ok()) << n.error().message();
  auto st = (*n)->start();
  EXPECT_TRUE(st.ok()) << st.error().message();
  return std::move(*n);
}

Multiaddr full_addr(const Node& n) {
  auto base = n.listen_addrs().at(0);
  return *Multiaddr::parse(base.to_string() + "/p2p/" + n.peer_id().to_string());
}

// A raw TCP client on its own io_context thread.
struct RawClient {
  asio::io_context io;
  asio::ip::tcp::socket sock{io};
  explicit RawClient(const Node& n) {
    auto target = *to_tcp_target(n.listen_addrs().at(0));
    sock.connect({asio::ip::make_address(target.host), target.port});
  }
  // True once the server closed or reset the connection.
  bool closed_by_server(std::chrono::milliseconds within) {
    sock.non_blocking(false);
    timeval tv{static_cast<time_t>(within.count() / 1000), static_cast<suseconds_t>((within.count() % 1000) * 1000)};
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    for (;;) {
      ssize_t r = ::recv(sock.native_handle(), buf, sizeof buf, 0);
      if (r == 0) return true;                                  // EOF
      if (r < 0) return errno != EAGAIN && errno != EWOULDBLOCK;  // RST → error; timeout → false
    }
  }
};

}  // namespace

TEST(Node, TwoNodesPingIdentifyEchoPerf) {
  auto a = make_node();
  auto b = make_node();
  auto conn = await(*b, b->dial(full_addr(*a)));
  ASSERT_TRUE(conn.ok()) << conn.error().message();

  for (int i = 0; i < 5; ++i) {
    auto rtt = await(*b, b->ping(*conn));
    ASSERT_TRUE(rtt.ok()) << rtt.error().message();
    EXPECT_GT(rtt->count(), 0);
  }
  auto info = await(*b, b->identify(*conn));
  ASSERT_TRUE(info.ok()) << info.error().message();
  EXPECT_EQ(info->agent_version.rfind("weft/", 0), 0u);
  EXPECT_NE(std::find(info->protocols.begin(), info->protocols.end(), "/ipfs/ping/1.0.0"), info->protocols.end());
  EXPECT_NE(std::find(info->protocols.begin(), info->protocols.end(), "/echo/1.0.0"), info->protocols.end());
  ASSERT_TRUE(info->observed_addr.has_value());

  Bytes data(300 * 1024);
  crypto::random_bytes(data);
  auto s = await(*b, b->open_stream(*conn, {"/echo/1.0.0"}));
  ASSERT_TRUE(s.ok()) << s.error().message();
  auto reply = await(*b, b->run_on(*conn, echo::round_trip(*s->channel, data, data.size())));
  ASSERT_TRUE(reply.ok()) << reply.error().message();
  EXPECT_EQ(*reply, data);

  auto p = await(*b, b->open_stream(*conn, {"/perf/1.0.0"}));
  ASSERT_TRUE(p.ok());
  auto m = await(*b, b->run_on(*conn, perf::run_client(*p->channel, 8 << 20, 8 << 20)));
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->uploaded, 8u << 20);
  EXPECT_EQ(m->downloaded, 8u << 20);

  b->stop(2000ms);
  a->stop(2000ms);
  EXPECT_EQ(a->stats().connections, 0u);
  EXPECT_EQ(b->stats().connections, 0u);
  const std::vector<std::string> order{"connection manager", "listeners", "connections",
                                       "protocol handlers", "io threads"};
  EXPECT_EQ(a->stop_trace(), order);
}

TEST(Node, DialWithWrongPeerIdFails) {
  auto a = make_node();
  auto b = make_node();
  auto other = Identity::generate();
  auto addr = *Multiaddr::parse(a->listen_addrs().at(0).to_string() + "/p2p/" + other.peer_id().to_string());
  auto conn = await(*b, b->dial(addr));
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.code(), errc::peer_id_mismatch) << conn.error().message();
}

TEST(Node, DialRefusedPortFails) {
  auto b = make_node();
  asio::io_context io;
  asio::ip::tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  acc.close();
  auto conn = await(*b, b->dial(*Multiaddr::parse("/ip4/127.0.0.1/tcp/" + std::to_string(port))));
  EXPECT_EQ(conn.code(), errc::connection_refused) << conn.error().message();
}

TEST(Node, UnsupportedProtocolLeavesConnectionUsable) {
  auto a = make_node();
  ASSERT_TRUE(a->set_stream_handler("/test/echo/1", [](Stream s) -> Task<void> {
    (void)co_await echo::serve(*s.channel);
  }).ok());
  auto b = make_node();
  auto conn = await(*b, b->dial(full_addr(*a)));
  ASSERT_TRUE(conn.ok());
  auto none = await(*b, b->open_stream(*conn, {"/nope/1", "/nope/2"}));
  EXPECT_EQ(none.code(), errc::protocol_not_supported);
  auto s = await(*b, b->open_stream(*conn, {"/nope/1", "/test/echo/1"}));
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->protocol, "/test/echo/1");
  auto rtt = await(*b, b->ping(*conn));
  EXPECT_TRUE(rtt.ok());
}

// Seed 2: a connection accepted just before stop, still handshaking, must not
// make stop wait; it is aborted and its socket closed.
TEST(Node, StopAbortsConnectionsStillHandshaking) {
  auto a = make_node();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 8; ++i) clients.push_back(std::make_unique<RawClient>(*a));
  // Half of them send part of the multistream header and then stall.
  for (int i = 0; i < 4; ++i) asio::write(clients[i]->sock, asio::buffer("\x13/multistr", 10));
  for (int i = 0; i < 200 && a->stats().handshaking < 8; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(a->stats().handshaking, 8u);
  const auto t0 = std::chrono::steady_clock::now();
  a->stop(5000ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 1000ms) << "stop waited for handshaking connections";
  for (auto& c : clients) EXPECT_TRUE(c->closed_by_server(2000ms));
  EXPECT_EQ(a->stats().connections, 0u);
}

TEST(Node, HandshakeTimeoutClosesStalledConnection) {
  NodeConfig cfg;
  cfg.limits.handshake_timeout = 200ms;
  auto a = make_node(cfg);
  RawClient c(*a);
  EXPECT_TRUE(c.closed_by_server(3000ms));
  for (int i = 0; i < 200 && a->stats().connections > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(a->stats().connections, 0u);
  EXPECT_EQ(a->stats().connections_failed, 1u);
}

TEST(Node, InboundLimitRefusesExtraConnections) {
  NodeConfig cfg;
  cfg.limits.max_inbound_connections = 2;
  auto a = make_node(cfg);
  RawClient c1(*a), c2(*a);
  for (int i = 0; i < 200 && a->stats().inbound < 2; ++i) std::this_thread::sleep_for(5ms);
  RawClient c3(*a);
  EXPECT_TRUE(c3.closed_by_server(2000ms));
  EXPECT_FALSE(c1.closed_by_server(100ms));
  EXPECT_EQ(a->stats().inbound, 2u);
}

TEST(Node, OperationsAfterStopReportStopped) {
  auto a = make_node();
  auto b = make_node();
  auto conn = await(*b, b->dial(full_addr(*a)));
  ASSERT_TRUE(conn.ok());
  a->stop(1000ms);
  // b sees the connection go away; a new dial to the stopped node fails.
  auto again = await(*b, b->dial(full_addr(*a)));
  EXPECT_FALSE(again.ok());
  b->stop(1000ms);
}

TEST(Node, CreateRejectsBadConfig) {
  NodeConfig cfg;
  cfg.listen_addrs = {"/ip4/1.2.3/tcp/0"};
  EXPECT_EQ(Node::create(cfg).code(), errc::parse_error);
  cfg.listen_addrs = {"/dns4/example.com/tcp/1"};
  EXPECT_EQ(Node::create(cfg).code(), errc::invalid_argument);
  cfg.listen_addrs = {};
  cfg.io_threads = 65;
  EXPECT_EQ(Node::create(cfg).code(), errc::invalid_argument);
  cfg.io_threads = 1;
  cfg.io_spin = std::chrono::microseconds(10001);
  EXPECT_EQ(Node::create(cfg).code(), errc::invalid_argument);
}

// Each side opens an identify stream to the other on every new connection.
// Once the answer is read, the asking side closes its end too: no stream of
// either session outlives the exchange (a remote such as go-libp2p counts
// open streams against its limits).
TEST(Node, IdentifyStreamsCloseOnBothSides) {
  auto a = make_node();
  auto b = make_node();
  auto conn = await(*b, b->dial(full_addr(*a)));
  ASSERT_TRUE(conn.ok()) << conn.error().message();
  ASSERT_TRUE(await(*b, b->identify(*conn)).ok());
  std::shared_ptr<Connection> inbound;
  for (int i = 0; i < 400 && !inbound; ++i) {
    auto all = a->connections();
    if (!all.empty()) inbound = all.front();
    else std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(inbound);
  ASSERT_TRUE(await(*a, a->identify(inbound)).ok());
  auto streams_of = [](Node& n, std::shared_ptr<Connection> c) {
    auto count = [](std::shared_ptr<Connection> c) -> Task<Result<std::size_t>> {
      co_return c->session() ? c->session()->num_streams() : 0;
    };
    auto r = await(n, n.run_on(c, count(c)));
    return r.ok() ? *r : std::size_t{999};
  };
  std::size_t left_b = 1, left_a = 1;
  for (int i = 0; i < 400 && (left_a != 0 || left_b != 0); ++i) {
    left_b = streams_of(*b, *conn);
    left_a = streams_of(*a, inbound);
    if (left_a != 0 || left_b != 0) std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(left_b, 0u) << "streams left open on the dialer's session";
  EXPECT_EQ(left_a, 0u) << "streams left open on the listener's session";
}

TEST(Node, IdentifyPushAnnouncesNewProtocols) {
  auto a = make_node();
  auto b = make_node();
  auto conn = await(*b, b->dial(full_addr(*a)));
  ASSERT_TRUE(conn.ok());
  auto before = await(*b, b->identify(*conn));
  ASSERT_TRUE(before.ok());
  auto has = [](const identify::Info& i, const std::string& p) {
    return std::find(i.protocols.begin(), i.protocols.end(), p) != i.protocols.end();
  };
  EXPECT_FALSE(has(*before, "/late/1.0.0"));
  ASSERT_TRUE(a->set_stream_handler("/late/1.0.0", [](Stream s) -> Task<void> { co_return; }).ok());
  bool seen = false;
  for (int i = 0; i < 500 && !seen; ++i) {
    auto now = await(*b, b->identify(*conn));
    seen = now.ok() && has(*now, "/late/1.0.0");
    if (!seen) std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(seen) << "identify push did not reach the peer";
}

TEST(Node, DialsByDnsName) {
  auto a = make_node();
  auto b = make_node();
  const auto port = to_tcp_target(a->listen_addrs().at(0))->port;
  auto addr = *Multiaddr::parse("/dns4/localhost/tcp/" + std::to_string(port) + "/p2p/" + a->peer_id().to_string());
  auto conn = await(*b, b->dial(addr));
  ASSERT_TRUE(conn.ok()) << conn.error().message();
  EXPECT_EQ((*conn)->remote_peer(), a->peer_id());
  auto bad = await(*b, b->dial(*Multiaddr::parse("/dns4/no-such-host.invalid/tcp/1")));
  EXPECT_EQ(bad.code(), errc::unreachable) << bad.error().message();
}

TEST(Node, ListensOnSeveralAddressesIncludingIpv6) {
  NodeConfig cfg;
  cfg.listen_addrs = {"/ip4/127.0.0.1/tcp/0", "/ip6/::1/tcp/0"};
  auto a = make_node(cfg);
  const auto addrs = a->listen_addrs();
  ASSERT_EQ(addrs.size(), 2u);
  EXPECT_EQ(addrs[1].to_string().rfind("/ip6/::1/tcp/", 0), 0u) << addrs[1].to_string();
  EXPECT_NE(to_tcp_target(addrs[1])->port, 0) << "port 0 must report the bound port";
  auto b = make_node();
  auto v6 = *Multiaddr::parse(addrs[1].to_string() + "/p2p/" + a->peer_id().to_string());
  auto conn = await(*b, b->dial(v6));
  ASSERT_TRUE(conn.ok()) << conn.error().message();
  EXPECT_TRUE(await(*b, b->ping(*conn)).ok());
}

TEST(Node, ConnectionsPerPeerLimit) {
  NodeConfig cfg;
  cfg.limits.max_connections_per_peer = 1;
  auto a = make_node(cfg);
  auto b = make_node();
  auto first = await(*b, b->dial(full_addr(*a)));
  ASSERT_TRUE(first.ok());
  auto second = await(*b, b->dial(full_addr(*a)));
  // The listener refuses the second upgraded connection; the dialer sees it close.
  if (second.ok()) {
    bool closed = false;
    for (int i = 0; i < 200 && !closed; ++i) {
      closed = !await(*b, b->ping(*second)).ok();
      if (!closed) std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(closed);
  }
  EXPECT_TRUE(await(*b, b->ping(*first)).ok());
  for (int i = 0; i < 200 && a->stats().connections > 1; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(a->stats().connections, 1u);
}

namespace {

// Runs `task` on the node with a cancellation signal emitted after `after`.
template <typename T>
T await_cancelled_after(Node& n, Task<T> task, std::chrono::milliseconds after) {
  auto p = std::make_shared<std::promise<T>>();
  auto f = p->get_future();
  auto signal = std::make_shared<asio::cancellation_signal>();
  auto strand = asio::make_strand(n.io());
  asio::co_spawn(strand, std::move(task),
                 asio::bind_cancellation_slot(signal->slot(), [p](std::exception_ptr e, T v) {
                   if (e) p->set_exception(e);
                   else p->set_value(std::move(v));
                 }));
  std::this_thread::sleep_for(after);
  asio::post(strand, [signal] { signal->emit(asio::cancellation_type::terminal); });
  if (f.wait_for(10s) != std::future_status::ready) {
    ADD_FAILURE() << "cancelled operation did not complete";
    std::abort();
  }
  return f.get();  // an exception here fails the test: cancellation must not throw
}

}  // namespace

// Seed 4 at the core's level: a dial cancelled while the remote never
// answers completes once with canceled, the half-made connection is aborted,
// and the node keeps working.
TEST(Node, CancelledDialCompletesWithCanceledAndLeavesNothing) {
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});  // never accepts
  const auto port = silent.local_endpoint().port();
  auto b = make_node();
  auto addr = *Multiaddr::parse("/ip4/127.0.0.1/tcp/" + std::to_string(port));
  auto r = await_cancelled_after(*b, b->dial(addr), 100ms);
  EXPECT_EQ(r.code(), errc::canceled) << (r.ok() ? "dial succeeded" : r.error().message());
  for (int i = 0; i < 200 && b->stats().connections > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(b->stats().connections, 0u);

  auto a = make_node();
  auto conn = await(*b, b->dial(full_addr(*a)));
  ASSERT_TRUE(conn.ok()) << conn.error().message();
  EXPECT_TRUE(await(*b, b->ping(*conn)).ok());
}

TEST(Node, CancelledStreamReadLosesNoData) {
  auto a = make_node();
  auto b = make_node();
  auto conn = await(*b, b->dial(full_addr(*a)));
  ASSERT_TRUE(conn.ok());
  auto s = await(*b, b->open_stream(*conn, {"/echo/1.0.0"}));
  ASSERT_TRUE(s.ok());
  // A read with nothing to read yet, cancelled.
  Bytes buf(16);
  auto r = await_cancelled_after(*b, b->run_on(*conn, s->channel->read_some(buf)), 50ms);
  EXPECT_EQ(r.code(), errc::canceled);
  // The stream still works: echo round trip after the cancelled read.
  const Bytes hello = {'h', 'e', 'l', 'l', 'o'};
  auto reply = await(*b, b->run_on(*conn, echo::round_trip(*s->channel, hello, 100)));
  ASSERT_TRUE(reply.ok()) << reply.error().message();
  EXPECT_EQ(*reply, hello);
}

namespace {

// A remote ping handler that counts the streams it serves and, depending on
// `after_one`, keeps echoing, closes after one echo, or resets the stream
// when a second ping arrives.
enum class AfterOnePing { keep_serving, close, reset };

Task<void> serve_counted_ping(Stream s, std::shared_ptr<std::atomic<int>> streams, AfterOnePing after_one) {
  ++*streams;
  if (after_one == AfterOnePing::keep_serving) {
    auto serving = ping::serve(*s.channel);
    (void)co_await std::move(serving);
    co_return;
  }
  std::array<std::uint8_t, ping::kPayloadSize> buf;
  auto reading = s.channel->read_exact(buf);
  if (!co_await std::move(reading)) co_return;
  auto writing = s.channel->write_all(buf);
  if (!co_await std::move(writing)) co_return;
  if (after_one == AfterOnePing::reset) {
    // Refuses the stream's next ping (a reset right after the echo could
    // overtake it: a reset stream's unread data is discarded).
    auto next = s.channel->read_exact(buf);
    (void)co_await std::move(next);
    s.channel->reset();
    co_return;
  }
  auto closing = s.channel->close_write();
  (void)co_await std::move(closing);
}

std::shared_ptr<std::atomic<int>> count_ping_streams(Node& n, AfterOnePing after_one) {
  auto streams = std::make_shared<std::atomic<int>>(0);
  auto st = n.set_stream_handler("/ipfs/ping/1.0.0", [streams, after_one](Stream s) {
    return serve_counted_ping(std::move(s), streams, after_one);
  });
  EXPECT_TRUE(st.ok());
  return streams;
}

}  // namespace

TEST(Node, PingsReuseOneStream) {
  auto a = make_node();
  auto b = make_node();
  auto streams = count_ping_streams(*a, AfterOnePing::keep_serving);
  auto conn = await(*b, b->dial(full_addr(*a)));
  ASSERT_TRUE(conn.ok()) << conn.error().message();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(await(*b, b->ping(*conn)).ok()) << i;
  EXPECT_EQ(streams->load(), 1);

  // Pings at once: each busy stream makes another; one is kept afterwards.
  std::vector<std::future<bool>> pings;
  for (int i = 0; i < 4; ++i)
    pings.push_back(std::async(std::launch::async, [&] { return await(*b, b->ping(*conn)).ok(); }));
  for (auto& p : pings) EXPECT_TRUE(p.get());
  const int after_concurrent = streams->load();
  EXPECT_GE(after_concurrent, 1);
  EXPECT_LE(after_concurrent, 5);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(await(*b, b->ping(*conn)).ok()) << i;
  EXPECT_EQ(streams->load(), after_concurrent);
}

// Remotes may end a ping stream after any echo (js-libp2p serves one ping
// per stream): the next ping then succeeds on a new stream.
TEST(Node, PingsSurviveARemoteThatEndsEachStream) {
  for (auto mode : {AfterOnePing::close, AfterOnePing::reset}) {
    auto a = make_node();
    auto b = make_node();
    auto streams = count_ping_streams(*a, mode);
    auto conn = await(*b, b->dial(full_addr(*a)));
    ASSERT_TRUE(conn.ok()) << conn.error().message();
    for (int i = 0; i < 10; ++i) {
      auto rtt = await(*b, b->ping(*conn));
      ASSERT_TRUE(rtt.ok()) << i << ": " << rtt.error().message();
    }
    EXPECT_EQ(streams->load(), 10);
  }
}

namespace {

std::chrono::microseconds process_cpu_time() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return std::chrono::seconds(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         std::chrono::microseconds(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

// The spin adapts: a peer whose bytes come spaced further apart than the
// spin is worth never makes the node spin. Here 25 bytes of a handshake
// arrive 30 ms apart with a 2 ms spin: a thread that spun after each would
// burn 50 ms of CPU; the node spends a fraction of that.
TEST(Node, IoSpinSkipsSlowPacedTraffic) {
  NodeConfig cfg;
  cfg.io_spin = 2ms;
  auto a = make_node(cfg);
  RawClient client(*a);
  const std::string hello = "\x13/multistream/1.0.0\n/noise\n";
  std::this_thread::sleep_for(50ms);
  const auto cpu0 = process_cpu_time();
  for (std::size_t i = 0; i < 25; ++i) {
    asio::write(client.sock, asio::buffer(hello.data() + i, 1));
    std::this_thread::sleep_for(30ms);
  }
  const auto used = process_cpu_time() - cpu0;
  EXPECT_LT(used, 25ms) << used.count() << " us of CPU for 25 bytes 30 ms apart";
}

// I/O threads spin only briefly after work: with no spin and with the
// longest one, pings work, and an idle node's threads go to sleep (the
// process uses little CPU while nothing happens).
TEST(Node, IoSpinIsBoundedAndOptional) {
  for (auto spin : {std::chrono::microseconds(0), std::chrono::microseconds(50),
                    std::chrono::microseconds(10000)}) {
    NodeConfig cfg;
    cfg.io_threads = 2;
    cfg.io_spin = spin;
    auto a = make_node(cfg);
    auto b = make_node(cfg);
    auto conn = await(*b, b->dial(full_addr(*a)));
    ASSERT_TRUE(conn.ok()) << conn.error().message();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(await(*b, b->ping(*conn)).ok()) << i;
    std::this_thread::sleep_for(50ms);  // longer than any spin
    const auto cpu0 = process_cpu_time();
    std::this_thread::sleep_for(500ms);
    const auto used = process_cpu_time() - cpu0;
    EXPECT_LT(used, 150ms) << "spin " << spin.count() << " us: " << used.count() << " us of CPU in 500 ms idle";
  }
}
