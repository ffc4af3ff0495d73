// Two nodes in one process through the C ABI: dial, ping, identify, streams
// on the built-in echo and on registered protocols, and enforced limits.
#include <cstring>
#include <deque>

#include "capi/capi_test_util.hpp"
#include "capi/silent_listener.hpp"

using namespace capi_test;

namespace {

// Two started nodes, b connected to a.
struct Pair {
  weft_node a{0}, b{0};
  weft_conn conn{0};  // on b
  Poller pa{weft_node{0}}, pb{weft_node{0}};

  explicit Pair(weft_config ca = {0}, weft_config cb = {0}) {
    a = make_node(ca);
    b = make_node(cb);
    pa = Poller(a);
    pb = Poller(b);
    conn = dial(b, pb, a);
  }
  ~Pair() {
    EXPECT_EQ(weft_node_close(b), WEFT_OK);
    EXPECT_EQ(weft_node_close(a), WEFT_OK);
  }

  weft_stream open(const std::vector<const char*>& protocols, uint64_t token,
                   int expect = WEFT_OK) {
    EXPECT_EQ(weft_open_stream(conn, protocols.data(), protocols.size(), token), WEFT_OK)
        << weft_last_error();
    Event e = pb.expect(token);
    EXPECT_EQ(e.type, WEFT_EVENT_OPEN_STREAM);
    EXPECT_EQ(e.status, expect) << e.error;
    return e.stream;
  }
};

Event read_once(weft_node node, Poller& p, weft_stream s, size_t max, uint64_t token) {
  EXPECT_EQ(weft_stream_read(s, max, token), WEFT_OK) << weft_last_error();
  return p.expect(token);
}

void write_all(Poller& p, weft_stream s, const std::string& text, uint64_t token) {
  ASSERT_EQ(weft_stream_write(s, reinterpret_cast<const uint8_t*>(text.data()), text.size(), token),
            WEFT_OK)
      << weft_last_error();
  Event e = p.expect(token);
  EXPECT_EQ(e.type, WEFT_EVENT_WRITE);
  EXPECT_EQ(e.status, WEFT_OK) << e.error;
  EXPECT_EQ(e.count, text.size());
}

// Reads until `n` bytes arrived (or an error / EOF).
std::string read_n(weft_node node, Poller& p, weft_stream s, size_t n, uint64_t token) {
  std::string got;
  while (got.size() < n) {
    Event e = read_once(node, p, s, 65536, token);
    if (e.status != WEFT_OK) {
      ADD_FAILURE() << "read failed: " << e.error;
      break;
    }
    got.append(e.data.begin(), e.data.end());
  }
  return got;
}

}  // namespace

