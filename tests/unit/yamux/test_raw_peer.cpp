// A YamuxSession against a hand-driven peer writing raw frames: exact wire
// behaviour (lazy ACK, SYN window updates, pings, GoAway, windows) and every
// class of malformed input.
#include <gtest/gtest.h>

#include <optional>

#include "yamux_test_util.hpp"

using namespace weft;
using namespace weft::test;
using namespace std::chrono_literals;
using yamux::FrameType;
namespace flag = weft::yamux::flag;

namespace {

// Feeds `input`, expects the session to fail with a protocol error whose
// detail contains `what`, and GoAway(protocol error) on the wire.
void expect_protocol_error(Bytes input, std::string_view what, bool session_is_client = false) {
  Harness h;
  RawPeer p(h, session_is_client);
  h.run([&]() -> Task<void> {
    co_await p.send(input);
    co_await p.session->wait_closed();
    EXPECT_EQ(p.session->failure().code, errc::protocol_error);
    EXPECT_NE(p.session->failure().detail.find(what), std::string::npos)
        << "detail: " << p.session->failure().detail << "\nwanted: " << what;
    bool saw_goaway = false;
    while (true) {
      auto f = co_await read_frame(*p.raw);
      if (!f) break;  // EOF after the GoAway
      if (f->h.frame_type() == FrameType::go_away) {
        saw_goaway = true;
        EXPECT_EQ(f->h.length, 1u);
        EXPECT_EQ(f->h.stream_id, 0u);
      }
    }
    EXPECT_TRUE(saw_goaway);
  });
}

}  // namespace

TEST(YamuxMalformed, BadVersion) {
  Bytes f = syn(1);
  f[0] = 1;
  expect_protocol_error(f, "unsupported version 1");
}

TEST(YamuxMalformed, UnknownType) {
  Bytes f = frame(FrameType::data, 0, 0, 0);
  f[1] = 4;
  expect_protocol_error(f, "unknown frame type 4");
}

TEST(YamuxMalformed, ShortHeaderThenEof) {
  Harness h;
  RawPeer p(h, false);
  const Bytes partial(3, 0);
  h.run([&]() -> Task<void> {
    co_await p.send(partial);
    CO_ASSERT_OK(co_await p.raw->close_write());
    co_await p.session->wait_closed();
    EXPECT_EQ(p.session->failure().code, errc::protocol_error);
    EXPECT_NE(p.session->failure().detail.find("3 of 12 header bytes"), std::string::npos)
        << p.session->failure().detail;
  });
}

TEST(YamuxMalformed, PayloadCutByEof) {
  Harness h;
  RawPeer p(h, false);
  h.run([&]() -> Task<void> {
    co_await p.send(cat(syn(1), frame(FrameType::data, 0, 1, 100), Bytes(40, 'x')));
    CO_ASSERT_OK(co_await p.raw->close_write());
    co_await p.session->wait_closed();
    EXPECT_EQ(p.session->failure().code, errc::protocol_error);
    EXPECT_NE(p.session->failure().detail.find("60 payload bytes missing"), std::string::npos)
        << p.session->failure().detail;
  });
}

TEST(YamuxMalformed, CleanEofEndsSessionAsClosed) {
  Harness h;
  RawPeer p(h, false);
  h.run([&]() -> Task<void> {
    std::optional<Result<std::shared_ptr<YamuxStream>>> acc;
    asio::co_spawn(co_await asio::this_coro::executor,
                   [&]() -> Task<void> { acc = co_await p.session->accept_stream(); },
                   asio::detached);
    CO_ASSERT_OK(co_await p.raw->close_write());
    co_await p.session->wait_closed();
    EXPECT_EQ(p.session->failure().code, errc::closed);
    CO_ASSERT_TRUE(co_await eventually([&] { return acc.has_value(); }));
    EXPECT_EQ(acc->code(), errc::closed);
  });
}

TEST(YamuxMalformed, DataBeyondReceiveWindow) {
  // The header alone is enough: the session must not wait for the payload.
  expect_protocol_error(cat(syn(1), frame(FrameType::data, 0, 1, 256 * 1024 + 1)),
                        "exceeds the receive window of stream 1");
}

TEST(YamuxMalformed, SynWithDataBeyondDefaultWindow) {
  expect_protocol_error(frame(FrameType::data, flag::syn, 1, 0x7fffffff),
                        "exceeds the receive window");
}

