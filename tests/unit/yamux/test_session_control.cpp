// Cancellation, limits, GoAway, close/abort and keep-alive between two sessions.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "net/tcp_channel.hpp"
#include "yamux_test_util.hpp"

using namespace weft;
using namespace weft::test;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

// Seed 4: a cancelled read completes with canceled and loses no data.
TEST(YamuxCancel, CancelledReadLosesNoData) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto c = *(co_await p.client->open_stream());
    auto s = *(co_await p.server->accept_stream());
    auto ex = co_await asio::this_coro::executor;

    // Per-operation cancellation through a bound cancellation slot.
    asio::cancellation_signal sig;
    std::optional<Result<std::size_t>> r;
    Bytes buf(16);
    asio::co_spawn(ex, [&]() -> Task<void> { r = co_await s->read_some(buf); },
                   asio::bind_cancellation_slot(sig.slot(), asio::detached));
    co_await delay(2ms);
    EXPECT_FALSE(r.has_value());
    sig.emit(asio::cancellation_type::terminal);
    CO_ASSERT_TRUE(co_await eventually([&] { return r.has_value(); }));
    EXPECT_EQ(r->code(), errc::canceled);

    // Cancellation by a timer racing the read (awaitable operators).
    std::optional<Result<std::size_t>> r2;
    auto racing_read = [&]() -> Task<void> { r2 = co_await s->read_some(buf); };
    asio::steady_timer t(ex, 5ms);
    auto winner = co_await (racing_read() || t.async_wait(asio::use_awaitable));
    EXPECT_EQ(winner.index(), 1u);
    CO_ASSERT_TRUE(r2.has_value());
    EXPECT_EQ(r2->code(), errc::canceled);

    // Data sent afterwards reaches the next read in full.
    CO_ASSERT_OK(co_await c->write_all(as_bytes("abcdef")));
    Bytes six(6);
    CO_ASSERT_OK(co_await s->read_exact(six));
    EXPECT_EQ(as_string_view(six), "abcdef");

    // Data that arrived while a read was being cancelled stays buffered.
    CO_ASSERT_OK(co_await c->write_all(as_bytes("xyz")));
    CO_ASSERT_TRUE(co_await eventually([&] { return s->readable() == 3; }));
    asio::cancellation_signal sig2;
    std::optional<Result<std::size_t>> r3;
    sig2.emit(asio::cancellation_type::terminal);  // nothing bound yet: a no-op
    asio::co_spawn(ex, [&]() -> Task<void> { r3 = co_await s->read_some(buf); },
                   asio::bind_cancellation_slot(sig2.slot(), asio::detached));
    CO_ASSERT_TRUE(co_await eventually([&] { return r3.has_value(); }));
    CO_ASSERT_OK(*r3);
    EXPECT_EQ(**r3, 3u);
    EXPECT_EQ(as_string_view(BytesView(buf).first(3)), "xyz");
  });
}

// A read waiting on an empty stream takes arriving bytes straight into its
// buffer; a cancellation racing that delivery must still lose nothing: the
// read either returns the bytes it was given or is cancelled with none.
TEST(YamuxCancel, CancellationRacingDirectDeliveryLosesNoData) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto c = *(co_await p.client->open_stream());
    auto s = *(co_await p.server->accept_stream());
    auto ex = co_await asio::this_coro::executor;
    Bytes sent, received;
    for (int i = 0; i < 200; ++i) {
      asio::cancellation_signal sig;
      std::optional<Result<std::size_t>> r;
      Bytes buf(64);
      asio::co_spawn(ex, [&]() -> Task<void> { r = co_await s->read_some(buf); },
                     asio::bind_cancellation_slot(sig.slot(), asio::detached));
      const Bytes msg(static_cast<std::size_t>(1 + i % 50), static_cast<std::uint8_t>(i));
      CO_ASSERT_OK(co_await c->write_all(msg));
      append(sent, msg);
      // Cancel after a varying number of scheduler rounds: before, during
      // or after the delivery.
      for (int k = 0; k < i % 7; ++k) co_await asio::post(ex, asio::use_awaitable);
      sig.emit(asio::cancellation_type::terminal);
      CO_ASSERT_TRUE(co_await eventually([&] { return r.has_value(); }));
      if (r->ok()) {
        append(received, BytesView(buf).first(**r));
      } else {
        EXPECT_EQ(r->code(), errc::canceled);
      }
      // Whatever the read did not return is still there for the next one.
      while (received.size() < sent.size()) {
        auto n = co_await s->read_some(buf);
        CO_ASSERT_OK(n);
        append(received, BytesView(buf).first(*n));
      }
    }
    EXPECT_TRUE(received == sent);
  });
}