TEST(CapiOperations, DialPingIdentify) {
  weft_config ca;
  ASSERT_EQ(weft_config_new(&ca), WEFT_OK);
  ASSERT_EQ(weft_config_add_listen_addr(ca, "/ip4/127.0.0.1/tcp/0"), WEFT_OK);
  ASSERT_EQ(weft_config_set_agent_version(ca, "capi-test-agent/7"), WEFT_OK);
  Pair p(ca);
  EXPECT_EQ(weft_config_free(ca), WEFT_OK);
  ASSERT_NE(p.conn.id, 0u);

  char buf[256];
  ASSERT_EQ(weft_conn_peer_id(p.conn, buf, sizeof buf, nullptr), WEFT_OK);
  EXPECT_EQ(std::string(buf), peer_id(p.a));
  ASSERT_EQ(weft_conn_remote_addr(p.conn, buf, sizeof buf, nullptr), WEFT_OK);
  const std::string a_addr = listen_addr(p.a);
  EXPECT_EQ(a_addr.rfind(buf, 0), 0u) << buf << " vs " << a_addr;

  for (uint64_t t = 1; t <= 3; ++t) {
    ASSERT_EQ(weft_ping(p.conn, t), WEFT_OK);
    Event e = p.pb.expect(t);
    EXPECT_EQ(e.type, WEFT_EVENT_PING);
    EXPECT_EQ(e.status, WEFT_OK) << e.error;
    EXPECT_GT(e.count, 0u);
    EXPECT_EQ(e.stream.id, 0u);  // fields the type does not carry are zero
    EXPECT_EQ(e.text, "");
  }

  ASSERT_EQ(weft_identify(p.conn, 10), WEFT_OK);
  Event id = p.pb.expect(10);
  EXPECT_EQ(id.type, WEFT_EVENT_IDENTIFY);
  ASSERT_EQ(id.status, WEFT_OK) << id.error;
  EXPECT_EQ(id.text, "capi-test-agent/7");
  EXPECT_NE(id.protocols.find("/ipfs/ping/1.0.0"), std::string::npos) << id.protocols;
  EXPECT_NE(id.protocols.find("/echo/1.0.0"), std::string::npos) << id.protocols;
  EXPECT_NE(a_addr.find(id.addrs.substr(0, id.addrs.find('\n'))), std::string::npos) << id.addrs;

  EXPECT_EQ(stat(p.b, WEFT_STAT_CONNECTIONS), 1u);
  EXPECT_EQ(stat(p.b, WEFT_STAT_OUTBOUND), 1u);
  EXPECT_EQ(stat(p.b, WEFT_STAT_CONNECTIONS_OPENED), 1u);
  EXPECT_TRUE(eventually([&] { return stat(p.a, WEFT_STAT_INBOUND) == 1; }));
  EXPECT_EQ(stat(p.b, WEFT_STAT_PENDING_OPS), 0u);

  // A dial to a closed port fails with the real reason.
  ASSERT_EQ(weft_dial(p.b, "/ip4/127.0.0.1/tcp/1", 20), WEFT_OK);
  Event refused = p.pb.expect(20);
  EXPECT_EQ(refused.status, WEFT_ECONNREFUSED) << refused.error;
  EXPECT_EQ(refused.conn.id, 0u);
  EXPECT_STRNE(refused.error.c_str(), "");
  // The wrong peer id in the address.
  const std::string wrong = a_addr.substr(0, a_addr.find("/p2p/")) + "/p2p/" + peer_id(p.b);
  ASSERT_EQ(weft_dial(p.b, wrong.c_str(), 21), WEFT_OK);
  EXPECT_EQ(p.pb.expect(21).status, WEFT_EPEERID);
  EXPECT_TRUE(eventually([&] { return stat(p.b, WEFT_STAT_CONNECTIONS_FAILED) >= 2; }));

  // Closing the connection frees the handle; its streams fail.
  weft_stream s = p.open({"/echo/1.0.0"}, 30);
  ASSERT_EQ(weft_conn_close(p.conn), WEFT_OK);
  EXPECT_EQ(weft_conn_close(p.conn), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_ping(p.conn, 31), WEFT_ENOTFOUND);
  Event r = read_once(p.b, p.pb, s, 10, 32);
  EXPECT_EQ(r.status, WEFT_ECLOSED) << r.error;
  EXPECT_TRUE(eventually([&] { return stat(p.b, WEFT_STAT_CONNECTIONS) == 0; }));
  EXPECT_EQ(weft_stream_free(s), WEFT_OK);
}

