// weft_cancel: before an operation starts, while it waits, after it
// completed; each operation completes exactly once and loses nothing.
#include "capi/capi_test_util.hpp"
#include "capi/silent_listener.hpp"

using namespace capi_test;

namespace {

struct Connected {
  weft_node a{0}, b{0};
  weft_conn conn{0};
  Poller pb{weft_node{0}};
  weft_stream echo{0};

  Connected() {
    a = make_node();
    b = make_node();
    pb = Poller(b);
    conn = dial(b, pb, a);
    const char* protos[] = {"/echo/1.0.0"};
    EXPECT_EQ(weft_open_stream(conn, protos, 1, 1), WEFT_OK);
    Event e = pb.expect(1);
    EXPECT_EQ(e.status, WEFT_OK) << e.error;
    echo = e.stream;
  }
  ~Connected() {
    EXPECT_EQ(weft_node_close(b), WEFT_OK);
    EXPECT_EQ(weft_node_close(a), WEFT_OK);
  }
};

const uint8_t* bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

TEST(CapiCancel, ReadWaitingForDataLosesNothing) {
  Connected c;
  ASSERT_EQ(weft_stream_read(c.echo, 100, 10), WEFT_OK);
  EXPECT_FALSE(c.pb.wait(10, 100ms).has_value());  // nothing to read: it waits
  ASSERT_EQ(weft_cancel(c.b, 10), WEFT_OK);
  Event e = c.pb.expect(10);
  EXPECT_EQ(e.type, WEFT_EVENT_READ);
  EXPECT_EQ(e.status, WEFT_ECANCELED) << e.error;
  EXPECT_TRUE(e.data.empty());
  // The stream still works and the next read gets the echoed bytes.
  ASSERT_EQ(weft_stream_write(c.echo, bytes("abc"), 3, 11), WEFT_OK);
  EXPECT_EQ(c.pb.expect(11).status, WEFT_OK);
  ASSERT_EQ(weft_stream_read(c.echo, 100, 12), WEFT_OK);
  Event r = c.pb.expect(12);
  ASSERT_EQ(r.status, WEFT_OK) << r.error;
  EXPECT_EQ(std::string(r.data.begin(), r.data.end()), "abc");
  c.pb.settle(50ms);
  EXPECT_EQ(c.pb.seen(10), 1);
  EXPECT_EQ(stat(c.b, WEFT_STAT_PENDING_OPS), 0u);
}

TEST(CapiCancel, CancelledBeforeItStarts) {
  Connected c;
  for (uint64_t t = 100; t < 150; ++t) {
    ASSERT_EQ(weft_stream_read(c.echo, 100, t), WEFT_OK);
    ASSERT_EQ(weft_cancel(c.b, t), WEFT_OK);
  }
  for (uint64_t t = 100; t < 150; ++t) EXPECT_EQ(c.pb.expect(t).status, WEFT_ECANCELED) << t;
  // A write cancelled before it starts sends nothing.
  ASSERT_EQ(weft_stream_write(c.echo, bytes("lost"), 4, 200), WEFT_OK);
  ASSERT_EQ(weft_cancel(c.b, 200), WEFT_OK);
  Event w = c.pb.expect(200);
  ASSERT_TRUE(w.status == WEFT_ECANCELED || w.status == WEFT_OK) << w.error;
  const std::string expected = (w.status == WEFT_OK ? "lost" : "") + std::string("kept");
  ASSERT_EQ(weft_stream_write(c.echo, bytes("kept"), 4, 201), WEFT_OK);
  EXPECT_EQ(c.pb.expect(201).status, WEFT_OK);
  std::string got;
  for (uint64_t t = 300; got.size() < expected.size(); ++t) {
    ASSERT_EQ(weft_stream_read(c.echo, 100, t), WEFT_OK);
    Event r = c.pb.expect(t);
    ASSERT_EQ(r.status, WEFT_OK) << r.error;
    got.append(r.data.begin(), r.data.end());
  }
  EXPECT_EQ(got, expected);
  c.pb.settle(50ms);
  for (auto [token, n] : c.pb.all_seen()) EXPECT_EQ(n, 1) << token;
}

TEST(CapiCancel, RacingReadsAndCancelsLoseNoData) {
  Connected c;
  std::string sent, got;
  uint64_t token = 5000;
  for (int i = 0; i < 300; ++i) {
    const std::string piece(1, static_cast<char>('a' + i % 26));
    sent += piece;
    ASSERT_EQ(weft_stream_write(c.echo, bytes(piece), 1, token++), WEFT_OK);
    const uint64_t rt = token++;
    ASSERT_EQ(weft_stream_read(c.echo, 1 + i % 3, rt), WEFT_OK);
    if (i % 4 == 1) std::this_thread::sleep_for(std::chrono::microseconds(200));
    ASSERT_EQ(weft_cancel(c.b, rt), WEFT_OK);
    Event r = c.pb.expect(rt);
    if (r.status == WEFT_OK) {
      got.append(r.data.begin(), r.data.end());
    } else {
      ASSERT_EQ(r.status, WEFT_ECANCELED) << r.error;
      EXPECT_TRUE(r.data.empty());
    }
  }
  while (got.size() < sent.size()) {
    const uint64_t rt = token++;
    ASSERT_EQ(weft_stream_read(c.echo, 1000, rt), WEFT_OK);
    Event r = c.pb.expect(rt);
    ASSERT_EQ(r.status, WEFT_OK) << r.error;
    got.append(r.data.begin(), r.data.end());
  }
  EXPECT_EQ(got, sent);
  c.pb.settle(50ms);
  for (auto [t, n] : c.pb.all_seen()) EXPECT_EQ(n, 1) << t;
}

TEST(CapiCancel, DialToSilentListener) {
  SilentListener silent;
  weft_node b = make_node();
  Poller pb(b);
  ASSERT_EQ(weft_dial(b, silent.multiaddr().c_str(), 5), WEFT_OK);
  EXPECT_FALSE(pb.wait(5, 200ms).has_value());
  EXPECT_EQ(stat(b, WEFT_STAT_PENDING_OPS), 1u);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(weft_cancel(b, 5), WEFT_OK);
  Event e = pb.expect(5, 5s);
  EXPECT_EQ(e.type, WEFT_EVENT_DIAL);
  EXPECT_EQ(e.status, WEFT_ECANCELED) << e.error;
  EXPECT_EQ(e.conn.id, 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  // The half-made connection does not linger.
  EXPECT_TRUE(eventually([&] { return stat(b, WEFT_STAT_CONNECTIONS) == 0; }));
  pb.settle(50ms);
  EXPECT_EQ(pb.seen(5), 1);
  EXPECT_EQ(weft_node_close(b), WEFT_OK);
}

TEST(CapiCancel, AfterCompletionAndUnknownTokens) {
  Connected c;
  ASSERT_EQ(weft_ping(c.conn, 7), WEFT_OK);
  EXPECT_EQ(c.pb.expect(7).status, WEFT_OK);
  EXPECT_EQ(weft_cancel(c.b, 7), WEFT_OK);
  EXPECT_EQ(weft_cancel(c.b, 123456), WEFT_OK);
  c.pb.settle(100ms);
  EXPECT_EQ(c.pb.seen(7), 1);
  EXPECT_EQ(c.pb.seen(123456), 0);
}

TEST(CapiCancel, OneTokenManyOperations) {
  Connected c;
  ASSERT_EQ(weft_node_handle(c.b, "/never/opened"), WEFT_OK);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(weft_stream_read(c.echo, 10, 77), WEFT_OK);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(weft_accept_stream(c.b, "/never/opened", 77), WEFT_OK);
  EXPECT_EQ(stat(c.b, WEFT_STAT_PENDING_OPS), 8u);
  ASSERT_EQ(weft_cancel(c.b, 77), WEFT_OK);
  int reads = 0, accepts = 0;
  for (int i = 0; i < 8; ++i) {
    Event e = c.pb.expect(77);
    EXPECT_EQ(e.status, WEFT_ECANCELED);
    if (e.type == WEFT_EVENT_READ) ++reads;
    if (e.type == WEFT_EVENT_ACCEPT_STREAM) ++accepts;
  }
  EXPECT_EQ(reads, 5);
  EXPECT_EQ(accepts, 3);
  c.pb.settle(100ms);
  EXPECT_EQ(c.pb.seen(77), 8);
  EXPECT_EQ(stat(c.b, WEFT_STAT_PENDING_OPS), 0u);
}
