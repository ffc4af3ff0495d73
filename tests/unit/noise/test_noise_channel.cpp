// NoiseChannel: the encrypted transport after the handshake.
#include <gtest/gtest.h>

#include <random>

#include "crypto/keys.hpp"
#include "noise/noise.hpp"
#include "noise/noise_channel.hpp"
#include "noise_test_util.hpp"

using namespace weft;
using namespace std::chrono_literals;
using noise::CipherState;
using noise::NoiseChannel;
using weft::test::read_to_end;
using weft::test::spawn;
using weft::test::tcp_pair;

namespace {

struct SecurePair {
  std::unique_ptr<ByteChannel> initiator;
  std::unique_ptr<ByteChannel> responder;
  weft::test::ProxyChannel* initiator_proxy = nullptr;  // raw side of the initiator
};

SecurePair secure_pair(asio::io_context& io) {
  Identity a = Identity::generate();
  Identity b = Identity::generate();
  auto [dialer, listener] = tcp_pair(io);
  auto proxy = std::make_unique<weft::test::ProxyChannel>(std::move(dialer));
  auto* proxy_ptr = proxy.get();
  auto ri = spawn(io, noise_handshake(std::move(proxy), a, true, nullptr, NoiseConfig{}));
  auto rr = spawn(io, noise_handshake(std::move(listener), b, false, nullptr, NoiseConfig{}));
  weft::test::run(io);
  EXPECT_TRUE(ri->has_value() && (*ri)->ok());
  EXPECT_TRUE(rr->has_value() && (*rr)->ok());
  return {std::move((**ri)->channel), std::move((**rr)->channel), proxy_ptr};
}

Bytes pseudo_random(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

// A NoiseChannel with known keys on one end of a TCP pair, and the raw other
// end with the matching ciphers, for hand-crafted frames.
struct CraftedPair {
  std::unique_ptr<NoiseChannel> channel;
  std::unique_ptr<ByteChannel> raw;
  CipherState to_channel;    // encrypts what the channel will decrypt
  CipherState from_channel;  // decrypts what the channel sends
};

CraftedPair crafted_pair(asio::io_context& io, std::uint64_t first_nonce = 0) {
  noise::Key k1{}, k2{};
  k1[0] = 1;
  k2[0] = 2;
  auto [a, b] = tcp_pair(io);
  CraftedPair p{std::make_unique<NoiseChannel>(std::move(a), CipherState(k1), CipherState(k2)),
                std::move(b), CipherState(k2), CipherState(k1)};
  return p;
}

Bytes frame(CipherState& cs, BytesView plaintext) {
  const std::size_t len = plaintext.size() + noise::kTagLen;
  Bytes f(2 + len);
  f[0] = static_cast<std::uint8_t>(len >> 8);
  f[1] = static_cast<std::uint8_t>(len);
  EXPECT_TRUE(cs.encrypt_with_ad({}, plaintext, MutableBytesView(f).subspan(2)).ok());
  return f;
}

}  // namespace

TEST(NoiseChannel, LargeTransferBothWays) {
  asio::io_context io;
  SecurePair p = secure_pair(io);
  const Bytes up = pseudo_random(8 * 1024 * 1024 + 12345, 1);
  const Bytes down = pseudo_random(5 * 1024 * 1024 + 7, 2);

  auto writer = [](ByteChannel& ch, const Bytes& data, unsigned seed) -> Task<void> {
    std::mt19937 rng(seed);
    std::size_t off = 0;
    while (off < data.size()) {
      const std::size_t n = std::min<std::size_t>(data.size() - off, 1 + rng() % (1 << 20));
      EXPECT_TRUE((co_await ch.write_all(BytesView(data).subspan(off, n))).ok());
      off += n;
    }
    EXPECT_TRUE((co_await ch.close_write()).ok());
  };
  auto w1 = spawn(io, writer(*p.initiator, up, 3));
  auto w2 = spawn(io, writer(*p.responder, down, 4));
  auto r1 = spawn(io, read_to_end(*p.responder, 65536));
  auto r2 = spawn(io, read_to_end(*p.initiator, 1000));  // small reads: partial copy-out
  weft::test::run(io);
  ASSERT_TRUE(*w1 && *w2 && r1->has_value() && r2->has_value());
  EXPECT_EQ((*r1)->second, errc::eof);
  EXPECT_EQ((*r2)->second, errc::eof);
  EXPECT_TRUE((*r1)->first == up);
  EXPECT_TRUE((*r2)->first == down);
}

TEST(NoiseChannel, FramesOnTheWireAreBounded) {
  asio::io_context io;
  SecurePair p = secure_pair(io);
  std::vector<Bytes> batches;
  p.initiator_proxy->on_write = [&](Bytes& b) { batches.push_back(b); };
  const Bytes data = pseudo_random(1024 * 1024, 5);
  auto send_all = [&]() -> Task<void> {
    EXPECT_TRUE((co_await p.initiator->write_all(data)).ok());
    EXPECT_TRUE((co_await p.initiator->close_write()).ok());
  };
  auto w = spawn(io, send_all());
  auto r = spawn(io, read_to_end(*p.responder));
  weft::test::run(io);
  ASSERT_TRUE(r->has_value());
  EXPECT_TRUE((*r)->first == data);
  // Batches of whole frames, each at most 65535 bytes of ciphertext.
  std::size_t frames = 0, plaintext = 0;
  for (const Bytes& b : batches) {
    EXPECT_LE(b.size(), NoiseChannel::kSendBufferSize);
    std::size_t pos = 0;
    while (pos < b.size()) {
      ASSERT_GE(b.size() - pos, 2u);
      const std::size_t len = static_cast<std::size_t>(b[pos]) << 8 | b[pos + 1];
      EXPECT_GE(len, noise::kTagLen);
      pos += 2 + len;
      plaintext += len - noise::kTagLen;
      ++frames;
    }
    EXPECT_EQ(pos, b.size());
  }
  EXPECT_EQ(plaintext, data.size());
  EXPECT_EQ(frames, (data.size() + NoiseChannel::kMaxFramePlaintext - 1) /
                        NoiseChannel::kMaxFramePlaintext);
  EXPECT_LT(batches.size(), frames);  // several frames per raw write
}

TEST(NoiseChannel, ManySmallWrites) {
  asio::io_context io;
  SecurePair p = secure_pair(io);
  Bytes expected;
  auto send_small = [&]() -> Task<void> {
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
      Bytes msg(1 + rng() % 64, static_cast<std::uint8_t>(i));
      append(expected, msg);
      auto st = co_await p.responder->write_all(msg);
      EXPECT_TRUE(st.ok());
      if (!st) break;
    }
    EXPECT_TRUE((co_await p.responder->close_write()).ok());
  };
  auto w = spawn(io, send_small());
  auto r = spawn(io, read_to_end(*p.initiator, 4096));
  weft::test::run(io);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->second, errc::eof);
  EXPECT_TRUE((*r)->first == expected);
}