TEST(CapiOperations, EchoOneMebibyte) {
  Pair p;
  weft_stream s = p.open({"/echo/1.0.0"}, 1);
  ASSERT_NE(s.id, 0u);
  char proto[64];
  ASSERT_EQ(weft_stream_protocol(s, proto, sizeof proto, nullptr), WEFT_OK);
  EXPECT_STREQ(proto, "/echo/1.0.0");
  EXPECT_EQ(stat(p.b, WEFT_STAT_STREAMS), 1u);

  std::vector<uint8_t> data(1 << 20);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + i / 251);
  // Sixteen writes pending at once, then the half-close: they go out in order.
  const size_t chunk = 64 * 1024;
  uint64_t token = 100;
  for (size_t off = 0; off < data.size(); off += chunk)
    ASSERT_EQ(weft_stream_write(s, data.data() + off, chunk, token++), WEFT_OK);
  ASSERT_EQ(weft_stream_close_write(s, 200), WEFT_OK);

  std::vector<uint8_t> got;
  uint64_t read_token = 1000;
  for (;;) {
    ASSERT_EQ(weft_stream_read(s, 256 * 1024, read_token), WEFT_OK) << weft_last_error();
    Event e = p.pb.expect(read_token++);
    ASSERT_EQ(e.type, WEFT_EVENT_READ);
    if (e.status == WEFT_EOF) {
      EXPECT_TRUE(e.data.empty());
      break;
    }
    ASSERT_EQ(e.status, WEFT_OK) << e.error;
    ASSERT_FALSE(e.data.empty());
    got.insert(got.end(), e.data.begin(), e.data.end());
  }
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  for (uint64_t t = 100; t < token; ++t) {
    Event w = p.pb.expect(t);
    EXPECT_EQ(w.status, WEFT_OK) << w.error;
    EXPECT_EQ(w.count, chunk);
  }
  Event cw = p.pb.expect(200);
  EXPECT_EQ(cw.type, WEFT_EVENT_CLOSE_WRITE);
  EXPECT_EQ(cw.status, WEFT_OK);
  EXPECT_EQ(stat(p.b, WEFT_STAT_BYTES_SENT), data.size());
  EXPECT_EQ(stat(p.b, WEFT_STAT_BYTES_RECEIVED), data.size());
  // After EOF, further reads report EOF again; writes after close_write fail.
  EXPECT_EQ(read_once(p.b, p.pb, s, 10, 300).status, WEFT_EOF);
  ASSERT_EQ(weft_stream_write(s, data.data(), 1, 301), WEFT_OK);
  EXPECT_NE(p.pb.expect(301).status, WEFT_OK);
  EXPECT_EQ(weft_stream_free(s), WEFT_OK);
  EXPECT_EQ(weft_stream_free(s), WEFT_ENOTFOUND);
  EXPECT_EQ(stat(p.b, WEFT_STAT_STREAMS), 0u);
}