TEST(YamuxMalformed, OversizedLengthForAGoneStream) {
  // Stream 1 is opened and reset by the peer; a later huge frame for it
  // cannot be a legitimate in-flight frame.
  expect_protocol_error(cat(syn(1), frame(FrameType::window_update, flag::rst, 1, 0),
                             frame(FrameType::data, 0, 1, 0xffffffff)),
                        "exceeds the largest window we grant");
}

TEST(YamuxMalformed, SynWithOurParity) {
  expect_protocol_error(syn(2), "SYN for stream 2, an id of our parity");
  expect_protocol_error(syn(1), "SYN for stream 1, an id of our parity", /*session_is_client=*/true);
}

TEST(YamuxMalformed, DuplicateSyn) {
  expect_protocol_error(cat(syn(1), syn(1)), "duplicate SYN for open stream 1");
}

TEST(YamuxWire, SynsMayArriveOutOfOrder) {
  // Ids are allocated in order but may be sent from concurrent tasks.
  Harness h;
  RawPeer p(h, false);
  h.run([&]() -> Task<void> {
    co_await p.send(cat(syn(5), syn(3), data(3, "x")));
    auto first = co_await p.session->accept_stream();
    CO_ASSERT_OK(first);
    auto second = co_await p.session->accept_stream();
    CO_ASSERT_OK(second);
    EXPECT_EQ((*first)->id(), 5u);
    EXPECT_EQ((*second)->id(), 3u);
    Bytes one(1);
    CO_ASSERT_OK(co_await (*second)->read_exact(one));
    EXPECT_EQ(as_string_view(one), "x");
  });
}

TEST(YamuxMalformed, FrameForStreamNeverOpened) {
  expect_protocol_error(data(7, "hi"), "for a stream that was never opened");
  expect_protocol_error(frame(FrameType::window_update, flag::ack, 9, 0),
                        "for a stream that was never opened");
  // Our parity: a stream we never opened either.
  expect_protocol_error(frame(FrameType::window_update, 0, 4, 10),
                        "for a stream that was never opened");
}

TEST(YamuxMalformed, StreamFrameOnStreamZero) {
  expect_protocol_error(frame(FrameType::window_update, 0, 0, 5), "reserved for the session");
  expect_protocol_error(frame(FrameType::data, 0, 0, 0), "reserved for the session");
}

TEST(YamuxMalformed, WindowOverflow) {
  expect_protocol_error(cat(syn(1), frame(FrameType::window_update, 0, 1, 0xffffffff)),
                        "overflows the send window");
}

TEST(YamuxMalformed, DataAfterFin) {
  expect_protocol_error(cat(frame(FrameType::window_update, flag::syn | flag::fin, 1, 0), data(1, "late")),
                        "data after FIN on stream 1");
}

TEST(YamuxMalformed, PingEdgeCases) {
  expect_protocol_error(frame(FrameType::ping, flag::syn, 3, 1), "not on stream 0");
  expect_protocol_error(frame(FrameType::ping, 0, 0, 1), "exactly one of SYN and ACK");
  expect_protocol_error(frame(FrameType::ping, flag::syn | flag::ack, 0, 1),
                        "exactly one of SYN and ACK");
}

TEST(YamuxMalformed, GoAwayEdgeCases) {
  expect_protocol_error(frame(FrameType::go_away, 0, 1, 0), "not on stream 0");
  expect_protocol_error(frame(FrameType::go_away, 0, 0, 9), "GoAway with unknown code 9");
}

TEST(YamuxMalformed, RemoteGoAwayWithErrorEndsSession) {
  for (std::uint32_t code : {1u, 2u}) {
    Harness h;
    RawPeer p(h, false);
    h.run([&]() -> Task<void> {
      co_await p.send(frame(FrameType::go_away, 0, 0, code));
      co_await p.session->wait_closed();
      EXPECT_EQ(p.session->failure().code, code == 1 ? errc::protocol_error : errc::reset);
      // We do not answer a GoAway with another one.
      auto f = co_await read_frame(*p.raw);
      EXPECT_EQ(f.code(), errc::eof);
    });
  }
}