TEST(NoiseChannel, ConcurrentWritersAreSerialised) {
  asio::io_context io;
  SecurePair p = secure_pair(io);
  constexpr std::size_t kBlock = 300 * 1000;  // several frames and batches per write
  constexpr int kWriters = 4, kBlocksEach = 3;
  int finished = 0;
  // The lambda outlives its coroutines; each writer's id is a parameter,
  // copied into its coroutine frame.
  auto writer = [&](int w) -> Task<void> {
    Bytes block(kBlock, static_cast<std::uint8_t>('a' + w));
    for (int i = 0; i < kBlocksEach; ++i)
      EXPECT_TRUE((co_await p.initiator->write_all(block)).ok());
    if (++finished == kWriters) EXPECT_TRUE((co_await p.initiator->close_write()).ok());
  };
  for (int w = 0; w < kWriters; ++w) spawn(io, writer(w));
  auto r = spawn(io, read_to_end(*p.responder));
  weft::test::run(io);
  ASSERT_TRUE(r->has_value());
  const Bytes& all = (*r)->first;
  ASSERT_EQ(all.size(), kBlock * kWriters * kBlocksEach);
  for (std::size_t off = 0; off < all.size(); off += kBlock) {
    const std::uint8_t v = all[off];
    EXPECT_TRUE(std::all_of(all.begin() + static_cast<std::ptrdiff_t>(off),
                            all.begin() + static_cast<std::ptrdiff_t>(off + kBlock),
                            [v](std::uint8_t x) { return x == v; }))
        << "block at " << off << " is interleaved";
  }
}

