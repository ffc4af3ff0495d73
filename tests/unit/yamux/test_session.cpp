// Two YamuxSessions talking over an in-memory pipe (and one test over TCP).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>

#include "net/tcp_channel.hpp"
#include "yamux_test_util.hpp"

using namespace weft;
using namespace weft::test;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

TEST(YamuxSession, OpenAcceptEchoAndCleanup) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto opened = co_await p.client->open_stream();
    CO_ASSERT_OK(opened);
    auto c = *opened;
    EXPECT_EQ(c->id(), 1u);
    EXPECT_TRUE(c->is_outbound());
    CO_ASSERT_OK(co_await c->write_all(as_bytes("hello")));
    CO_ASSERT_OK(co_await c->close_write());
    auto accepted = co_await p.server->accept_stream();
    CO_ASSERT_OK(accepted);
    auto s = *accepted;
    EXPECT_EQ(s->id(), 1u);
    EXPECT_FALSE(s->is_outbound());
    auto got = co_await read_to_end(*s);
    CO_ASSERT_OK(got);
    EXPECT_EQ(as_string_view(*got), "hello");
    CO_ASSERT_OK(co_await s->write_all(*got));
    CO_ASSERT_OK(co_await s->close_write());
    auto back = co_await read_to_end(*c);
    CO_ASSERT_OK(back);
    EXPECT_EQ(as_string_view(*back), "hello");
    // Both directions closed on both ends: the streams are gone.
    EXPECT_TRUE(co_await eventually([&] {
      return p.client->num_streams() == 0 && p.server->num_streams() == 0;
    }));
    EXPECT_EQ(p.client->stats().streams_opened, 1u);
    EXPECT_EQ(p.server->stats().streams_accepted, 1u);
    EXPECT_EQ(p.client->stats().bytes_sent, 5u);
    EXPECT_EQ(p.server->stats().bytes_received, 5u);
    // Writing after close_write fails; reading after EOF keeps saying EOF.
    EXPECT_EQ((co_await c->write_all(as_bytes("x"))).code(), errc::closed);
    Bytes buf(4);
    EXPECT_EQ((co_await c->read_some(buf)).code(), errc::eof);
  });
}

TEST(YamuxSession, StreamIdsFollowRoles) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto a = co_await p.client->open_stream();
    auto b = co_await p.client->open_stream();
    auto c = co_await p.server->open_stream();
    auto d = co_await p.server->open_stream();
    CO_ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
    EXPECT_EQ((*a)->id(), 1u);
    EXPECT_EQ((*b)->id(), 3u);
    EXPECT_EQ((*c)->id(), 2u);
    EXPECT_EQ((*d)->id(), 4u);
    auto x = co_await p.client->accept_stream();
    auto y = co_await p.server->accept_stream();
    CO_ASSERT_TRUE(x.ok() && y.ok());
    EXPECT_EQ((*x)->id(), 2u);
    EXPECT_EQ((*y)->id(), 1u);
    EXPECT_EQ(p.client->num_streams(), 4u);
  });
}

TEST(YamuxSession, LargeTransferBothWaysGrowsWindows) {
  YamuxConfig cfg;
  cfg.window_growth_rtt_factor = 1000000;  // every update counts as "fast": always grow
  Harness h;
  SessionPair p(h, cfg, cfg);
  constexpr std::size_t kSize = 24 << 20;
  const Bytes up = pattern(kSize, 1);
  const Bytes down = pattern(kSize, 2);
  h.run([&]() -> Task<void> {
    // Auto-tuning needs an RTT: the initial pings measure it.
    CO_ASSERT_TRUE(co_await eventually([&] {
      return p.client->rtt().count() > 0 && p.server->rtt().count() > 0;
    }));
    auto opened = co_await p.client->open_stream();
    CO_ASSERT_OK(opened);
    auto c = *opened;
    auto accepted = co_await p.server->accept_stream();
    CO_ASSERT_OK(accepted);
    auto s = *accepted;
    std::uint64_t max_send_window = 0;
    auto write_side = [&](std::shared_ptr<YamuxStream> st, const Bytes& data) -> Task<void> {
      for (std::size_t off = 0; off < data.size(); off += 1 << 20) {
        auto r = co_await st->write_all(BytesView(data).subspan(off, 1 << 20));
        EXPECT_TRUE(r.ok()) << r.error().message();
        max_send_window = std::max(max_send_window, st->send_window());
      }
      auto r = co_await st->close_write();
      EXPECT_TRUE(r.ok());
    };
    auto read_side = [&](std::shared_ptr<YamuxStream> st, const Bytes& want) -> Task<void> {
      auto got = co_await read_to_end(*st, 256 * 1024);
      EXPECT_TRUE(got.ok());
      if (got.ok()) {
        EXPECT_EQ(got->size(), want.size());
        EXPECT_TRUE(*got == want);
      }
    };
    co_await (write_side(c, up) && read_side(s, up) && write_side(s, down) && read_side(c, down));
    EXPECT_EQ(s->receive_window(), cfg.max_window);
    EXPECT_EQ(c->receive_window(), cfg.max_window);
    EXPECT_GT(max_send_window, std::uint64_t{256 * 1024});
  });
}