// Seed 4: a write cancelled before any byte was queued sends nothing, and
// the stream stays usable for the writers after it.
TEST(YamuxCancel, CancelledWriteSendsNothing) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto c = *(co_await p.client->open_stream());
    auto s = *(co_await p.server->accept_stream());
    auto ex = co_await asio::this_coro::executor;
    const Bytes first = pattern(256 * 1024, 1);  // exactly the window
    CO_ASSERT_OK(co_await c->write_all(first));
    EXPECT_EQ(c->send_window(), 0u);

    // B waits for window, C waits for its turn behind B.
    asio::cancellation_signal sig_b, sig_c;
    std::optional<Status> rb, rc, rd;
    const Bytes b_data = pattern(1000, 2);
    const Bytes c_data = pattern(1000, 3);
    asio::co_spawn(ex, [&]() -> Task<void> { rb = co_await c->write_all(b_data); },
                   asio::bind_cancellation_slot(sig_b.slot(), asio::detached));
    asio::co_spawn(ex, [&]() -> Task<void> { rc = co_await c->write_all(c_data); },
                   asio::bind_cancellation_slot(sig_c.slot(), asio::detached));
    CO_ASSERT_TRUE(co_await eventually([&] { return c->queued_writers() == 2; }));
    sig_c.emit(asio::cancellation_type::terminal);
    CO_ASSERT_TRUE(co_await eventually([&] { return rc.has_value(); }));
    EXPECT_EQ(rc->code(), errc::canceled);
    sig_b.emit(asio::cancellation_type::terminal);
    CO_ASSERT_TRUE(co_await eventually([&] { return rb.has_value(); }));
    EXPECT_EQ(rb->code(), errc::canceled);
    EXPECT_EQ(c->queued_writers(), 0u);

    // D is queued behind nobody and goes out once the window opens.
    asio::co_spawn(ex, [&]() -> Task<void> {
      rd = co_await c->write_all(as_bytes("tail"));
      if (rd->ok()) rd = co_await c->close_write();
    }, asio::detached);
    auto got = co_await read_to_end(*s);
    CO_ASSERT_OK(got);
    CO_ASSERT_TRUE(rd.has_value());
    EXPECT_TRUE(rd->ok());
    Bytes want = first;
    append(want, as_bytes("tail"));
    EXPECT_EQ(got->size(), want.size());
    EXPECT_TRUE(*got == want);
  });
}

TEST(YamuxCancel, CancelledAcceptAndOpenComplete) {
  YamuxConfig cfg;
  cfg.max_unacked_outbound = 1;
  Harness h;
  SessionPair p(h, cfg, cfg);
  h.run([&]() -> Task<void> {
    auto ex = co_await asio::this_coro::executor;
    std::optional<Result<std::shared_ptr<YamuxStream>>> acc;
    asio::cancellation_signal sig;
    asio::co_spawn(ex, [&]() -> Task<void> { acc = co_await p.server->accept_stream(); },
                   asio::bind_cancellation_slot(sig.slot(), asio::detached));
    co_await delay(2ms);
    sig.emit(asio::cancellation_type::terminal);
    CO_ASSERT_TRUE(co_await eventually([&] { return acc.has_value(); }));
    EXPECT_EQ(acc->code(), errc::canceled);

    auto first = co_await p.client->open_stream();  // un-ACKed until the server accepts
    CO_ASSERT_OK(first);
    std::optional<Result<std::shared_ptr<YamuxStream>>> second;
    asio::cancellation_signal sig2;
    asio::co_spawn(ex, [&]() -> Task<void> { second = co_await p.client->open_stream(); },
                   asio::bind_cancellation_slot(sig2.slot(), asio::detached));
    co_await delay(5ms);
    EXPECT_FALSE(second.has_value());  // waits for the ACK backlog
    sig2.emit(asio::cancellation_type::terminal);
    CO_ASSERT_TRUE(co_await eventually([&] { return second.has_value(); }));
    EXPECT_EQ(second->code(), errc::canceled);
    EXPECT_EQ(p.client->num_streams(), 1u);
  });
}