TEST(NoiseChannel, TamperedCiphertextFailsTheReadSide) {
  asio::io_context io;
  SecurePair p = secure_pair(io);
  p.initiator_proxy->on_write = [](Bytes& b) { b[b.size() / 2] ^= 0x01; };
  const Bytes payload(1000, 0x55);  // outlives the write task, which starts later
  auto w = spawn(io, p.initiator->write_all(payload));
  auto read_tampered = [&]() -> Task<void> {
    Bytes buf(1000);
    auto n = co_await p.responder->read_some(buf);
    EXPECT_EQ(n.code(), errc::crypto_error);
    if (!n.ok()) EXPECT_NE(n.error().detail.find("authentication"), std::string::npos);
    // The failure sticks.
    EXPECT_EQ((co_await p.responder->read_some(buf)).code(), errc::crypto_error);
  };
  auto r = spawn(io, read_tampered());
  weft::test::run(io);
  EXPECT_TRUE(*r);
}

TEST(NoiseChannel, EmptyFramesAreSkipped) {
  asio::io_context io;
  auto p = crafted_pair(io);
  Bytes wire = frame(p.to_channel, {});
  append(wire, frame(p.to_channel, {}));
  append(wire, frame(p.to_channel, as_bytes("abc")));
  auto read_crafted = [&]() -> Task<void> {
    EXPECT_TRUE((co_await p.raw->write_all(wire)).ok());
    Bytes buf(10);
    auto n = co_await p.channel->read_some(buf);
    EXPECT_TRUE(n.ok());
    if (!n) co_return;
    EXPECT_EQ(as_string_view(BytesView(buf).first(*n)), "abc");
  };
  auto r = spawn(io, read_crafted());
  weft::test::run(io);
  EXPECT_TRUE(*r);
}

TEST(NoiseChannel, BadFramesAndEndsOfStream) {
  struct Case {
    const char* name;
    std::function<Bytes(CipherState&)> wire;
    errc expected;
    std::size_t data_before_error;
  };
  const Case cases[] = {
      {"clean end", [](CipherState& cs) { return frame(cs, as_bytes("xy")); }, errc::eof, 2},
      {"truncated frame",
       [](CipherState& cs) {
         Bytes w = frame(cs, as_bytes("xy"));
         Bytes f = frame(cs, Bytes(100, 1));
         w.insert(w.end(), f.begin(), f.begin() + 50);
         return w;
       },
       errc::protocol_error, 2},
      {"half a length", [](CipherState&) { return Bytes{0x00}; }, errc::protocol_error, 0},
      {"shorter than a tag", [](CipherState&) { return Bytes{0x00, 0x0f}; },
       errc::protocol_error, 0},
      {"zero length", [](CipherState&) { return Bytes{0x00, 0x00}; }, errc::protocol_error, 0},
      {"wrong nonce",
       [](CipherState& cs) {
         cs.set_nonce(1);
         return frame(cs, as_bytes("xy"));
       },
       errc::crypto_error, 0},
  };
  for (const Case& c : cases) {
    asio::io_context io;
    auto p = crafted_pair(io);
    Bytes wire = c.wire(p.to_channel);
    auto exchange = [&]() -> Task<void> {
      EXPECT_TRUE((co_await p.raw->write_all(wire)).ok());
      EXPECT_TRUE((co_await p.raw->close_write()).ok());
      auto [data, end] = co_await read_to_end(*p.channel);
      EXPECT_EQ(data.size(), c.data_before_error) << c.name;
      EXPECT_EQ(end, c.expected) << c.name;
    };
    auto r = spawn(io, exchange());
    weft::test::run(io);
    EXPECT_TRUE(*r) << c.name;
  }
}