TEST(CapiOperations, RegisteredProtocolOpenAcceptAndReset) {
  Pair p;
  ASSERT_EQ(weft_node_handle(p.a, "/capi-test/1.0.0"), WEFT_OK) << weft_last_error();
  EXPECT_EQ(weft_node_handle(p.a, "/capi-test/1.0.0"), WEFT_OK);  // idempotent
  EXPECT_EQ(weft_node_handle(p.a, "/ipfs/ping/1.0.0"), WEFT_EBUSY);  // weft's own

  // An accept waiting before the stream arrives.
  ASSERT_EQ(weft_accept_stream(p.a, "/capi-test/1.0.0", 1), WEFT_OK);
  weft_stream sb = p.open({"/not-spoken/1", "/capi-test/1.0.0"}, 2);
  ASSERT_NE(sb.id, 0u);
  char proto[64];
  ASSERT_EQ(weft_stream_protocol(sb, proto, sizeof proto, nullptr), WEFT_OK);
  EXPECT_STREQ(proto, "/capi-test/1.0.0");
  Event acc = p.pa.expect(1);
  EXPECT_EQ(acc.type, WEFT_EVENT_ACCEPT_STREAM);
  ASSERT_EQ(acc.status, WEFT_OK) << acc.error;
  EXPECT_EQ(acc.protocol, "/capi-test/1.0.0");
  EXPECT_EQ(acc.peer_id, peer_id(p.b));
  ASSERT_NE(acc.conn.id, 0u);
  weft_stream sa = acc.stream;

  write_all(p.pb, sb, "hello", 3);
  EXPECT_EQ(read_n(p.a, p.pa, sa, 5, 4), "hello");
  write_all(p.pa, sa, "world!", 5);
  EXPECT_EQ(read_n(p.b, p.pb, sb, 6, 6), "world!");
  ASSERT_EQ(weft_stream_close_write(sa, 7), WEFT_OK);
  EXPECT_EQ(p.pa.expect(7).status, WEFT_OK);
  EXPECT_EQ(read_once(p.b, p.pb, sb, 10, 8).status, WEFT_EOF);

  // A stream that arrives before the accept waits in the backlog.
  weft_stream sb2 = p.open({"/capi-test/1.0.0"}, 9);
  std::this_thread::sleep_for(50ms);
  ASSERT_EQ(weft_accept_stream(p.a, "/capi-test/1.0.0", 10), WEFT_OK);
  Event acc2 = p.pa.expect(10);
  ASSERT_EQ(acc2.status, WEFT_OK) << acc2.error;
  EXPECT_EQ(acc2.conn.id, acc.conn.id);  // one handle per connection
  char pid[128];
  ASSERT_EQ(weft_conn_peer_id(acc2.conn, pid, sizeof pid, nullptr), WEFT_OK);
  EXPECT_EQ(std::string(pid), peer_id(p.b));

  // Reset: the remote's pending read fails with ERESET; the local handle
  // stays valid until freed.
  ASSERT_EQ(weft_stream_read(acc2.stream, 100, 11), WEFT_OK);
  ASSERT_EQ(weft_stream_reset(sb2), WEFT_OK);
  EXPECT_EQ(p.pa.expect(11).status, WEFT_ERESET);
  ASSERT_EQ(weft_stream_read(sb2, 100, 12), WEFT_OK);
  EXPECT_EQ(p.pb.expect(12).status, WEFT_ERESET);
  ASSERT_EQ(weft_stream_write(sb2, reinterpret_cast<const uint8_t*>("x"), 1, 13), WEFT_OK);
  EXPECT_EQ(p.pb.expect(13).status, WEFT_ERESET);
  EXPECT_EQ(weft_stream_reset(sb2), WEFT_OK);  // idempotent

  // Proposing only protocols the remote lacks.
  p.open({"/nobody/speaks/this"}, 14, WEFT_ENOPROTO);

  // Unregistering completes a waiting accept with ECLOSED; later streams of
  // the protocol are refused.
  ASSERT_EQ(weft_accept_stream(p.a, "/capi-test/1.0.0", 15), WEFT_OK);
  ASSERT_EQ(weft_node_unhandle(p.a, "/capi-test/1.0.0"), WEFT_OK);
  Event closed = p.pa.expect(15);
  EXPECT_EQ(closed.status, WEFT_ECLOSED);
  EXPECT_EQ(closed.stream.id, 0u);
  EXPECT_EQ(weft_accept_stream(p.a, "/capi-test/1.0.0", 16), WEFT_ENOTFOUND);
  EXPECT_EQ(weft_node_unhandle(p.a, "/capi-test/1.0.0"), WEFT_ENOTFOUND);

  for (weft_stream s : {sa, sb, sb2, acc2.stream}) EXPECT_EQ(weft_stream_free(s), WEFT_OK);
  EXPECT_EQ(weft_conn_close(acc.conn), WEFT_OK);
  EXPECT_EQ(weft_conn_close(acc2.conn), WEFT_ENOTFOUND);  // the same handle
}