TEST(YamuxLimits, OpenStreamFailsAtMaxStreams) {
  YamuxConfig cfg;
  cfg.max_streams = 2;
  Harness h;
  SessionPair p(h, cfg, YamuxConfig{});
  h.run([&]() -> Task<void> {
    auto a = co_await p.client->open_stream();
    auto b = co_await p.client->open_stream();
    CO_ASSERT_TRUE(a.ok() && b.ok());
    auto c = co_await p.client->open_stream();
    EXPECT_EQ(c.code(), errc::limit_exceeded);
    (*a)->reset();
    auto d = co_await p.client->open_stream();
    EXPECT_TRUE(d.ok());
  });
}

TEST(YamuxLimits, OpenWaitsForAckBacklog) {
  YamuxConfig cfg;
  cfg.max_unacked_outbound = 2;
  Harness h;
  SessionPair p(h, cfg, YamuxConfig{});
  h.run([&]() -> Task<void> {
    CO_ASSERT_OK(co_await p.client->open_stream());
    CO_ASSERT_OK(co_await p.client->open_stream());
    auto ex = co_await asio::this_coro::executor;
    std::optional<Result<std::shared_ptr<YamuxStream>>> third;
    asio::co_spawn(ex, [&]() -> Task<void> { third = co_await p.client->open_stream(); },
                   asio::detached);
    co_await delay(10ms);
    EXPECT_FALSE(third.has_value());
    CO_ASSERT_OK(co_await p.server->accept_stream());  // sends the ACK
    CO_ASSERT_TRUE(co_await eventually([&] { return third.has_value(); }));
    CO_ASSERT_OK(*third);
    EXPECT_EQ((**third)->id(), 5u);
  });
}

// Inbound streams beyond max_streams, max_unacked_inbound, accept_backlog or
// max_receive_windows are answered with RST; the session carries on.
TEST(YamuxLimits, InboundBeyondLimitsIsReset) {
  for (int which = 0; which < 4; ++which) {
    YamuxConfig scfg;
    if (which == 0) scfg.max_streams = 2;
    if (which == 1) scfg.max_unacked_inbound = 2;
    if (which == 2) scfg.accept_backlog = 2;
    if (which == 3) scfg.max_receive_windows = 2 * 256 * 1024;  // two initial windows
    Harness h;
    SessionPair p(h, YamuxConfig{}, scfg);
    h.run([&]() -> Task<void> {
      std::vector<std::shared_ptr<YamuxStream>> streams;
      for (int i = 0; i < 3; ++i) {
        auto s = co_await p.client->open_stream();
        CO_ASSERT_OK(s);
        CO_ASSERT_OK(co_await (*s)->write_all(as_bytes("hi")));
        streams.push_back(*s);
      }
      Bytes buf(4);
      auto r = co_await streams[2]->read_some(buf);
      EXPECT_EQ(r.code(), errc::reset) << "limit " << which;
      EXPECT_EQ(p.server->stats().streams_refused, 1u);
      for (int i = 0; i < 2; ++i) {
        auto a = co_await p.server->accept_stream();
        CO_ASSERT_OK(a);
        Bytes two(2);
        CO_ASSERT_OK(co_await (*a)->read_exact(two));
      }
      EXPECT_TRUE(p.server->is_open());
    });
  }
}

