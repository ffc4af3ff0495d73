// A YamuxSession against a hand-driven peer: pings and keep-alive, GoAway,
// close() deadlines, and a peer that stops reading.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "yamux_test_util.hpp"

using namespace weft;
using namespace weft::test;
using namespace std::chrono_literals;
using yamux::FrameType;
namespace flag = weft::yamux::flag;

TEST(YamuxWire, PingsAreAnsweredAndStrayPongsIgnored) {
  Harness h;
  RawPeer p(h, false);
  h.run([&]() -> Task<void> {
    co_await p.send(frame(FrameType::ping, flag::syn, 0, 0xdeadbeef));
    auto f = co_await read_frame(*p.raw);
    CO_ASSERT_OK(f);
    EXPECT_EQ(f->h.frame_type(), FrameType::ping);
    EXPECT_EQ(f->h.flags, flag::ack);
    EXPECT_EQ(f->h.stream_id, 0u);
    EXPECT_EQ(f->h.length, 0xdeadbeefu);
    co_await p.send(frame(FrameType::ping, flag::ack, 0, 77));  // never asked for
    co_await delay(5ms);
    EXPECT_TRUE(p.session->is_open());
    EXPECT_EQ(p.unread(), 0u);
  });
}

TEST(YamuxWire, InitialPingAndPingApi) {
  Harness h;
  YamuxConfig cfg = quiet_config();
  cfg.initial_ping = true;
  RawPeer p(h, true, cfg);
  h.run([&]() -> Task<void> {
    auto first = co_await read_frame(*p.raw);
    CO_ASSERT_OK(first);
    EXPECT_EQ(first->h.frame_type(), FrameType::ping);
    EXPECT_EQ(first->h.flags, flag::syn);
    co_await p.send(frame(FrameType::ping, flag::ack, 0, first->h.length));
    CO_ASSERT_TRUE(co_await eventually([&] { return p.session->rtt().count() > 0; }));

    std::optional<Result<std::chrono::nanoseconds>> r;
    asio::co_spawn(co_await asio::this_coro::executor,
                   [&]() -> Task<void> { r = co_await p.session->ping(); }, asio::detached);
    auto q = co_await read_frame(*p.raw);
    CO_ASSERT_OK(q);
    EXPECT_EQ(q->h.flags, flag::syn);
    co_await p.send(frame(FrameType::ping, flag::ack, 0, q->h.length + 1));  // wrong id: ignored
    co_await delay(2ms);
    EXPECT_FALSE(r.has_value());
    co_await p.send(frame(FrameType::ping, flag::ack, 0, q->h.length));
    CO_ASSERT_TRUE(co_await eventually([&] { return r.has_value(); }));
    EXPECT_TRUE(r->ok());

    // A cancelled ping completes with canceled and leaves the session up.
    asio::cancellation_signal sig;
    std::optional<Result<std::chrono::nanoseconds>> rc;
    asio::co_spawn(co_await asio::this_coro::executor,
                   [&]() -> Task<void> { rc = co_await p.session->ping(); },
                   asio::bind_cancellation_slot(sig.slot(), asio::detached));
    CO_ASSERT_OK(co_await read_frame(*p.raw));
    sig.emit(asio::cancellation_type::terminal);
    CO_ASSERT_TRUE(co_await eventually([&] { return rc.has_value(); }));
    EXPECT_EQ(rc->code(), errc::canceled);
    EXPECT_TRUE(p.session->is_open());
  });
}

TEST(YamuxWire, TooManyPingsInFlight) {
  Harness h;
  YamuxConfig cfg = quiet_config();
  cfg.max_pending_pings = 2;
  RawPeer p(h, true, cfg);
  int done = 0;  // outlives the body: the pings complete at shutdown
  h.run([&]() -> Task<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 2; ++i) {
      asio::co_spawn(ex, [&]() -> Task<void> { (void)co_await p.session->ping(); ++done; },
                     asio::detached);
    }
    co_await delay(2ms);
    auto third = co_await p.session->ping();
    EXPECT_EQ(third.code(), errc::limit_exceeded);
    EXPECT_EQ(done, 0);
  });
}

TEST(YamuxKeepalive, MissingPongFailsSessionWithTimeout) {
  Harness h;
  YamuxConfig cfg = quiet_config();
  cfg.keepalive_interval = 20ms;
  cfg.keepalive_timeout = 50ms;
  RawPeer p(h, true, cfg);
  h.run([&]() -> Task<void> {
    std::optional<Result<std::shared_ptr<YamuxStream>>> acc;
    asio::co_spawn(co_await asio::this_coro::executor,
                   [&]() -> Task<void> { acc = co_await p.session->accept_stream(); },
                   asio::detached);
    const auto t0 = std::chrono::steady_clock::now();
    co_await p.session->wait_closed();
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(p.session->failure().code, errc::timed_out);
    EXPECT_GE(took, 60ms);
    EXPECT_LT(took, 2s);
    CO_ASSERT_TRUE(co_await eventually([&] { return acc.has_value(); }));
    EXPECT_EQ(acc->code(), errc::timed_out);
  });
}

