// A Yamux session over a Noise channel over loopback TCP: the layers the
// node stacks, without the node. The session's reader has Noise decrypt a
// bulk payload straight into its stream's receive buffer.
#include <gtest/gtest.h>

#include "net/tcp_channel.hpp"
#include "noise/noise_channel.hpp"
#include "yamux/yamux_test_util.hpp"

using namespace weft;
using namespace weft::test;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using noise::CipherState;
using noise::NoiseChannel;

namespace {

struct SecureSessions {
  explicit SecureSessions(Harness& h) : harness(h) {
    asio::ip::tcp::acceptor acceptor(h.io(), {asio::ip::address_v4::loopback(), 0});
    asio::ip::tcp::socket a(h.io()), b(h.io());
    a.connect(acceptor.local_endpoint());
    acceptor.accept(b);
    noise::Key k1{}, k2{};
    k1[0] = 1;
    k2[0] = 2;
    auto na = std::make_unique<NoiseChannel>(std::make_unique<TcpChannel>(std::move(a)),
                                             CipherState(k1), CipherState(k2));
    auto nb = std::make_unique<NoiseChannel>(std::make_unique<TcpChannel>(std::move(b)),
                                             CipherState(k2), CipherState(k1));
    client = YamuxSession::create(h.strand(), std::move(na), true);
    server = YamuxSession::create(h.strand(), std::move(nb), false);
    client->start();
    server->start();
  }
  ~SecureSessions() { harness.shutdown({client, server}); }

  Harness& harness;
  std::shared_ptr<YamuxSession> client;
  std::shared_ptr<YamuxSession> server;
};

// Returns how many bytes went out before the write failed (the reset one).
Task<std::size_t> write_pattern(std::shared_ptr<YamuxStream> s, const Bytes& chunk,
                                std::size_t total) {
  std::size_t sent = 0;
  for (; sent < total; sent += chunk.size()) {
    if (!(co_await s->write_all(chunk)).ok()) co_return sent;
  }
  EXPECT_TRUE((co_await s->close_write()).ok());
  co_return sent;
}

// Reads until EOF, or until `stop_after` bytes when it is not 0 (then resets
// the stream); checks the bytes against the pattern. Returns how many came.
Task<std::size_t> read_pattern(std::shared_ptr<YamuxStream> s, const Bytes& chunk,
                               std::size_t stop_after) {
  Bytes buf(100 * 1000);  // not a multiple of anything on the wire
  std::size_t got = 0;
  bool same = true;
  for (;;) {
    auto n = co_await s->read_some(buf);
    if (!n) {
      EXPECT_EQ(n.code(), errc::eof);
      break;
    }
    for (std::size_t i = 0; i < *n; ++i) same = same && buf[i] == chunk[(got + i) % chunk.size()];
    got += *n;
    if (stop_after != 0 && got >= stop_after) {
      s->reset();
      break;
    }
  }
  EXPECT_TRUE(same);
  co_return got;
}

}  // namespace

TEST(YamuxOverNoise, BulkPayloadGoesStraightIntoItsStreamAndResetsDropTheirRest) {
  Harness h;
  SecureSessions p(h);
  constexpr std::size_t kSize = 16 << 20;
  const Bytes chunk = pattern(1 << 20, 5);
  h.run([&]() -> Task<void> {
    auto kept = co_await p.client->open_stream();
    auto dropped = co_await p.client->open_stream();
    CO_ASSERT_OK(kept);
    CO_ASSERT_OK(dropped);
    auto send_kept = write_pattern(*kept, chunk, kSize);
    auto send_dropped = write_pattern(*dropped, chunk, kSize);
    auto in1 = co_await p.server->accept_stream();
    auto in2 = co_await p.server->accept_stream();
    CO_ASSERT_OK(in1);
    CO_ASSERT_OK(in2);
    // Stream 1 is read to the end; stream 3 is reset by its reader after
    // 1 MiB, while its frames keep arriving.
    auto read_kept = read_pattern(*in1, chunk, 0);
    auto read_dropped = read_pattern(*in2, chunk, 1 << 20);
    auto [got_kept, got_dropped, sent_kept, sent_dropped] =
        co_await (std::move(read_kept) && std::move(read_dropped) && std::move(send_kept) &&
                  std::move(send_dropped));
    EXPECT_EQ(sent_kept, kSize);
    EXPECT_LT(sent_dropped, kSize);
    EXPECT_EQ(got_kept, kSize);
    EXPECT_GE(got_dropped, std::size_t{1} << 20);
    EXPECT_LT(got_dropped, kSize);
    const YamuxStats& st = p.server->stats();
    std::printf("[ yamux    ] %.0f%% of %llu payload bytes decrypted straight into their stream\n",
                100.0 * static_cast<double>(st.bytes_received_in_place) /
                    static_cast<double>(st.bytes_received),
                static_cast<unsigned long long>(st.bytes_received));
    EXPECT_GE(st.bytes_received, kSize + got_dropped);
    // Most of it without a copy: every Noise frame that holds payload only.
    EXPECT_GT(st.bytes_received_in_place, st.bytes_received / 2);
    EXPECT_LE(st.bytes_received_in_place, st.bytes_received);
    // Room is prepared only for a frame that fits: a frame that also holds
    // the next header, or none at all, goes to read_view without it.
    EXPECT_EQ(st.in_place_rooms_unused, 0u);
    EXPECT_TRUE(p.server->is_open());
  });
}