TEST(NoiseChannel, NonceExhaustionFailsCleanly) {
  asio::io_context io;
  noise::Key k{};
  auto [a, b] = tcp_pair(io);
  CipherState send(k), recv(k);
  send.set_nonce(CipherState::kReservedNonce - 2);
  recv.set_nonce(CipherState::kReservedNonce - 2);
  NoiseChannel writer(std::move(a), std::move(send), CipherState(k));
  NoiseChannel reader(std::move(b), CipherState(k), std::move(recv));
  auto exhaust = [&]() -> Task<void> {
    EXPECT_TRUE((co_await writer.write_all(as_bytes("one"))).ok());
    EXPECT_TRUE((co_await writer.write_all(as_bytes("two"))).ok());
    auto st = co_await writer.write_all(as_bytes("three"));
    EXPECT_EQ(st.code(), errc::crypto_error);
    EXPECT_EQ((co_await writer.write_all(as_bytes("four"))).code(), errc::crypto_error);
    Bytes buf(6);
    EXPECT_TRUE((co_await reader.read_exact(buf)).ok());
    EXPECT_EQ(as_string_view(buf), "onetwo");
    EXPECT_TRUE((co_await writer.raw_channel().close_write()).ok());
    auto [rest, end] = co_await read_to_end(reader);
    EXPECT_TRUE(rest.empty());
    EXPECT_EQ(end, errc::eof);
  };
  auto r = spawn(io, exhaust());
  weft::test::run(io);
  EXPECT_TRUE(*r);
}

TEST(NoiseChannel, AbortWakesEveryPendingOperation) {
  asio::io_context io;
  SecurePair p = secure_pair(io);
  const Bytes big(64 * 1024 * 1024, 1);  // far more than the socket buffers hold
  auto pending_read = [&]() -> Task<Result<std::size_t>> {
    Bytes buf(16);
    co_return co_await p.initiator->read_some(buf);
  };
  auto read = spawn(io, pending_read());
  auto write1 = spawn(io, p.initiator->write_all(big));
  auto write2 = spawn(io, p.initiator->write_all(as_bytes("queued")));
  auto abort_later = [&]() -> Task<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
    co_await t.async_wait(asio::use_awaitable);
    p.initiator->abort();
    p.initiator->abort();  // idempotent
  };
  auto aborter = spawn(io, abort_later());
  weft::test::run(io, 20s);
  ASSERT_TRUE(read->has_value() && write1->has_value() && write2->has_value());
  EXPECT_EQ((*read)->code(), errc::reset);
  EXPECT_EQ((*write1)->code(), errc::reset);
  EXPECT_EQ((*write2)->code(), errc::reset);
  // The remote sees the connection end with an error, not a clean close.
  auto r = spawn(io, read_to_end(*p.responder));
  weft::test::run(io, 20s);
  ASSERT_TRUE(r->has_value());
  EXPECT_NE((*r)->second, errc::eof);
}

TEST(NoiseChannel, CloseWriteAndConcurrentReads) {
  asio::io_context io;
  SecurePair p = secure_pair(io);
  auto half_close = [&]() -> Task<void> {
    EXPECT_TRUE((co_await p.initiator->write_all(as_bytes("last words"))).ok());
    EXPECT_TRUE((co_await p.initiator->close_write()).ok());
    EXPECT_TRUE((co_await p.initiator->close_write()).ok());  // idempotent
    EXPECT_EQ((co_await p.initiator->write_all(as_bytes("more"))).code(), errc::closed);
    auto [data, end] = co_await read_to_end(*p.responder);
    EXPECT_EQ(as_string_view(data), "last words");
    EXPECT_EQ(end, errc::eof);
    // The other direction still works after the half-close.
    EXPECT_TRUE((co_await p.responder->write_all(as_bytes("reply"))).ok());
    Bytes buf(5);
    EXPECT_TRUE((co_await p.initiator->read_exact(buf)).ok());
    EXPECT_EQ(as_string_view(buf), "reply");
  };
  auto r = spawn(io, half_close());
  weft::test::run(io);
  EXPECT_TRUE(*r);

  // A second read while one is pending is refused rather than corrupting
  // state (the initiator can still read: only its write side is closed).
  auto read_a = [&]() -> Task<Result<std::size_t>> {
    Bytes buf(4);
    co_return co_await p.initiator->read_some(buf);
  };
  auto first = spawn(io, read_a());
  auto read_b = [&]() -> Task<Result<std::size_t>> {
    Bytes buf(4);
    co_return co_await p.initiator->read_some(buf);
  };
  auto second = spawn(io, read_b());
  auto write_later = [&]() -> Task<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
    co_await t.async_wait(asio::use_awaitable);
    EXPECT_TRUE((co_await p.responder->write_all(as_bytes("data"))).ok());
  };
  auto writer = spawn(io, write_later());
  weft::test::run(io);
  ASSERT_TRUE(first->has_value() && second->has_value());
  EXPECT_TRUE((*first)->ok());
  EXPECT_EQ((*second)->code(), errc::busy);
}