// The receive windows of a session's streams stay within
// max_receive_windows: a window grows only as far as it allows, an inbound
// stream that does not fit is refused, and a stream that ends gives its
// window back.
TEST(YamuxLimits, ReceiveWindowsStayWithinTheSessionBudget) {
  YamuxConfig scfg;
  scfg.max_receive_windows = 1 << 20;
  scfg.window_growth_rtt_factor = 1000000;  // every update counts as fast: grow when allowed
  Harness h;
  SessionPair p(h, YamuxConfig{}, scfg);
  const Bytes data = pattern(8 << 20, 6);
  h.run([&]() -> Task<void> {
    // Auto-tuning needs an RTT: the initial ping measures it.
    CO_ASSERT_TRUE(co_await eventually([&] { return p.server->rtt().count() > 0; }));
    auto c = *(co_await p.client->open_stream());
    std::optional<Status> wrote;
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, [&]() -> Task<void> { wrote = co_await c->write_all(data); }, asio::detached);
    auto s = *(co_await p.server->accept_stream());
    std::uint64_t most = 0;
    Bytes got;
    while (got.size() < data.size()) {
      auto chunk = co_await s->read_bytes(1 << 20);
      CO_ASSERT_OK(chunk);
      got.insert(got.end(), chunk->begin(), chunk->end());
      most = std::max(most, p.server->receive_windows());
    }
    EXPECT_TRUE(got == data);
    CO_ASSERT_TRUE(co_await eventually([&] { return wrote.has_value(); }));
    CO_ASSERT_OK(*wrote);
    EXPECT_EQ(s->receive_window(), 1u << 20);  // 256 KiB, 512 KiB, 1 MiB: the budget
    EXPECT_LE(most, std::uint64_t{1} << 20);
    // The budget is taken: a new inbound stream is refused.
    auto refused = *(co_await p.client->open_stream());
    Bytes buf(1);
    EXPECT_EQ((co_await refused->read_some(buf)).code(), errc::reset);
    EXPECT_EQ(p.server->stats().streams_refused, 1u);
    // Once the stream has ended both ways, its window is free again.
    CO_ASSERT_OK(co_await c->close_write());
    CO_ASSERT_OK(co_await s->close_write());
    EXPECT_EQ((co_await s->read_some(buf)).code(), errc::eof);
    CO_ASSERT_TRUE(co_await eventually([&] { return p.server->receive_windows() == 0; }));
    auto again = *(co_await p.client->open_stream());
    CO_ASSERT_OK(co_await again->write_all(as_bytes("ok")));
    auto accepted = co_await p.server->accept_stream();
    CO_ASSERT_OK(accepted);
    Bytes two(2);
    CO_ASSERT_OK(co_await (*accepted)->read_exact(two));
    EXPECT_EQ(p.server->receive_windows(), 256u * 1024);
  });
}

TEST(YamuxSessionEnd, CloseSendsGoAwayAndFlushes) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto ex = co_await asio::this_coro::executor;
    auto c = *(co_await p.client->open_stream());
    const Bytes data = pattern(200 * 1024, 9);
    CO_ASSERT_OK(co_await c->write_all(data));
    CO_ASSERT_OK(co_await c->close_write());
    std::optional<Result<std::shared_ptr<YamuxStream>>> pending_accept;
    auto s = *(co_await p.server->accept_stream());
    asio::co_spawn(ex, [&]() -> Task<void> { pending_accept = co_await p.server->accept_stream(); },
                   asio::detached);
    // Close right away: what was queued before still reaches the server.
    auto st = co_await p.client->close();
    EXPECT_TRUE(st.ok()) << st.error().message();
    EXPECT_FALSE(p.client->is_open());
    EXPECT_EQ(p.client->failure().code, errc::closed);
    co_await p.server->wait_closed();
    EXPECT_FALSE(p.server->is_open());
    EXPECT_TRUE(p.server->remote_went_away());
    CO_ASSERT_TRUE(pending_accept.has_value());
    EXPECT_EQ(pending_accept->code(), errc::closed);
    // The stream received everything and the FIN before the session ended.
    auto got = co_await read_to_end(*s);
    CO_ASSERT_OK(got);
    EXPECT_TRUE(*got == data);
    EXPECT_EQ((co_await p.server->open_stream()).code(), errc::closed);
    EXPECT_EQ((co_await p.client->open_stream()).code(), errc::closed);
    EXPECT_EQ((co_await c->write_all(as_bytes("x"))).code(), errc::closed);
    EXPECT_TRUE((co_await p.client->close()).ok());  // second close: nothing to do
  });
}