TEST(CapiOperations, InboundBacklogLimit) {
  weft_config ca;
  ASSERT_EQ(weft_config_new(&ca), WEFT_OK);
  ASSERT_EQ(weft_config_add_listen_addr(ca, "/ip4/127.0.0.1/tcp/0"), WEFT_OK);
  ASSERT_EQ(weft_config_set_limit(ca, WEFT_LIMIT_INBOUND_STREAM_BACKLOG, 2), WEFT_OK);
  Pair p(ca);
  EXPECT_EQ(weft_config_free(ca), WEFT_OK);
  ASSERT_EQ(weft_node_handle(p.a, "/backlog/1"), WEFT_OK);

  // Two wait in the backlog; a resets the others, which b sees either as a
  // failed open or as a reset on its first read.
  std::vector<weft_stream> opened;
  int reset = 0;
  for (uint64_t t = 1; t <= 4; ++t) {
    const char* proto[] = {"/backlog/1"};
    ASSERT_EQ(weft_open_stream(p.conn, proto, 1, t), WEFT_OK);
    Event e = p.pb.expect(t);
    if (e.status == WEFT_ERESET) {
      ++reset;
      continue;
    }
    ASSERT_EQ(e.status, WEFT_OK) << e.error;
    opened.push_back(e.stream);
  }
  for (size_t i = 0; i < opened.size(); ++i)
    ASSERT_EQ(weft_stream_read(opened[i], 10, 100 + i), WEFT_OK);
  for (size_t i = 0; i < opened.size(); ++i) {
    auto e = p.pb.wait(100 + i, i < 2 ? 300ms : 10s);
    if (i < 2) EXPECT_FALSE(e.has_value());  // waiting in a's backlog: no data, no reset
    if (e && e.value().status == WEFT_ERESET) ++reset;
  }
  EXPECT_EQ(reset, 2);
  for (uint64_t t = 10; t < 12; ++t) {
    ASSERT_EQ(weft_accept_stream(p.a, "/backlog/1", t), WEFT_OK);
    Event e = p.pa.expect(t);
    EXPECT_EQ(e.status, WEFT_OK) << e.error;
    EXPECT_EQ(weft_stream_free(e.stream), WEFT_OK);
  }
  // The backlog is empty now: a third accept waits, and can be cancelled.
  ASSERT_EQ(weft_accept_stream(p.a, "/backlog/1", 12), WEFT_OK);
  EXPECT_FALSE(p.pa.wait(12, 200ms).has_value());
  ASSERT_EQ(weft_cancel(p.a, 12), WEFT_OK);
  EXPECT_EQ(p.pa.expect(12).status, WEFT_ECANCELED);
  for (auto s : opened) EXPECT_EQ(weft_stream_free(s), WEFT_OK);
}

TEST(CapiOperations, MaxReadSizeAndEventQueueLimit) {
  weft_config cb;
  ASSERT_EQ(weft_config_new(&cb), WEFT_OK);
  ASSERT_EQ(weft_config_add_listen_addr(cb, "/ip4/127.0.0.1/tcp/0"), WEFT_OK);
  ASSERT_EQ(weft_config_set_limit(cb, WEFT_LIMIT_MAX_READ_SIZE, 100), WEFT_OK);
  ASSERT_EQ(weft_config_set_limit(cb, WEFT_LIMIT_MAX_PENDING_EVENTS, 3), WEFT_OK);
  Pair p({0}, cb);
  EXPECT_EQ(weft_config_free(cb), WEFT_OK);
  weft_stream s = p.open({"/echo/1.0.0"}, 1);

  EXPECT_EQ(weft_stream_read(s, 101, 2), WEFT_ELIMIT);
  EXPECT_NE(std::string(weft_last_error()).find("100"), std::string::npos);
  EXPECT_EQ(weft_stream_read(s, 0, 2), WEFT_EINVAL);
  EXPECT_EQ(weft_stream_write(s, nullptr, 5, 2), WEFT_EINVAL);
  const std::string text(250, 'z');
  write_all(p.pb, s, text, 3);
  std::string got;
  for (uint64_t t = 10; got.size() < text.size(); ++t) {
    Event e = read_once(p.b, p.pb, s, 100, t);
    ASSERT_EQ(e.status, WEFT_OK) << e.error;
    EXPECT_LE(e.data.size(), 100u);
    got.append(e.data.begin(), e.data.end());
  }
  EXPECT_EQ(got, text);

  // Three completed events queued fill the queue: submissions fail with
  // ELIMIT (nothing is submitted) until it is drained.
  const auto* one = reinterpret_cast<const uint8_t*>("a");
  for (uint64_t t = 50; t < 53; ++t) ASSERT_EQ(weft_stream_write(s, one, 1, t), WEFT_OK);
  ASSERT_TRUE(eventually([&] { return stat(p.b, WEFT_STAT_QUEUED_EVENTS) == 3; }));
  EXPECT_EQ(weft_stream_write(s, reinterpret_cast<const uint8_t*>("a"), 1, 60), WEFT_ELIMIT);
  EXPECT_EQ(weft_ping(p.conn, 61), WEFT_ELIMIT);
  EXPECT_EQ(weft_dial(p.b, listen_addr(p.a).c_str(), 62), WEFT_ELIMIT);
  weft_event* ev[1];
  size_t n = 0;
  ASSERT_EQ(weft_node_poll(p.b, ev, 1, 0, &n), WEFT_OK);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(weft_event_token(ev[0]), 50u);  // completion order
  weft_event_free(ev[0]);
  EXPECT_EQ(weft_ping(p.conn, 63), WEFT_OK);
  EXPECT_EQ(p.pb.expect(63).status, WEFT_OK);
  EXPECT_EQ(p.pb.seen(60), 0);
  EXPECT_EQ(p.pb.seen(61), 0);
  EXPECT_EQ(weft_stream_free(s), WEFT_OK);
}

