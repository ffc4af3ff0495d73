#include <gtest/gtest.h>

#include "core/protobuf.hpp"
#include "core/varint.hpp"
#include "protocols/echo.hpp"
#include "protocols/identify.hpp"
#include "protocols/perf.hpp"
#include "protocols/ping.hpp"
#include "testing/memory_pipe.hpp"

using namespace weft;

namespace {

template <typename F, typename G>
void run_pair(F client, G server) {
  asio::io_context io;
  auto [a, b] = test::memory_pipe();
  asio::co_spawn(io, client(*a), asio::detached);
  asio::co_spawn(io, server(*b), asio::detached);
  io.run();
}

identify::Info sample_info() {
  identify::Info info;
  info.public_key = {0x08, 0x01, 0x12, 0x02, 0xaa, 0xbb};
  info.listen_addrs = {*Multiaddr::parse("/ip4/127.0.0.1/tcp/4001"), *Multiaddr::parse("/ip6/::1/tcp/4002")};
  info.protocols = {"/ipfs/ping/1.0.0", "/ipfs/id/1.0.0"};
  info.observed_addr = *Multiaddr::parse("/ip4/10.0.0.1/tcp/5555");
  info.protocol_version = "ipfs/0.1.0";
  info.agent_version = "weft/test";
  return info;
}

}  // namespace

TEST(Identify, EncodeDecodeRoundTrip) {
  auto info = sample_info();
  identify::Info out;
  ASSERT_TRUE(identify::decode_into(identify::encode(info), out).ok());
  EXPECT_EQ(out.public_key, info.public_key);
  EXPECT_EQ(out.listen_addrs, info.listen_addrs);
  EXPECT_EQ(out.protocols, info.protocols);
  EXPECT_EQ(out.observed_addr, info.observed_addr);
  EXPECT_EQ(out.agent_version, "weft/test");
  EXPECT_EQ(out.protocol_version, "ipfs/0.1.0");
}

TEST(Identify, SkipsUnknownAddressesAndFields) {
  pb::Writer w;
  w.bytes_field(2, Bytes{0xff, 0xff, 0xff});          // not a multiaddr
  w.bytes_field(2, Multiaddr::parse("/ip4/1.2.3.4/tcp/1")->bytes());
  w.varint_field(99, 7);                               // unknown field
  w.string_field(6, "x/1");
  identify::Info out;
  ASSERT_TRUE(identify::decode_into(std::move(w).take(), out).ok());
  EXPECT_EQ(out.listen_addrs.size(), 1u);
  EXPECT_EQ(out.agent_version, "x/1");
}

TEST(Identify, RejectsMalformedAndOversized) {
  identify::Info out;
  EXPECT_EQ(identify::decode_into(Bytes{0x32, 0x05, 'a'}, out).code(), errc::parse_error);
  pb::Writer w;
  for (int i = 0; i < 300; ++i) w.string_field(3, "/p/" + std::to_string(i));
  EXPECT_EQ(identify::decode_into(std::move(w).take(), out).code(), errc::limit_exceeded);

  // A declared message length over the limit fails before reading it.
  Result<identify::Info> r;
  run_pair(
      [](ByteChannel& c) -> Task<void> {
        Bytes hdr;
        varint::encode(1 << 20, hdr);
        (void)co_await c.write_all(hdr);
      },
      [&](ByteChannel& c) -> Task<void> { r = co_await identify::receive(c); });
  EXPECT_EQ(r.code(), errc::limit_exceeded);
}

TEST(Identify, SendReceiveMergesSplitMessages) {
  Result<identify::Info> r;
  run_pair(
      [](ByteChannel& c) -> Task<void> {
        identify::Info first, second;
        first.agent_version = "split/1";
        first.protocols = {"/a"};
        second.protocols = {"/b"};
        second.signed_peer_record = {1, 2, 3};
        Bytes out;
        for (auto* m : {&first, &second}) {
          Bytes body = identify::encode(*m);
          varint::encode(body.size(), out);
          append(out, body);
        }
        (void)co_await c.write_all(out);
        (void)co_await c.close_write();
      },
      [&](ByteChannel& c) -> Task<void> { r = co_await identify::receive(c); });
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->agent_version, "split/1");
  EXPECT_EQ(r->protocols, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(r->signed_peer_record, (Bytes{1, 2, 3}));
}