TEST(YamuxSessionEnd, AbortCompletesEveryPendingOperationOnce) {
  Harness h;
  SessionPair p(h);
  constexpr int kStreams = 4;
  constexpr int kPerStream = 3;
  int reads_done = 0, writes_done = 0, accepts_done = 0, pings_done = 0, wrong = 0;
  h.run([&]() -> Task<void> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::shared_ptr<YamuxStream>> streams;
    for (int i = 0; i < kStreams; ++i) {
      auto c = co_await p.client->open_stream();
      CO_ASSERT_OK(c);
      CO_ASSERT_OK(co_await p.server->accept_stream());
      streams.push_back(*c);
    }
    const Bytes big = pattern(400 * 1024, 1);
    std::vector<Bytes> bufs(kStreams * kPerStream, Bytes(64));
    for (int i = 0; i < kStreams; ++i) {
      for (int k = 0; k < kPerStream; ++k) {
        auto st = streams[i];
        asio::co_spawn(ex, [&, st, k, i]() -> Task<void> {
          auto r = co_await st->read_some(bufs[i * kPerStream + k]);
          ++reads_done;
          if (r.code() != errc::io_error) ++wrong;
        }, asio::detached);
        asio::co_spawn(ex, [&, st]() -> Task<void> {
          auto r = co_await st->write_all(big);
          ++writes_done;
          if (r.code() != errc::io_error) ++wrong;
        }, asio::detached);
      }
    }
    for (int k = 0; k < 5; ++k) {
      asio::co_spawn(ex, [&]() -> Task<void> {
        auto r = co_await p.client->accept_stream();
        ++accepts_done;
        if (r.code() != errc::io_error) ++wrong;
      }, asio::detached);
    }
    co_await delay(20ms);
    EXPECT_EQ(reads_done + writes_done + accepts_done, 0);
    for (auto& s : streams) EXPECT_EQ(s->queued_writers(), std::size_t{kPerStream});
    p.client->abort(Error{errc::io_error, "test abort"});
    p.client->abort(Error{errc::timed_out, "ignored second abort"});
    asio::co_spawn(ex, [&]() -> Task<void> {
      auto r = co_await p.client->ping();
      ++pings_done;
      if (r.code() != errc::io_error) ++wrong;
    }, asio::detached);
    co_await p.client->wait_closed();
    co_await p.server->wait_closed();  // the pipe was aborted under it
    CO_ASSERT_TRUE(co_await eventually([&] {
      return reads_done == kStreams * kPerStream && writes_done == kStreams * kPerStream &&
             accepts_done == 5 && pings_done == 1;
    }));
    EXPECT_EQ(p.client->failure().code, errc::io_error);
    EXPECT_EQ(p.client->failure().detail, "test abort");
    EXPECT_FALSE(p.server->is_open());
    co_await delay(20ms);  // nothing completes a second time
  });
  EXPECT_EQ(reads_done, kStreams * kPerStream);
  EXPECT_EQ(writes_done, kStreams * kPerStream);
  EXPECT_EQ(accepts_done, 5);
  EXPECT_EQ(pings_done, 1);
  EXPECT_EQ(wrong, 0);
}