TEST(CapiOperations, ManyConcurrentStreamsOnTwoIoThreads) {
  weft_config ca, cb;
  for (weft_config* c : {&ca, &cb}) {
    ASSERT_EQ(weft_config_new(c), WEFT_OK);
    ASSERT_EQ(weft_config_add_listen_addr(*c, "/ip4/127.0.0.1/tcp/0"), WEFT_OK);
    ASSERT_EQ(weft_config_set_io_threads(*c, 2), WEFT_OK);
  }
  Pair p(ca, cb);
  weft_config_free(ca);
  weft_config_free(cb);
  std::vector<weft_stream> streams;
  for (uint64_t i = 0; i < 16; ++i) streams.push_back(p.open({"/echo/1.0.0"}, 1 + i));
  for (size_t i = 0; i < streams.size(); ++i) {
    const std::string msg = "stream " + std::to_string(i);
    const auto* data = reinterpret_cast<const uint8_t*>(msg.data());
    ASSERT_EQ(weft_stream_write(streams[i], data, msg.size(), 100 + i), WEFT_OK);
    ASSERT_EQ(weft_stream_close_write(streams[i], 200 + i), WEFT_OK);
  }
  for (size_t i = 0; i < streams.size(); ++i) {
    EXPECT_EQ(p.pb.expect(100 + i).status, WEFT_OK);
    EXPECT_EQ(p.pb.expect(200 + i).status, WEFT_OK);
    EXPECT_EQ(read_n(p.b, p.pb, streams[i], 8 + (i >= 10), 300 + i), "stream " + std::to_string(i));
    EXPECT_EQ(read_once(p.b, p.pb, streams[i], 10, 400 + i).status, WEFT_EOF);
    EXPECT_EQ(weft_stream_free(streams[i]), WEFT_OK);
  }
}

TEST(CapiOperations, ConfigReachesTheNode) {
  weft_config ca, cb;
  ASSERT_EQ(weft_config_new(&ca), WEFT_OK);
  ASSERT_EQ(weft_config_add_listen_addr(ca, "/ip4/127.0.0.1/tcp/0"), WEFT_OK);
  ASSERT_EQ(weft_config_enable_builtin(ca, WEFT_BUILTIN_ECHO, 0), WEFT_OK);
  ASSERT_EQ(weft_config_new(&cb), WEFT_OK);
  ASSERT_EQ(weft_config_add_listen_addr(cb, "/ip4/127.0.0.1/tcp/0"), WEFT_OK);
  ASSERT_EQ(weft_config_set_limit(cb, WEFT_LIMIT_HANDSHAKE_TIMEOUT_MS, 200), WEFT_OK);
  Pair p(ca, cb);
  // The config was copied: changing or freeing it now has no effect.
  ASSERT_EQ(weft_config_enable_builtin(ca, WEFT_BUILTIN_ECHO, 1), WEFT_OK);
  EXPECT_EQ(weft_config_free(ca), WEFT_OK);
  EXPECT_EQ(weft_config_free(cb), WEFT_OK);
  p.open({"/echo/1.0.0"}, 1, WEFT_ENOPROTO);
  p.open({"/perf/1.0.0"}, 2, WEFT_OK);

  SilentListener silent;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(weft_dial(p.b, silent.multiaddr().c_str(), 3), WEFT_OK);
  Event e = p.pb.expect(3);
  EXPECT_EQ(e.status, WEFT_ETIMEDOUT) << e.error;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);

  // Dialing by DNS name, with the peer id checked.
  const std::string a_addr = listen_addr(p.a);
  const std::string port = a_addr.substr(a_addr.find("/tcp/") + 5);
  const std::string by_name = "/dns4/localhost/tcp/" + port;
  ASSERT_EQ(weft_dial(p.b, by_name.c_str(), 4), WEFT_OK);
  Event d = p.pb.expect(4);
  EXPECT_EQ(d.status, WEFT_OK) << d.error;
  EXPECT_EQ(d.peer_id, peer_id(p.a));
  EXPECT_NE(d.conn.id, p.conn.id);  // a second connection, its own handle
  EXPECT_EQ(weft_conn_close(d.conn), WEFT_OK);
}