TEST(YamuxKeepalive, AnsweredPingsKeepGoing) {
  Harness h;
  YamuxConfig cfg = quiet_config();
  cfg.keepalive_interval = 10ms;
  cfg.keepalive_timeout = 2s;
  RawPeer p(h, true, cfg);
  h.run([&]() -> Task<void> {
    int pings = 0;
    const auto until = std::chrono::steady_clock::now() + 250ms;
    while (std::chrono::steady_clock::now() < until) {
      auto f = co_await read_frame(*p.raw);
      CO_ASSERT_OK(f);
      EXPECT_EQ(f->h.frame_type(), FrameType::ping);
      EXPECT_EQ(f->h.flags, flag::syn);
      ++pings;
      co_await p.send(frame(FrameType::ping, flag::ack, 0, f->h.length));
    }
    EXPECT_GE(pings, 5);
    EXPECT_TRUE(p.session->is_open());
  });
}

TEST(YamuxWire, RemoteGoAwayStopsNewStreamsOnly) {
  Harness h;
  RawPeer p(h, true);
  h.run([&]() -> Task<void> {
    co_await p.send(cat(syn(2), data(2, "a")));
    auto s = co_await p.session->accept_stream();
    CO_ASSERT_OK(s);
    CO_ASSERT_OK(co_await read_frame(*p.raw));  // ACK
    co_await p.send(frame(FrameType::go_away, 0, 0, 0));
    CO_ASSERT_TRUE(co_await eventually([&] { return p.session->remote_went_away(); }));
    auto o = co_await p.session->open_stream();
    EXPECT_EQ(o.code(), errc::closed);
    EXPECT_TRUE(p.session->is_open());
    co_await p.send(data(2, "b", flag::fin));
    auto all = co_await read_to_end(**s);
    CO_ASSERT_OK(all);
    EXPECT_EQ(as_string_view(*all), "ab");
    CO_ASSERT_OK(co_await (*s)->write_all(as_bytes("c")));
    auto f = co_await read_frame(*p.raw);
    CO_ASSERT_OK(f);
    EXPECT_EQ(as_string_view(f->payload), "c");
  });
}

TEST(YamuxWire, PeerThatDoesNotReadCannotGrowOurQueue) {
  Harness h;
  RawPeer p(h, false, quiet_config(), 64 * 1024);
  h.run([&]() -> Task<void> {
    // Pings whose pongs pile up because the peer never reads them.
    Bytes flood;
    for (std::uint32_t i = 0; i < 200000; ++i) append(flood, frame(FrameType::ping, flag::syn, 0, i));
    asio::co_spawn(co_await asio::this_coro::executor,
                   [&]() -> Task<void> { (void)co_await p.raw->write_all(flood); }, asio::detached);
    co_await p.session->wait_closed();
    EXPECT_EQ(p.session->failure().code, errc::limit_exceeded);
  });
}

TEST(YamuxClose, GivesUpWaitingForAPeerThatNeverCloses) {
  Harness h;
  YamuxConfig cfg = quiet_config();
  cfg.close_timeout = 50ms;
  RawPeer p(h, true, cfg);
  h.run([&]() -> Task<void> {
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<Status> st;
    asio::co_spawn(co_await asio::this_coro::executor,
                   [&]() -> Task<void> { st = co_await p.session->close(); }, asio::detached);
    auto f = co_await read_frame(*p.raw);
    CO_ASSERT_OK(f);
    EXPECT_EQ(f->h.frame_type(), FrameType::go_away);
    EXPECT_EQ(f->h.length, 0u);
    // The peer never closes: at the deadline the connection is aborted.
    CO_ASSERT_TRUE(co_await eventually([&] { return st.has_value(); }));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_TRUE(st->ok()) << st->error().message();  // everything had been flushed
    EXPECT_GE(took, 50ms);
    EXPECT_LT(took, 2s);
    EXPECT_EQ(p.session->failure().code, errc::closed);
    EXPECT_EQ((co_await read_frame(*p.raw)).code(), errc::reset);
  });
}