TEST(YamuxWire, InboundStreamIsAckedLazilyOnAccept) {
  Harness h;
  RawPeer p(h, false);
  h.run([&]() -> Task<void> {
    co_await p.send(cat(syn(1), data(1, "hi")));
    co_await delay(5ms);
    EXPECT_EQ(p.unread(), 0u);  // no ACK before the application accepts
    auto s = co_await p.session->accept_stream();
    CO_ASSERT_OK(s);
    auto ack = co_await read_frame(*p.raw);
    CO_ASSERT_OK(ack);
    EXPECT_EQ(ack->h.frame_type(), FrameType::window_update);
    EXPECT_EQ(ack->h.flags, flag::ack);
    EXPECT_EQ(ack->h.stream_id, 1u);
    EXPECT_EQ(ack->h.length, 0u);
    Bytes two(2);
    CO_ASSERT_OK(co_await (*s)->read_exact(two));
    EXPECT_EQ(as_string_view(two), "hi");
    CO_ASSERT_OK(co_await (*s)->write_all(as_bytes("yo")));
    auto d = co_await read_frame(*p.raw);
    CO_ASSERT_OK(d);
    EXPECT_EQ(d->h.frame_type(), FrameType::data);
    EXPECT_EQ(d->h.flags, 0);  // the ACK went out once, never again
    EXPECT_EQ(as_string_view(d->payload), "yo");
    CO_ASSERT_OK(co_await (*s)->close_write());
    auto fin = co_await read_frame(*p.raw);
    CO_ASSERT_OK(fin);
    EXPECT_EQ(fin->h.frame_type(), FrameType::window_update);
    EXPECT_EQ(fin->h.flags, flag::fin);
  });
}

TEST(YamuxWire, AckCarriesLargerInitialWindow) {
  Harness h;
  YamuxConfig cfg = quiet_config();
  cfg.initial_window = 1 << 20;
  RawPeer p(h, false, cfg);
  h.run([&]() -> Task<void> {
    co_await p.send(syn(1));
    CO_ASSERT_OK(co_await p.session->accept_stream());
    auto ack = co_await read_frame(*p.raw);
    CO_ASSERT_OK(ack);
    EXPECT_EQ(ack->h.flags, flag::ack);
    EXPECT_EQ(ack->h.length, (1u << 20) - 256 * 1024);
    // The peer may now send the whole 1 MiB in one frame.
    Bytes big = pattern(1 << 20, 1);
    co_await p.send(cat(frame(FrameType::data, 0, 1, 1 << 20), big));
    EXPECT_TRUE(p.session->is_open());
  });
}

TEST(YamuxWire, OutboundStreamOpensWithSynWindowUpdate) {
  Harness h;
  RawPeer p(h, true);
  h.run([&]() -> Task<void> {
    auto s = co_await p.session->open_stream();
    CO_ASSERT_OK(s);
    auto f = co_await read_frame(*p.raw);
    CO_ASSERT_OK(f);
    EXPECT_EQ(f->h.frame_type(), FrameType::window_update);
    EXPECT_EQ(f->h.flags, flag::syn);
    EXPECT_EQ(f->h.stream_id, 1u);
    EXPECT_EQ(f->h.length, 0u);
    CO_ASSERT_OK(co_await (*s)->write_all(as_bytes("x")));
    auto d = co_await read_frame(*p.raw);
    CO_ASSERT_OK(d);
    EXPECT_EQ(d->h.flags, 0);
    // The peer's ACK is taken without any answer.
    co_await p.send(frame(FrameType::window_update, flag::ack, 1, 0));
    co_await delay(5ms);
    EXPECT_EQ(p.unread(), 0u);
    EXPECT_TRUE(p.session->is_open());
  });
}