TEST(NoiseChannel, CancelledReadCanBeRetried) {
  asio::io_context io;
  SecurePair p = secure_pair(io);
  auto cancel_then_read = [&]() -> Task<void> {
    using namespace asio::experimental::awaitable_operators;
    Bytes buf(8);
    asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
    auto v = co_await (p.responder->read_some(buf) || t.async_wait(asio::use_awaitable));
    EXPECT_EQ(v.index(), 1u);  // the deadline won; the read was cancelled
    EXPECT_TRUE((co_await p.initiator->write_all(as_bytes("after"))).ok());
    auto n = co_await p.responder->read_some(buf);
    EXPECT_TRUE(n.ok()) << n.error().message();
    if (!n) co_return;
    EXPECT_EQ(as_string_view(BytesView(buf).first(*n)), "after");
  };
  auto r = spawn(io, cancel_then_read());
  weft::test::run(io);
  EXPECT_TRUE(*r);
}

// Bulk data goes through the large pooled read buffer; once the stream turns
// to small messages the buffer goes back, and small messages are served from
// the channel's own small buffer. read_view hands out everything in order.
TEST(NoiseChannel, ReadViewAcrossSmallAndLargeBuffers) {
  asio::io_context io;
  auto p = crafted_pair(io);
  NoiseChannel& ch = *p.channel;
  std::vector<Bytes> messages;
  for (std::size_t size : {10u, 3000u, 1u, 65519u, 500000u, 2048u, 2047u, 5u, 200000u, 7u})
    messages.push_back(pseudo_random(size, static_cast<unsigned>(size)));
  auto exchange = [&]() -> Task<void> {
    for (const Bytes& m : messages) {
      // Sent as frames; the receiver reads the whole message before the next one is sent.
      for (std::size_t off = 0; off < m.size(); off += NoiseChannel::kMaxFramePlaintext) {
        const std::size_t n = std::min(m.size() - off, NoiseChannel::kMaxFramePlaintext);
        EXPECT_TRUE((co_await p.raw->write_all(frame(p.to_channel, BytesView(m).subspan(off, n)))).ok());
      }
      Bytes got;
      while (got.size() < m.size()) {
        auto view = co_await ch.read_view(1 << 20);
        EXPECT_TRUE(view.ok());
        if (!view) co_return;
        append(got, *view);
      }
      EXPECT_TRUE(got == m) << m.size();
    }
    // Idle after a small message: no large buffer is held.
    EXPECT_EQ(ch.large_buffers_held(), 0u);
    EXPECT_TRUE((co_await p.raw->close_write()).ok());
    auto end = co_await ch.read_view(100);
    EXPECT_EQ(end.code(), errc::eof);
  };
  auto done = spawn(io, exchange());
  weft::test::run(io);
  EXPECT_TRUE(*done);
}

// A frame cut across raw reads, first arriving into the small buffer, is
// put together in the large one.
TEST(NoiseChannel, FrameCutWhileInTheSmallBuffer) {
  asio::io_context io;
  auto p = crafted_pair(io);
  const Bytes message = pseudo_random(50000, 9);
  const Bytes wire = frame(p.to_channel, message);
  auto exchange = [&]() -> Task<void> {
    // 100 bytes first: the reader is in its small buffer and sees a partial frame.
    EXPECT_TRUE((co_await p.raw->write_all(BytesView(wire).first(100))).ok());
    asio::steady_timer pause(io, 20ms);
    co_await pause.async_wait(asio::use_awaitable);
    for (std::size_t off = 100; off < wire.size(); off += 7000) {
      const std::size_t n = std::min<std::size_t>(7000, wire.size() - off);
      EXPECT_TRUE((co_await p.raw->write_all(BytesView(wire).subspan(off, n))).ok());
    }
  };
  auto reader = [&]() -> Task<void> {
    Bytes got(message.size());
    EXPECT_TRUE((co_await p.channel->read_exact(got)).ok());
    EXPECT_TRUE(got == message);
  };
  auto w = spawn(io, exchange());
  auto r = spawn(io, reader());
  weft::test::run(io);
  EXPECT_TRUE(*w && *r);
}