TEST(YamuxClose, ReturnsOnceThePeerClosesToo) {
  Harness h;
  RawPeer p(h, true);
  h.run([&]() -> Task<void> {
    std::optional<Status> closed;
    asio::co_spawn(co_await asio::this_coro::executor,
                   [&]() -> Task<void> { closed = co_await p.session->close(); }, asio::detached);
    auto f = co_await read_frame(*p.raw);
    CO_ASSERT_OK(f);
    EXPECT_EQ(f->h.frame_type(), FrameType::go_away);
    // Input after our GoAway is read and dropped until the peer closes.
    co_await p.send(cat(syn(2), data(2, "ignored")));
    co_await delay(5ms);
    EXPECT_FALSE(closed.has_value());
    CO_ASSERT_OK(co_await p.raw->close_write());
    CO_ASSERT_TRUE(co_await eventually([&] { return closed.has_value(); }));
    EXPECT_TRUE(closed->ok());
  });
}

TEST(YamuxClose, TimesOutWhenThePeerDoesNotRead) {
  Harness h;
  YamuxConfig cfg = quiet_config();
  cfg.close_timeout = 50ms;
  RawPeer p(h, true, cfg, 16 * 1024);
  h.run([&]() -> Task<void> {
    auto s = co_await p.session->open_stream();
    CO_ASSERT_OK(s);
    // 200 KiB queued (within the window) that the peer never reads.
    CO_ASSERT_OK(co_await (*s)->write_all(pattern(200 * 1024, 1)));
    auto st = co_await p.session->close();
    EXPECT_EQ(st.code(), errc::timed_out) << st.error().message();
    EXPECT_FALSE(p.session->is_open());
  });
}

namespace {

Task<void> write_then_close(std::shared_ptr<YamuxStream> s, bool more) {
  auto writing = more ? s->write_more(as_bytes("last words")) : s->write_all(as_bytes("last words"));
  EXPECT_TRUE((co_await std::move(writing)).ok());
  EXPECT_TRUE((co_await s->close_write()).ok());
}

Task<void> write_only(std::shared_ptr<YamuxStream> s) {
  EXPECT_TRUE((co_await s->write_all(as_bytes("last words"))).ok());
}

Task<void> close_only(std::shared_ptr<YamuxStream> s) {
  EXPECT_TRUE((co_await s->close_write()).ok());
}

// Reads what the session sent so far (the stream's SYN).
Task<void> drain(RawPeer& p) {
  co_await delay(2ms);
  while (p.unread() > 0) {
    auto f = co_await read_frame(*p.raw);
    if (!f) break;
  }
}

// Reads frames until `n` arrived; returns them.
Task<std::vector<RawFrame>> read_frames(ByteChannel& ch, int n) {
  std::vector<RawFrame> out;
  for (int i = 0; i < n; ++i) {
    auto f = co_await read_frame(ch);
    if (!f) break;
    out.push_back(std::move(*f));
  }
  co_return out;
}

}  // namespace

// A write and a close_write started together leave in one flush: the write
// passes the send turn on before it makes way for the session's writer.
TEST(YamuxWire, WriteAndCloseStartedTogetherShareOneFlush) {
  Harness h;
  RawPeer p(h, true);
  h.run([&]() -> Task<void> {
    auto opened = co_await p.session->open_stream();
    CO_ASSERT_OK(opened);
    auto s = *opened;
    co_await drain(p);
    const auto before = p.session_writes();
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, write_only(s), asio::detached);
    asio::co_spawn(ex, close_only(s), asio::detached);
    auto frames = co_await read_frames(*p.raw, 2);
    CO_ASSERT_TRUE(frames.size() == 2u);
    EXPECT_EQ(frames[0].h.frame_type(), FrameType::data);
    EXPECT_EQ(as_string_view(frames[0].payload), "last words");
    EXPECT_TRUE(frames[1].h.flags & flag::fin);
    EXPECT_EQ(p.session_writes() - before, 1u);
  });
}

// write_more leaves the bytes for what the caller writes next: the last
// bytes and the FIN share a flush. write_all makes way for the writer first.
TEST(YamuxWire, WriteMoreJoinsTheNextWrite) {
  for (bool more : {true, false}) {
    SCOPED_TRACE(more ? "write_more" : "write_all");
    Harness h;
    RawPeer p(h, true);
    h.run([&]() -> Task<void> {
      auto opened = co_await p.session->open_stream();
      CO_ASSERT_OK(opened);
      co_await drain(p);
      const auto before = p.session_writes();
      auto task = write_then_close(*opened, more);
      co_await std::move(task);
      auto frames = co_await read_frames(*p.raw, 2);
      CO_ASSERT_TRUE(frames.size() == 2u);
      EXPECT_TRUE(frames[1].h.flags & flag::fin);
      EXPECT_EQ(p.session_writes() - before, more ? 1u : 2u);
    });
  }
}