TEST(Identify, TruncatedOrEmptyStreamFails) {
  Result<identify::Info> r;
  run_pair(
      [](ByteChannel& c) -> Task<void> {
        const Bytes truncated{0x10, 0x32};
        (void)co_await c.write_all(truncated);
        (void)co_await c.close_write();
      },
      [&](ByteChannel& c) -> Task<void> { r = co_await identify::receive(c); });
  EXPECT_EQ(r.code(), errc::parse_error);
  run_pair([](ByteChannel& c) -> Task<void> { (void)co_await c.close_write(); },
           [&](ByteChannel& c) -> Task<void> { r = co_await identify::receive(c); });
  EXPECT_EQ(r.code(), errc::protocol_error);
}

TEST(Ping, RoundTripsAndDetectsCorruption) {
  Result<std::chrono::nanoseconds> rtt;
  Status served;
  run_pair(
      [&](ByteChannel& c) -> Task<void> {
        rtt = co_await ping::ping_once(c);
        (void)co_await c.close_write();
      },
      [&](ByteChannel& c) -> Task<void> { served = co_await ping::serve(c); });
  ASSERT_TRUE(rtt.ok());
  EXPECT_TRUE(served.ok());

  run_pair([&](ByteChannel& c) -> Task<void> { rtt = co_await ping::ping_once(c); },
           [&](ByteChannel& c) -> Task<void> {
             Bytes buf(32);
             (void)co_await c.read_exact(buf);
             buf[0] ^= 1;  // a peer that answers with different bytes
             (void)co_await c.write_all(buf);
           });
  EXPECT_EQ(rtt.code(), errc::protocol_error);
}

// A ping on a fresh stream with the negotiation folded in: the listener's
// multistream-select then ping handler answer both in one round trip, and a
// listener without ping refuses it.
TEST(Ping, NegotiatingPingAgainstAListener) {
  for (const bool listener_has_ping : {true, false}) {
    Result<std::chrono::nanoseconds> rtt;
    Status served;
    run_pair(
        [&](ByteChannel& c) -> Task<void> {
          rtt = co_await ping::ping_once_negotiating(c, mss::Config{});
          (void)co_await c.close_write();
        },
        [&](ByteChannel& c) -> Task<void> {
          auto proto = co_await mss::handle(c, [&](std::string_view p) {
            return listener_has_ping && p == ping::kProtocol;
          });
          if (!proto) {
            // The pipelined payload reads as a broken proposal.
            (void)co_await c.close_write();
            co_return;
          }
          served = co_await ping::serve(c);
        });
    if (listener_has_ping) {
      ASSERT_TRUE(rtt.ok()) << rtt.error().message();
      EXPECT_GT(rtt->count(), 0);
      EXPECT_TRUE(served.ok());
    } else {
      EXPECT_EQ(rtt.code(), errc::protocol_not_supported);
    }
  }
}

TEST(Echo, RoundTripsLargePayload) {
  Bytes data(3 * 1024 * 1024 + 17);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 31);
  Result<Bytes> reply;
  run_pair([&](ByteChannel& c) -> Task<void> { reply = co_await echo::round_trip(c, data, data.size()); },
           [&](ByteChannel& c) -> Task<void> { (void)co_await echo::serve(c); });
  ASSERT_TRUE(reply.ok()) << reply.error().message();
  EXPECT_EQ(*reply, data);
}

TEST(Perf, TransfersRequestedBytesAndEnforcesLimit) {
  Result<perf::Measurement> m;
  run_pair([&](ByteChannel& c) -> Task<void> { m = co_await perf::run_client(c, 1000000, 2000000); },
           [&](ByteChannel& c) -> Task<void> { (void)co_await perf::serve(c); });
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->uploaded, 1000000u);
  EXPECT_EQ(m->downloaded, 2000000u);

  Status served;
  perf::Config small;
  small.max_download = 10;
  run_pair([&](ByteChannel& c) -> Task<void> { m = co_await perf::run_client(c, 1, 11); c.abort(); },
           [&](ByteChannel& c) -> Task<void> { served = co_await perf::serve(c, small); c.abort(); });
  EXPECT_EQ(served.code(), errc::limit_exceeded);
  EXPECT_FALSE(m.ok());
}