TEST(YamuxSessionEnd, NothingIsLeftAfterWaitClosed) {
  Harness h;
  std::weak_ptr<YamuxSession> weak_client, weak_server;
  std::weak_ptr<YamuxStream> weak_stream;
  {
    SessionPair p(h);
    weak_client = p.client;
    weak_server = p.server;
    h.run([&]() -> Task<void> {
      auto c = co_await p.client->open_stream();
      CO_ASSERT_OK(c);
      weak_stream = *c;
      CO_ASSERT_OK(co_await (*c)->write_all(as_bytes("data")));
      CO_ASSERT_OK(co_await p.server->accept_stream());
    });
  }  // aborts both and waits for wait_closed
  EXPECT_TRUE(weak_client.expired());
  EXPECT_TRUE(weak_server.expired());
  EXPECT_TRUE(weak_stream.expired());
  // Nothing is left on the io_context either.
  h.io().restart();
  EXPECT_EQ(h.io().poll(), 0u);
}

TEST(YamuxPing, MeasuresRoundTrips) {
  Harness h;
  SessionPair p(h);
  h.run([&]() -> Task<void> {
    auto rtt = co_await p.client->ping();
    CO_ASSERT_OK(rtt);
    EXPECT_GT(rtt->count(), 0);
    int ok = 0;
    auto one = [&]() -> Task<void> {
      auto r = co_await p.server->ping();
      if (r.ok()) ++ok;
    };
    co_await (one() && one() && one() && one() && one());
    EXPECT_EQ(ok, 5);
    EXPECT_GT(p.server->rtt().count(), 0);
  });
}

TEST(YamuxKeepalive, PingsKeepTheSessionAlive) {
  YamuxConfig cfg;
  cfg.keepalive_interval = 10ms;
  cfg.keepalive_timeout = 2s;
  Harness h;
  SessionPair p(h, cfg, cfg);
  h.run([&]() -> Task<void> {
    co_await delay(300ms);
    EXPECT_TRUE(p.client->is_open());
    EXPECT_TRUE(p.server->is_open());
    EXPECT_GT(p.client->rtt().count(), 0);
    CO_ASSERT_OK(co_await p.client->open_stream());
  });
}

TEST(YamuxTcp, LargeTransferOverLoopback) {
  Harness h;
  asio::ip::tcp::acceptor acceptor(h.io(), {asio::ip::address_v4::loopback(), 0});
  asio::ip::tcp::socket a(h.io()), b(h.io());
  a.connect(acceptor.local_endpoint());
  acceptor.accept(b);
  auto client = YamuxSession::create(h.strand(), std::make_unique<TcpChannel>(std::move(a)), true);
  auto server = YamuxSession::create(h.strand(), std::make_unique<TcpChannel>(std::move(b)), false);
  client->start();
  server->start();
  constexpr std::size_t kSize = 64 << 20;
  const Bytes chunk = pattern(1 << 20, 11);
  h.run([&]() -> Task<void> {
    auto c = co_await client->open_stream();
    CO_ASSERT_OK(c);
    auto w = [&]() -> Task<void> {
      for (std::size_t sent = 0; sent < kSize; sent += chunk.size()) {
        EXPECT_TRUE((co_await (*c)->write_all(chunk)).ok());
      }
      EXPECT_TRUE((co_await (*c)->close_write()).ok());
    };
    auto r = [&]() -> Task<void> {
      auto s = co_await server->accept_stream();
      EXPECT_TRUE(s.ok());
      if (!s.ok()) co_return;
      Bytes buf(256 * 1024);
      std::size_t got = 0;
      bool same = true;
      while (true) {
        auto n = co_await (*s)->read_some(buf);
        if (!n) {
          EXPECT_EQ(n.code(), errc::eof);
          break;
        }
        for (std::size_t i = 0; i < *n; ++i) {
          same = same && buf[i] == chunk[(got + i) % chunk.size()];
        }
        got += *n;
      }
      EXPECT_EQ(got, kSize);
      EXPECT_TRUE(same);
    };
    const auto t0 = std::chrono::steady_clock::now();
    co_await (w() && r());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[ yamux    ] 64 MiB over loopback TCP in %.3f s (%.0f MB/s)\n", secs,
                kSize / secs / 1e6);
    auto st = co_await client->close();
    EXPECT_TRUE(st.ok()) << st.error().message();
    co_await server->wait_closed();
  });
  h.shutdown({client, server});
}