TEST(YamuxSession, WindowStaysPutWithoutAutoTuning) {
  YamuxConfig cfg;
  cfg.window_growth_rtt_factor = 0;
  Harness h;
  SessionPair p(h, cfg, cfg);
  h.run([&]() -> Task<void> {
    auto c = co_await p.client->open_stream();
    auto s = co_await p.server->accept_stream();
    CO_ASSERT_TRUE(c.ok() && s.ok());
    const Bytes data = pattern(4 << 20, 3);
    auto w = [&]() -> Task<void> {
      EXPECT_TRUE((co_await (*c)->write_all(data)).ok());
      EXPECT_TRUE((co_await (*c)->close_write()).ok());
    };
    auto r = [&]() -> Task<void> {
      auto got = co_await read_to_end(**s);
      EXPECT_TRUE(got.ok() && *got == data);
    };
    co_await (w() && r());
    EXPECT_EQ((*s)->receive_window(), 256u * 1024);
  });
}

TEST(YamuxSession, LargerInitialWindowIsAnnounced) {
  YamuxConfig cfg;
  cfg.initial_window = 1 << 20;
  cfg.window_growth_rtt_factor = 0;
  Harness h;
  SessionPair p(h, cfg, cfg);
  h.run([&]() -> Task<void> {
    auto c = co_await p.client->open_stream();
    CO_ASSERT_OK(c);
    auto s = co_await p.server->accept_stream();
    CO_ASSERT_OK(s);
    // The server learnt the client's 1 MiB window from the SYN, and the
    // client the server's from the ACK.
    EXPECT_EQ((*s)->send_window(), 1u << 20);
    CO_ASSERT_TRUE(co_await eventually([&] { return (*c)->send_window() == (1u << 20); }));
    // 1 MiB fits without any reading on the other side.
    CO_ASSERT_OK(co_await (*c)->write_all(pattern(1 << 20, 4)));
    EXPECT_EQ((*c)->send_window(), 0u);
  });
}

TEST(YamuxSession, HalfCloseKeepsTheOtherDirectionOpen) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto c = co_await p.client->open_stream();
    CO_ASSERT_OK(c);
    CO_ASSERT_OK(co_await (*c)->write_all(as_bytes("request")));
    CO_ASSERT_OK(co_await (*c)->close_write());
    CO_ASSERT_OK(co_await (*c)->close_write());  // idempotent
    auto s = co_await p.server->accept_stream();
    CO_ASSERT_OK(s);
    auto req = co_await read_to_end(**s);
    CO_ASSERT_OK(req);
    EXPECT_EQ(as_string_view(*req), "request");
    EXPECT_TRUE((*s)->read_closed());
    EXPECT_EQ(p.server->num_streams(), 1u);  // our direction is still open
    for (int i = 0; i < 3; ++i) CO_ASSERT_OK(co_await (*s)->write_all(as_bytes("part;")));
    Bytes buf(5);
    CO_ASSERT_OK(co_await (*c)->read_exact(buf));
    EXPECT_EQ(as_string_view(buf), "part;");
    CO_ASSERT_OK(co_await (*s)->close_write());
    EXPECT_EQ(p.server->num_streams(), 0u);
    auto rest = co_await read_to_end(**c);
    CO_ASSERT_OK(rest);
    EXPECT_EQ(as_string_view(*rest), "part;part;");
    EXPECT_EQ(p.client->num_streams(), 0u);
  });
}

// read_bytes sizes its result to what is there (up to max), takes bytes
// given back first, and waits like read_some when nothing is buffered.
TEST(YamuxSession, ReadBytesReturnsWhatIsBufferedUpToMax) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto opened = co_await p.client->open_stream();
    CO_ASSERT_OK(opened);
    auto c = *opened;
    CO_ASSERT_OK(co_await c->write_all(as_bytes("0123456789")));
    auto accepted = co_await p.server->accept_stream();
    CO_ASSERT_OK(accepted);
    auto s = *accepted;
    CO_ASSERT_TRUE(co_await eventually([&] { return s->readable() == 10; }));
    auto first = co_await s->read_bytes(4);
    CO_ASSERT_OK(first);
    EXPECT_EQ(as_string_view(*first), "0123");
    s->unread(as_bytes("ab"));
    auto given_back = co_await s->read_bytes(1 << 20);
    CO_ASSERT_OK(given_back);
    EXPECT_EQ(as_string_view(*given_back), "ab");
    auto rest = co_await s->read_bytes(1 << 20);
    CO_ASSERT_OK(rest);
    EXPECT_EQ(as_string_view(*rest), "456789");
    EXPECT_EQ(rest->size(), 6u);

    std::optional<Result<Bytes>> waiting;
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, [&]() -> Task<void> { waiting = co_await s->read_bytes(1 << 20); }, asio::detached);
    CO_ASSERT_TRUE(co_await eventually([&] { return s->readable() == 0 && !waiting; }));
    CO_ASSERT_OK(co_await c->write_all(as_bytes("late")));
    CO_ASSERT_TRUE(co_await eventually([&] { return waiting.has_value(); }));
    CO_ASSERT_OK(*waiting);
    EXPECT_EQ(as_string_view(**waiting), "late");

    CO_ASSERT_OK(co_await c->close_write());
    EXPECT_EQ((co_await s->read_bytes(16)).code(), errc::eof);
    EXPECT_EQ((co_await s->read_bytes(0)).code(), errc::invalid_argument);
  });
}