// A lazily opened stream: the open completes before the remote answered, the
// bytes written at once follow the proposal, and reads (several pending at
// once, before the answer) return the echo after the answer was consumed.
TEST(CapiOperations, LazyOpenEchoes) {
  Pair p;
  ASSERT_EQ(weft_open_stream_lazy(p.conn, "/echo/1.0.0", 1), WEFT_OK) << weft_last_error();
  Event opened = p.pb.expect(1);
  ASSERT_EQ(opened.type, WEFT_EVENT_OPEN_STREAM);
  ASSERT_EQ(opened.status, WEFT_OK) << opened.error;
  EXPECT_EQ(opened.protocol, "/echo/1.0.0");
  weft_stream s = opened.stream;
  ASSERT_EQ(weft_stream_read(s, 3, 10), WEFT_OK);
  ASSERT_EQ(weft_stream_read(s, 64, 11), WEFT_OK);
  const std::string hello = "hello, lazy world";
  ASSERT_EQ(weft_stream_write(s, reinterpret_cast<const uint8_t*>(hello.data()), hello.size(), 2),
            WEFT_OK);
  ASSERT_EQ(weft_stream_close_write(s, 3), WEFT_OK);
  EXPECT_EQ(p.pb.expect(2).status, WEFT_OK);
  EXPECT_EQ(p.pb.expect(3).status, WEFT_OK);
  std::string got;
  for (uint64_t t : {10, 11}) {
    Event r = p.pb.expect(t);
    ASSERT_EQ(r.status, WEFT_OK) << r.error;
    got.append(r.data.begin(), r.data.end());
  }
  for (uint64_t t = 12;; ++t) {
    Event r = read_once(p.b, p.pb, s, 64, t);
    if (r.status == WEFT_EOF) break;
    ASSERT_EQ(r.status, WEFT_OK) << r.error;
    got.append(r.data.begin(), r.data.end());
  }
  EXPECT_EQ(got, hello);
  EXPECT_EQ(weft_stream_free(s), WEFT_OK);
}

// The remote refuses a lazily proposed protocol: the open succeeded, the
// first read reports the refusal (or the reset that followed it), and the
// connection stays usable.
TEST(CapiOperations, LazyOpenRefusedFailsTheFirstRead) {
  Pair p;
  ASSERT_EQ(weft_open_stream_lazy(p.conn, "/not-spoken/1", 1), WEFT_OK);
  Event opened = p.pb.expect(1);
  ASSERT_EQ(opened.status, WEFT_OK) << opened.error;
  weft_stream s = opened.stream;
  const uint8_t data[] = {1, 2, 3};
  ASSERT_EQ(weft_stream_write(s, data, sizeof data, 2), WEFT_OK);
  Event r = read_once(p.b, p.pb, s, 64, 3);
  EXPECT_TRUE(r.status == WEFT_ENOPROTO || r.status == WEFT_ERESET) << r.status << " " << r.error;
  Event again = read_once(p.b, p.pb, s, 64, 4);
  EXPECT_NE(again.status, WEFT_OK);
  p.pb.expect(2);  // the write completes either way, once
  // The FIN waited for the answer, and reports the refusal.
  ASSERT_EQ(weft_stream_close_write(s, 6), WEFT_OK);
  Event closed = p.pb.expect(6);
  EXPECT_TRUE(closed.status == WEFT_ENOPROTO || closed.status == WEFT_ERESET)
      << closed.status << " " << closed.error;
  EXPECT_EQ(weft_stream_free(s), WEFT_OK);
  ASSERT_EQ(weft_ping(p.conn, 5), WEFT_OK);
  EXPECT_EQ(p.pb.expect(5).status, WEFT_OK);
}