TEST(YamuxWire, SendWindowIsRespectedAndLargeIncrementsAccepted) {
  Harness h;
  RawPeer p(h, true);
  h.run([&]() -> Task<void> {
    auto ex = co_await asio::this_coro::executor;
    auto s = *(co_await p.session->open_stream());
    CO_ASSERT_OK(co_await read_frame(*p.raw));  // SYN
    const Bytes payload = pattern(300 * 1024, 2);
    std::optional<Status> w;
    asio::co_spawn(ex, [&]() -> Task<void> { w = co_await s->write_all(payload); }, asio::detached);
    std::size_t got = 0;
    Bytes received;
    while (got < 256 * 1024) {
      auto f = co_await read_frame(*p.raw);
      CO_ASSERT_OK(f);
      EXPECT_LE(f->h.length, 256u * 1024);
      got += f->payload.size();
      append(received, f->payload);
    }
    EXPECT_EQ(got, 256u * 1024);
    co_await delay(5ms);
    EXPECT_EQ(p.unread(), 0u);  // window exhausted: nothing more
    EXPECT_FALSE(w.has_value());
    // A js-style jump straight to a 16 MiB window.
    co_await p.send(frame(FrameType::window_update, flag::ack, 1, 16 * 1024 * 1024 - 256 * 1024));
    while (got < payload.size()) {
      auto f = co_await read_frame(*p.raw);
      CO_ASSERT_OK(f);
      got += f->payload.size();
      append(received, f->payload);
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return w.has_value(); }));
    EXPECT_TRUE(w->ok());
    EXPECT_TRUE(received == payload);
    // 4 MiB more goes out without further window updates, in frames of at
    // most max_frame_payload.
    CO_ASSERT_OK(co_await s->write_all(pattern(4 << 20, 3)));
    std::size_t more = 0;
    while (more < (4u << 20)) {
      auto f = co_await read_frame(*p.raw);
      CO_ASSERT_OK(f);
      EXPECT_LE(f->h.length, 256u * 1024);
      more += f->payload.size();
    }
  });
}

TEST(YamuxWire, WindowUpdateAfterHalfTheWindowIsRead) {
  Harness h;
  YamuxConfig cfg = quiet_config();
  cfg.window_growth_rtt_factor = 0;
  RawPeer p(h, false, cfg);
  h.run([&]() -> Task<void> {
    co_await p.send(cat(syn(1), frame(FrameType::data, 0, 1, 256 * 1024), pattern(256 * 1024, 4)));
    auto s = *(co_await p.session->accept_stream());
    CO_ASSERT_OK(co_await read_frame(*p.raw));  // ACK
    Bytes buf(100 * 1024);
    CO_ASSERT_OK(co_await s->read_exact(buf));
    co_await delay(2ms);
    EXPECT_EQ(p.unread(), 0u);  // 100 KiB read: less than half, no update yet
    Bytes rest(28 * 1024);  // 128 KiB read in all: half the window
    CO_ASSERT_OK(co_await s->read_exact(rest));
    auto wu = co_await read_frame(*p.raw);
    CO_ASSERT_OK(wu);
    EXPECT_EQ(wu->h.frame_type(), FrameType::window_update);
    EXPECT_EQ(wu->h.flags, 0);
    EXPECT_EQ(wu->h.length, 128u * 1024);
  });
}

TEST(YamuxWire, RefusedStreamIsResetAndItsFramesDropped) {
  Harness h;
  YamuxConfig cfg = quiet_config();
  cfg.max_streams = 1;
  RawPeer p(h, false, cfg);
  h.run([&]() -> Task<void> {
    co_await p.send(cat(syn(1), syn(3), data(3, "dropped")));
    auto rst = co_await read_frame(*p.raw);
    CO_ASSERT_OK(rst);
    EXPECT_EQ(rst->h.frame_type(), FrameType::window_update);
    EXPECT_EQ(rst->h.flags, flag::rst);
    EXPECT_EQ(rst->h.stream_id, 3u);
    co_await p.send(cat(data(3, "more"), frame(FrameType::window_update, 0, 3, 10), data(1, "ok")));
    auto s = co_await p.session->accept_stream();
    CO_ASSERT_OK(s);
    Bytes two(2);
    CO_ASSERT_OK(co_await (*s)->read_exact(two));
    EXPECT_EQ(as_string_view(two), "ok");
    EXPECT_TRUE(p.session->is_open());
    EXPECT_EQ(p.session->stats().streams_refused, 1u);
  });
}

TEST(YamuxWire, DataSplitAcrossReadsAndManyFramesPerRead) {
  Harness h;
  YamuxConfig cfg = quiet_config();
  cfg.read_buffer_size = 4096;  // frames straddle reads
  RawPeer p(h, false, cfg);
  h.run([&]() -> Task<void> {
    Bytes wire = syn(1);
    Bytes want;
    for (int i = 0; i < 200; ++i) {
      Bytes chunk = pattern(static_cast<std::size_t>(i * 37 % 1500), static_cast<std::uint32_t>(i));
      append(wire, frame(FrameType::data, 0, 1, static_cast<std::uint32_t>(chunk.size()), chunk));
      append(want, chunk);
    }
    append(wire, frame(FrameType::data, flag::fin, 1, 0));
    // Feed in odd-sized pieces.
    for (std::size_t off = 0; off < wire.size(); off += 1001) {
      co_await p.send(Bytes(wire.begin() + static_cast<std::ptrdiff_t>(off),
                            wire.begin() + static_cast<std::ptrdiff_t>(std::min(wire.size(), off + 1001))));
    }
    auto s = co_await p.session->accept_stream();
    CO_ASSERT_OK(s);
    auto got = co_await read_to_end(**s, 333);
    CO_ASSERT_OK(got);
    EXPECT_TRUE(*got == want);
  });
}