// Staging: small pieces are gathered into shared frames, a piece that
// completes a frame is sealed from the caller's memory, and a flush writes
// everything in one raw write, in order.
TEST(NoiseChannel, StagedPiecesGoOutInOrderInFewFrames) {
  asio::io_context io;
  auto p = crafted_pair(io);
  NoiseChannel& ch = *p.channel;
  std::vector<Bytes> pieces;
  for (int i = 0; i < 100; ++i) pieces.push_back(pseudo_random(12, static_cast<unsigned>(i)));
  pieces.push_back(pseudo_random(300000, 1000));  // bulk: several frames
  for (int i = 0; i < 10; ++i) pieces.push_back(pseudo_random(40, static_cast<unsigned>(i + 50)));
  Bytes expected;
  for (const Bytes& b : pieces) {
    ch.stage(b);
    append(expected, b);
  }
  EXPECT_GE(ch.staged_size(), expected.size());
  auto flush = [&]() -> Task<void> {
    EXPECT_TRUE((co_await ch.flush_staged()).ok());
    EXPECT_EQ(ch.staged_size(), 0u);
    EXPECT_EQ(ch.large_buffers_held(), 0u);  // nothing is kept once flushed
    EXPECT_TRUE((co_await ch.close_write()).ok());
  };
  auto receive = [&]() -> Task<void> {
    Bytes plain;
    std::size_t frames = 0;
    for (;;) {
      std::uint8_t header[2];
      auto st = co_await p.raw->read_exact(header);
      if (!st) {
        EXPECT_EQ(st.code(), errc::eof);
        break;
      }
      const std::size_t len = static_cast<std::size_t>(header[0]) << 8 | header[1];
      Bytes f(len), out(len - noise::kTagLen);
      EXPECT_TRUE((co_await p.raw->read_exact(f)).ok());
      EXPECT_TRUE(p.from_channel.decrypt_with_ad({}, f, out).ok());
      append(plain, out);
      ++frames;
    }
    EXPECT_TRUE(plain == expected);
    // 1600 bytes of small pieces and 300400 of bulk: the fewest 65519-byte frames, not 111.
    EXPECT_EQ(frames, (expected.size() + NoiseChannel::kMaxFramePlaintext - 1) /
                          NoiseChannel::kMaxFramePlaintext);
  };
  auto f = spawn(io, flush());
  auto r = spawn(io, receive());
  weft::test::run(io);
  EXPECT_TRUE(*f && *r);
}