TEST(CapiOperations, LazyOpenRejectsBadProtocols) {
  Pair p;
  EXPECT_EQ(weft_open_stream_lazy(p.conn, nullptr, 1), WEFT_EINVAL);
  EXPECT_EQ(weft_open_stream_lazy(p.conn, "", 1), WEFT_EINVAL);
  EXPECT_EQ(weft_open_stream_lazy(p.conn, "/two\nlines", 1), WEFT_EINVAL);
  EXPECT_NE(std::string(weft_last_error()).find("protocol"), std::string::npos);
  EXPECT_EQ(weft_open_stream_lazy(weft_conn{0}, "/echo/1.0.0", 1), WEFT_ENOTFOUND);
}

// Many reads pending at once, re-submitted as each completes, while the echo
// streams back: concatenated in submission order, they give back exactly the
// bytes sent. A read that started while an earlier one was woken but not yet
// resumed must not take the earlier one's bytes. Both open modes, several
// rounds each (the race is a matter of timing).
TEST(CapiOperations, PendingReadsTakeBytesInSubmissionOrder) {
  Pair p;
  std::string payload(24000, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>((i * 7) % 251);
  for (int round = 0; round < 8; ++round) {
    const bool lazy = round % 2 == 1;
    SCOPED_TRACE(lazy ? "lazy open" : "open");
    weft_stream s{0};
    if (lazy) {
      ASSERT_EQ(weft_open_stream_lazy(p.conn, "/echo/1.0.0", 1), WEFT_OK);
      Event opened = p.pb.expect(1);
      ASSERT_EQ(opened.status, WEFT_OK) << opened.error;
      s = opened.stream;
    } else {
      s = p.open({"/echo/1.0.0"}, 1);
    }
    constexpr uint64_t kFirstRead = 1000;
    constexpr size_t kPending = 16;
    uint64_t next = kFirstRead;
    std::deque<uint64_t> pending;
    auto submit_read = [&] {
      const size_t max = 1 + (next % 13);
      ASSERT_EQ(weft_stream_read(s, max, next), WEFT_OK) << weft_last_error();
      pending.push_back(next++);
    };
    for (size_t i = 0; i < kPending; ++i) submit_read();
    constexpr size_t kChunks = 60;
    const size_t chunk = payload.size() / kChunks;
    for (size_t i = 0; i < kChunks; ++i) {
      ASSERT_EQ(weft_stream_write(s, reinterpret_cast<const uint8_t*>(payload.data() + i * chunk),
                                  chunk, 10 + i),
                WEFT_OK);
    }
    ASSERT_EQ(weft_stream_close_write(s, 9), WEFT_OK);
    std::string got;
    bool ended = false;
    while (!pending.empty()) {
      Event r = p.pb.expect(pending.front());
      pending.pop_front();
      if (r.status == WEFT_EOF) {
        ended = true;  // every later read ends the same way
        continue;
      }
      ASSERT_FALSE(ended) << "a read after the end of stream returned data";
      ASSERT_EQ(r.status, WEFT_OK) << r.error;
      got.append(r.data.begin(), r.data.end());
      if (got.size() < payload.size()) submit_read();
    }
    ASSERT_EQ(got.size(), payload.size());
    EXPECT_TRUE(got == payload) << "bytes out of order";
    for (size_t i = 0; i < kChunks; ++i) EXPECT_EQ(p.pb.expect(10 + i).status, WEFT_OK);
    EXPECT_EQ(p.pb.expect(9).status, WEFT_OK);
    EXPECT_EQ(weft_stream_free(s), WEFT_OK);
  }
}