// The reader takes input as views of the connection's buffer and keeps no
// buffer of its own: a frame header cut at any byte is put together.
TEST(YamuxWire, HeadersCutAtEveryByte) {
  Harness h;
  RawPeer p(h, false, quiet_config());
  h.run([&]() -> Task<void> {
    Bytes wire = syn(1);
    Bytes want;
    for (int i = 0; i < 5; ++i) {
      Bytes chunk = pattern(static_cast<std::size_t>(3 + i), static_cast<std::uint32_t>(i));
      append(wire, frame(FrameType::data, 0, 1, static_cast<std::uint32_t>(chunk.size()), chunk));
      append(want, chunk);
    }
    append(wire, frame(FrameType::data, flag::fin, 1, 0));
    for (std::size_t i = 0; i < wire.size(); ++i) {  // one byte per read
      const Bytes one(wire.begin() + static_cast<std::ptrdiff_t>(i),
                      wire.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      co_await p.send(one);
      // Let the session read it before the next byte arrives.
      auto ex = co_await asio::this_coro::executor;
      for (int k = 0; k < 3; ++k) co_await asio::post(ex, asio::use_awaitable);
    }
    auto s = co_await p.session->accept_stream();
    CO_ASSERT_OK(s);
    auto got = co_await read_to_end(**s, 333);
    CO_ASSERT_OK(got);
    EXPECT_TRUE(*got == want);
  });
}

// A window update sent while a data frame is still arriving must not credit
// the part of that frame not yet received: the sender would then exceed our
// window by that much (found with a 1 MiB echo between two weft nodes).
TEST(YamuxWire, WindowUpdateMidFrameCreditsOnlyWhatWasRead) {
  Harness h;
  RawPeer p(h, false);
  h.run([&]() -> Task<void> {
    constexpr std::uint32_t kFrame = 256 * 1024;
    constexpr std::size_t kFirst = 200 * 1024;
    const Bytes payload = pattern(kFrame, 7);
    co_await p.send(syn(1));
    // The header and the first 200 KiB of one 256 KiB data frame.
    Bytes head = frame(FrameType::data, 0, 1, kFrame);
    append(head, BytesView(payload).first(kFirst));
    co_await p.send(head);
    auto s = co_await p.session->accept_stream();
    EXPECT_TRUE(s.ok());
    if (!s.ok()) co_return;
    Bytes got(kFirst);
    auto st = co_await (*s)->read_exact(got);
    EXPECT_TRUE(st.ok());
    EXPECT_TRUE(std::equal(got.begin(), got.end(), payload.begin()));
    // Whatever window credit the session granted so far covers only bytes read.
    // (Expected on the wire: the ACK on accept, then one window update.)
    EXPECT_TRUE(co_await eventually([&] { return p.unread() >= 2 * yamux::kHeaderSize; }));
    std::uint64_t credited = 0;
    while (p.unread() > 0) {
      auto f = co_await read_frame(*p.raw);
      if (!f) break;
      if (f->h.frame_type() == FrameType::window_update && f->h.stream_id == 1) credited += f->h.length;
    }
    EXPECT_GT(credited, 0u);
    EXPECT_LE(credited, kFirst);
    // The rest of the frame arrives and is read; the total credit is then exactly what was read.
    co_await p.send(Bytes(payload.begin() + kFirst, payload.end()));
    Bytes rest(kFrame - kFirst);
    st = co_await (*s)->read_exact(rest);
    EXPECT_TRUE(st.ok());
    co_await delay(std::chrono::milliseconds{20});
    while (p.unread() > 0) {
      auto f = co_await read_frame(*p.raw);
      if (!f) break;
      if (f->h.frame_type() == FrameType::window_update && f->h.stream_id == 1) credited += f->h.length;
    }
    EXPECT_LE(credited, kFrame);
  });
}