// read_view hands out the received chunk itself when it takes all of it;
// what it returned stays valid until the next read, even when the stream is
// reset and its buffers recycled meanwhile. Reading by views returns window
// like any read: a transfer larger than the window completes.
TEST(YamuxSession, ReadViewHandsOutReceivedBytesThatOutliveAReset) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto c = *(co_await p.client->open_stream());
    const Bytes big = pattern(600 * 1024, 9);  // more than the 256 KiB window
    std::optional<Status> wrote;
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, [&]() -> Task<void> { wrote = co_await c->write_all(big); }, asio::detached);
    auto s = *(co_await p.server->accept_stream());
    Bytes got;
    while (got.size() < big.size()) {
      auto view = co_await s->read_view(got.size() % 3 == 0 ? 1 << 20 : 1000);
      CO_ASSERT_OK(view);
      CO_ASSERT_TRUE(!view->empty());
      got.insert(got.end(), view->begin(), view->end());
    }
    EXPECT_EQ(got, big);
    CO_ASSERT_TRUE(co_await eventually([&] { return wrote.has_value(); }));
    CO_ASSERT_OK(*wrote);

    const Bytes frame = pattern(100000, 3);
    CO_ASSERT_OK(co_await c->write_all(frame));
    CO_ASSERT_TRUE(co_await eventually([&] { return s->readable() == frame.size(); }));
    auto view = co_await s->read_view(1 << 20);
    CO_ASSERT_OK(view);
    CO_ASSERT_TRUE(view->size() == frame.size());
    c->reset();
    CO_ASSERT_TRUE(co_await eventually([&] { return s->is_reset(); }));
    // Another stream's bulk data goes through the recycled chunks.
    auto c2 = *(co_await p.client->open_stream());
    auto s2 = *(co_await p.server->accept_stream());
    const Bytes other = pattern(200000, 4);  // within the window
    CO_ASSERT_OK(co_await c2->write_all(other));
    Bytes other_got(other.size());
    CO_ASSERT_OK(co_await s2->read_exact(other_got));
    EXPECT_EQ(other_got, other);
    EXPECT_TRUE(std::equal(view->begin(), view->end(), frame.begin()));
    EXPECT_EQ((co_await s->read_view(16)).code(), errc::reset);
  });
}

TEST(YamuxSession, ResetFailsPendingOperationsOnBothSides) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto c = *(co_await p.client->open_stream());
    auto s = *(co_await p.server->accept_stream());
    std::optional<Status> big_write;
    std::optional<Result<std::size_t>> client_read;
    std::optional<Result<std::size_t>> server_read;
    Bytes cbuf(8);
    Bytes sbuf(8);
    const Bytes big = pattern(600 * 1024, 5);  // more than the 256 KiB window
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, [&]() -> Task<void> { big_write = co_await c->write_all(big); }, asio::detached);
    asio::co_spawn(ex, [&]() -> Task<void> { client_read = co_await c->read_some(cbuf); }, asio::detached);
    CO_ASSERT_TRUE(co_await eventually([&] { return c->send_window() == 0; }));
    // The server has 256 KiB buffered and unread when the reset comes.
    c->reset();
    c->reset();  // idempotent
    CO_ASSERT_TRUE(co_await eventually([&] { return big_write && client_read; }));
    EXPECT_EQ(big_write->code(), errc::reset);
    EXPECT_EQ(client_read->code(), errc::reset);
    // The server drops what it buffered and fails with reset.
    asio::co_spawn(ex, [&]() -> Task<void> { server_read = co_await s->read_some(sbuf); }, asio::detached);
    CO_ASSERT_TRUE(co_await eventually([&] { return server_read.has_value(); }));
    EXPECT_EQ(server_read->code(), errc::reset);
    EXPECT_EQ((co_await s->write_all(as_bytes("late"))).code(), errc::reset);
    EXPECT_EQ((co_await c->write_all(as_bytes("late"))).code(), errc::reset);
    EXPECT_EQ((co_await c->close_write()).code(), errc::reset);
    EXPECT_EQ(p.client->num_streams(), 0u);
    EXPECT_EQ(p.server->num_streams(), 0u);
    // The session is unaffected.
    auto again = co_await p.client->open_stream();
    CO_ASSERT_OK(again);
    CO_ASSERT_OK(co_await (*again)->write_all(as_bytes("ok")));
    auto s2 = co_await p.server->accept_stream();
    CO_ASSERT_OK(s2);
    Bytes two(2);
    CO_ASSERT_OK(co_await (*s2)->read_exact(two));
    EXPECT_EQ(as_string_view(two), "ok");
  });
}