// read_ready decrypts whole frames that have arrived straight into the
// caller's buffer, as many as fit, and never waits; wait_ready waits for a
// whole frame without decrypting it.
TEST(NoiseChannel, ReadReadyDecryptsWholeFramesIntoTheCallersBuffer) {
  asio::io_context io;
  auto p = crafted_pair(io);
  NoiseChannel& ch = *p.channel;
  const Bytes a = pseudo_random(1000, 1), b = pseudo_random(2000, 2), c = pseudo_random(65519, 3);
  auto exchange = [&]() -> Task<void> {
    Bytes out(70000);
    EXPECT_EQ(ch.ready_piece(), 0u);
    EXPECT_EQ(ch.read_ready(out), 0u);  // nothing has arrived

    // Half a frame: wait_ready goes on waiting for the rest.
    const Bytes first = frame(p.to_channel, a);
    EXPECT_TRUE((co_await p.raw->write_all(BytesView(first).first(500))).ok());
    auto waiting = spawn(io, ch.wait_ready());
    asio::steady_timer pause(io, 50ms);
    co_await pause.async_wait(asio::use_awaitable);
    EXPECT_FALSE(*waiting);
    EXPECT_EQ(ch.ready_piece(), 0u);
    EXPECT_EQ(ch.read_ready(out), 0u);  // busy: wait_ready is reading
    Bytes wire(first.begin() + 500, first.end());
    append(wire, frame(p.to_channel, b));
    append(wire, frame(p.to_channel, {}));  // empty frames are skipped
    append(wire, frame(p.to_channel, c));
    EXPECT_TRUE((co_await p.raw->write_all(wire)).ok());
    while (!*waiting) {
      pause.expires_after(1ms);
      co_await pause.async_wait(asio::use_awaitable);
    }
    // The whole first frame is there; whether the others are depends on the
    // reads, so take frames until all three are out. read_ready needs room
    // for the first frame's plaintext.
    EXPECT_EQ(ch.ready_piece(), a.size());
    Bytes got;
    std::size_t n = ch.read_ready(MutableBytesView(out).first(2500));  // a fits, not a + b
    EXPECT_EQ(n, 1000u);
    append(got, BytesView(out).first(n));
    while (got.size() < a.size() + b.size() + c.size()) {
      n = ch.read_ready(out);
      if (n == 0) {
        auto st = co_await ch.wait_ready();
        EXPECT_TRUE(st.ok());
        if (!st) co_return;
        continue;
      }
      append(got, BytesView(out).first(n));
    }
    Bytes want = a;
    append(want, b);
    append(want, c);
    EXPECT_TRUE(got == want);

    // A frame larger than the buffer is left for the next read, whole.
    EXPECT_TRUE((co_await p.raw->write_all(frame(p.to_channel, c))).ok());
    auto st = co_await ch.wait_ready();
    EXPECT_TRUE(st.ok());
    EXPECT_EQ(ch.ready_piece(), c.size());
    EXPECT_EQ(ch.read_ready(MutableBytesView(out).first(65518)), 0u);
    auto view = co_await ch.read_view(10);
    EXPECT_TRUE(view.ok());
    if (!view) co_return;
    EXPECT_TRUE(Bytes(view->begin(), view->end()) == Bytes(c.begin(), c.begin() + 10));
    // The rest of a frame an earlier read decrypted is copied, in any room.
    EXPECT_EQ(ch.ready_piece(), 1u);
    n = ch.read_ready(MutableBytesView(out).first(100));
    EXPECT_EQ(n, 100u);
    EXPECT_TRUE(Bytes(out.begin(), out.begin() + 100) == Bytes(c.begin() + 10, c.begin() + 110));
    n = ch.read_ready(out);
    EXPECT_EQ(n, c.size() - 110);
    EXPECT_TRUE(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)) ==
                Bytes(c.begin() + 110, c.end()));
    EXPECT_EQ(ch.ready_piece(), 0u);
    // A frame whose header has arrived, but not all of the frame, is not
    // ready; the rest makes it so.
    Bytes wire2 = frame(p.to_channel, a);  // frames are made in the order they are sent
    const Bytes next = frame(p.to_channel, b);
    append(wire2, BytesView(next).first(500));
    EXPECT_TRUE((co_await p.raw->write_all(wire2)).ok());
    EXPECT_TRUE((co_await ch.wait_ready()).ok());
    EXPECT_EQ(ch.ready_piece(), a.size());
    EXPECT_EQ(ch.read_ready(out), a.size());
    EXPECT_EQ(ch.ready_piece(), 0u);
    EXPECT_TRUE((co_await p.raw->write_all(BytesView(next).subspan(500))).ok());
    EXPECT_TRUE((co_await ch.wait_ready()).ok());
    EXPECT_EQ(ch.ready_piece(), b.size());
    EXPECT_EQ(ch.read_ready(out), b.size());
    EXPECT_TRUE(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(b.size())) == b);

    // A frame that fails authentication yields nothing; the next read fails.
    Bytes bad = frame(p.to_channel, a);
    bad[100] ^= 1;
    EXPECT_TRUE((co_await p.raw->write_all(bad)).ok());
    EXPECT_TRUE((co_await ch.wait_ready()).ok());
    EXPECT_EQ(ch.read_ready(out), 0u);
    EXPECT_TRUE((co_await ch.wait_ready()).ok());  // a failure is ready at once
    EXPECT_EQ((co_await ch.read_some(out)).code(), errc::crypto_error);
  };
  auto done = spawn(io, exchange());
  weft::test::run(io);
  EXPECT_TRUE(*done);
}

// A frame header that no valid frame has is ready at once, and the read
// that follows reports it.
TEST(NoiseChannel, WaitReadyReturnsForAnInvalidHeader) {
  asio::io_context io;
  auto p = crafted_pair(io);
  auto exchange = [&]() -> Task<void> {
    const std::uint8_t header[2] = {0, 5};  // shorter than the tag
    EXPECT_TRUE((co_await p.raw->write_all(BytesView(header, 2))).ok());
    EXPECT_TRUE((co_await p.channel->wait_ready()).ok());
    Bytes out(100);
    EXPECT_EQ(p.channel->read_ready(out), 0u);
    EXPECT_EQ((co_await p.channel->read_some(out)).code(), errc::protocol_error);
  };
  auto done = spawn(io, exchange());
  weft::test::run(io);
  EXPECT_TRUE(*done);
}