TEST(YamuxSession, RemoteResetWakesPendingReader) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto c = *(co_await p.client->open_stream());
    auto s = *(co_await p.server->accept_stream());
    std::optional<Result<std::size_t>> r1, r2;
    Bytes b1(4), b2(4);
    auto ex = co_await asio::this_coro::executor;
    // Two readers on one stream: both must be woken.
    asio::co_spawn(ex, [&]() -> Task<void> { r1 = co_await c->read_some(b1); }, asio::detached);
    asio::co_spawn(ex, [&]() -> Task<void> { r2 = co_await c->read_some(b2); }, asio::detached);
    co_await delay(5ms);
    s->abort();
    CO_ASSERT_TRUE(co_await eventually([&] { return r1 && r2; }));
    EXPECT_EQ(r1->code(), errc::reset);
    EXPECT_EQ(r2->code(), errc::reset);
    EXPECT_TRUE(c->is_reset());
  });
}

// Seed 5: many writers on one stream with a window that keeps running out.
// Every write must finish, every record must arrive exactly once, whole
// (contiguous), and in each writer's order.
TEST(YamuxSession, ManyConcurrentWritersNoLostWakeups) {
  YamuxConfig cfg;
  cfg.window_growth_rtt_factor = 0;  // the window stays at 256 KiB
  cfg.max_frame_payload = 1000;      // records span several frames
  cfg.max_send_buffer = 16 * 1024;   // writers also wait for session buffer space
  Harness h;
  SessionPair p(h, cfg, cfg, 64 * 1024);
  constexpr int kWriters = 64;
  constexpr int kRecords = 30;
  constexpr std::size_t kRecordSize = 3000;
  auto record = [](int writer, int seq) {
    Bytes r(kRecordSize, static_cast<std::uint8_t>(writer * 31 + seq));
    r[0] = static_cast<std::uint8_t>(writer);
    r[1] = static_cast<std::uint8_t>(seq >> 8);
    r[2] = static_cast<std::uint8_t>(seq);
    return r;
  };
  h.run([&]() -> Task<void> {
    auto c = *(co_await p.client->open_stream());
    auto ex = co_await asio::this_coro::executor;
    int finished = 0;
    int failed = 0;
    for (int w = 0; w < kWriters; ++w) {
      asio::co_spawn(ex, [&, w]() -> Task<void> {
        for (int seq = 0; seq < kRecords; ++seq) {
          Bytes r = record(w, seq);
          auto st = co_await c->write_all(r);
          if (!st.ok()) ++failed;
          if (seq % 7 == w % 7) co_await yield_now();
        }
        ++finished;
      }, asio::detached);
    }
    auto s = *(co_await p.server->accept_stream());
    std::vector<int> next_seq(kWriters, 0);
    Bytes pending;
    Bytes buf(777);
    std::size_t reads = 0;
    int records = 0;
    while (records < kWriters * kRecords) {
      auto n = co_await s->read_some(buf);
      CO_ASSERT_OK(n);
      pending.insert(pending.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
      while (pending.size() >= kRecordSize) {
        const int w = pending[0];
        const int seq = (pending[1] << 8) | pending[2];
        CO_ASSERT_TRUE(w < kWriters);
        EXPECT_EQ(seq, next_seq[w]) << "writer " << w;
        next_seq[w] = seq + 1;
        Bytes want = record(w, seq);
        CO_ASSERT_TRUE(std::equal(want.begin(), want.end(), pending.begin()));
        pending.erase(pending.begin(), pending.begin() + kRecordSize);
        ++records;
      }
      // Read slowly so the writers keep running out of window.
      if (++reads % 64 == 0) co_await delay(1ms);
      else co_await yield_now();
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return finished == kWriters; }));
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(c->queued_writers(), 0u);
    CO_ASSERT_OK(co_await c->close_write());
    auto tail = co_await read_to_end(*s);
    CO_ASSERT_OK(tail);
    EXPECT_TRUE(tail->empty());
    EXPECT_TRUE(pending.empty());
  });
}
