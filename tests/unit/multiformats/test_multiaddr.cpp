#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <random>
#include <unordered_set>

#include "multiformats/multiaddr.hpp"
#include "multiformats/multibase.hpp"

using namespace weft;

namespace {

constexpr std::string_view kQm = "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC";
constexpr std::string_view kQmCid = "bafzbeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4bm";
constexpr std::string_view kEd = "12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV";
constexpr std::string_view kEdCid = "bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkfu7qjfi6sduakhso4lay6abn2d5u";
constexpr std::string_view kRelay = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N";
// A sha2-256 certhash, base64url (as go-libp2p prints it), and the same in base58btc.
constexpr std::string_view kCertU = "uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g";
constexpr std::string_view kCertZ = "zQmbWTwYGcmdyK9CYfNBcfs9nhZs17a6FQ4Y8oea278xx41";

Bytes from_hex(std::string_view hex) {
  auto r = multibase::base16_decode(hex);
  EXPECT_TRUE(r.ok()) << hex;
  return r.ok() ? *r : Bytes{};
}

Multiaddr must_parse(std::string_view s) {
  auto r = Multiaddr::parse(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : Multiaddr{};
}

// Text in canonical form: text -> bytes -> text is exact, and bytes -> from_bytes agrees.
void expect_round_trip(std::string_view text, std::string_view hex = {}) {
  SCOPED_TRACE(std::string(text));
  auto m = Multiaddr::parse(text);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->to_string(), text);
  if (!hex.empty()) EXPECT_EQ(to_hex(m->bytes()), hex);
  auto b = Multiaddr::from_bytes(m->bytes());
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(*b, *m);
  EXPECT_EQ(b->to_string(), text);
}

void expect_canonical(std::string_view in, std::string_view canonical) {
  SCOPED_TRACE(std::string(in));
  auto m = Multiaddr::parse(in);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->to_string(), canonical);
  EXPECT_EQ(must_parse(canonical), *m);
}

void expect_parse_fail(std::string_view text, errc code, std::string_view needle) {
  auto r = Multiaddr::parse(text);
  ASSERT_FALSE(r.ok()) << "accepted '" << text << "' as " << r->to_string();
  EXPECT_EQ(r.code(), code) << text << ": " << r.error().message();
  EXPECT_NE(r.error().detail.find(needle), std::string::npos)
      << "'" << text << "' -> '" << r.error().detail << "' lacks '" << needle << "'";
}

void expect_bytes_fail(std::string_view hex, errc code, std::string_view needle) {
  auto r = Multiaddr::from_bytes(from_hex(hex));
  ASSERT_FALSE(r.ok()) << "accepted " << hex << " as " << r->to_string();
  EXPECT_EQ(r.code(), code) << hex << ": " << r.error().message();
  EXPECT_NE(r.error().detail.find(needle), std::string::npos)
      << hex << " -> '" << r.error().detail << "' lacks '" << needle << "'";
}

}  // namespace

// ---- round trips, with the binary form spelled out ---------------------------------

TEST(Multiaddr, RoundTripIp4Tcp) {
  expect_round_trip("/ip4/127.0.0.1/tcp/4001", "047f000001060fa1");
  expect_round_trip("/ip4/0.0.0.0/tcp/0", "0400000000060000");
  expect_round_trip("/ip4/255.255.255.255/tcp/65535", "04ffffffff06ffff");
  expect_round_trip("/ip4/10.0.200.1/tcp/80");
}

TEST(Multiaddr, RoundTripUdpQuic) {
  expect_round_trip("/ip4/127.0.0.1/udp/1234", "047f000001910204d2");
  expect_round_trip("/ip4/127.0.0.1/udp/1234/quic", "047f000001910204d2cc03");
  expect_round_trip("/ip4/127.0.0.1/udp/1234/quic-v1", "047f000001910204d2cd03");
  expect_round_trip("/ip4/127.0.0.1/udp/1234/quic-v1/webtransport", "047f000001910204d2cd03d103");
  expect_round_trip("/udp/0");
  expect_round_trip("/udp/65535");
}

TEST(Multiaddr, RoundTripIp6) {
  expect_round_trip("/ip6/::1/tcp/80", "2900000000000000000000000000000001060050");
  expect_round_trip("/ip6/::", "2900000000000000000000000000000000");
  expect_round_trip("/ip6/2001:db8::1/udp/4001/quic-v1");
  expect_round_trip("/ip6/fe80::1ff:fe23:4567:890a/tcp/1");
  expect_round_trip("/ip6/2001:db8:0:1:1:1:1:1");
  expect_round_trip("/ip6/2001:0:0:1::1");
  expect_round_trip("/ip6/2001:db8::1:0:0:1");
  expect_round_trip("/ip6/1::");
  expect_round_trip("/ip6/1:2:3:4:5:6:7:8");
  expect_round_trip("/ip6/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  expect_round_trip("/ip6/::ffff:1.2.3.4/tcp/443", "2900000000000000000000ffff010203040601bb");
  expect_round_trip("/ip6/::102:304");
  expect_round_trip("/ip6/0:1::");
  expect_round_trip("/ip6/1:0:1::1");
}

TEST(Multiaddr, RoundTripDns) {
  expect_round_trip("/dns4/example.com/tcp/443", "360b6578616d706c652e636f6d0601bb");
  expect_round_trip("/dns/x", "350178");
  expect_round_trip("/dns6/ipv6.example/tcp/1");
  expect_round_trip("/dnsaddr/bootstrap.libp2p.io", "3813626f6f7473747261702e6c69627032702e696f");
  expect_round_trip("/dns/" + std::string(255, 'a'));
  expect_round_trip("/dns/xn--bcher-kva.example/tcp/1");
  expect_round_trip("/dns/b\xc3\xbc" "cher.example/tcp/1");  // raw UTF-8 is kept as is
}

TEST(Multiaddr, RoundTripTlsSniWs) {
  expect_round_trip("/ip4/1.2.3.4/tcp/443/tls/sni/example.com/ws",
                    "0401020304" "0601bb" "c003" "c1030b6578616d706c652e636f6d" "dd03");
  expect_round_trip("/ip4/1.2.3.4/tcp/443/wss", "04010203040601bbde03");
  expect_round_trip("/dns4/example.com/tcp/443/tls/ws");
  expect_round_trip("/ip4/1.2.3.4/tcp/80/ws/p2p/" + std::string(kQm));
}

TEST(Multiaddr, RoundTripP2p) {
  expect_round_trip("/p2p/" + std::string(kQm),
                    "a503221220d52ebb89d85b02a284948203a62ff28389c57c9f42beec4ec20db76a68911c0b");
  expect_round_trip("/p2p/" + std::string(kEd));
  expect_round_trip("/ip4/1.2.3.4/tcp/4001/p2p/" + std::string(kEd));
  expect_round_trip("/p2p/" + std::string(kQm) + "/tcp/1234");
  expect_round_trip("/ip4/1.2.3.4/tcp/4001/p2p/" + std::string(kRelay) + "/p2p-circuit/p2p/" + std::string(kEd));
  expect_round_trip("/p2p-circuit", "a202");
  expect_round_trip("/ip4/1.2.3.4/tcp/4001/p2p/" + std::string(kRelay) + "/p2p-circuit");
}

TEST(Multiaddr, RoundTripCerthash) {
  const std::string base = "/ip4/127.0.0.1/udp/1234/quic-v1/webtransport";
  expect_round_trip(base + "/certhash/" + std::string(kCertU));
  expect_round_trip(base + "/certhash/" + std::string(kCertU) + "/certhash/" + std::string(kCertU) + "/p2p/" +
                    std::string(kEd));
  auto m = must_parse("/certhash/" + std::string(kCertU));
  EXPECT_EQ(to_hex(m.bytes()), "d20322" "1220c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2");
}

// ---- canonicalisation -------------------------------------------------------------------

TEST(Multiaddr, CanonicalIp6) {
  expect_canonical("/ip6/2001:DB8:0:0:0:0:0:1", "/ip6/2001:db8::1");
  expect_canonical("/ip6/2001:0db8:0000:0000:0000:0000:0000:0001", "/ip6/2001:db8::1");
  expect_canonical("/ip6/0:0:0:0:0:0:0:0", "/ip6/::");
  expect_canonical("/ip6/0:0:0:0:0:0:0:1", "/ip6/::1");
  expect_canonical("/ip6/2001:db8::0:1", "/ip6/2001:db8::1");
  expect_canonical("/ip6/2001:db8:0:1:1:1:1:1", "/ip6/2001:db8:0:1:1:1:1:1");  // one zero: no "::"
  expect_canonical("/ip6/2001:db8::1:1:1:1:1", "/ip6/2001:db8:0:1:1:1:1:1");
  expect_canonical("/ip6/2001:0:0:1:0:0:0:1", "/ip6/2001:0:0:1::1");          // the longest run
  expect_canonical("/ip6/2001:db8:0:0:1:0:0:1", "/ip6/2001:db8::1:0:0:1");    // tie: the first
  expect_canonical("/ip6/FE80::ABCD", "/ip6/fe80::abcd");
  expect_canonical("/ip6/::FFFF:0102:0304", "/ip6/::ffff:1.2.3.4");
  expect_canonical("/ip6/0:0:0:0:0:ffff:1.2.3.4", "/ip6/::ffff:1.2.3.4");
  expect_canonical("/ip6/::1.2.3.4", "/ip6/::102:304");
  expect_canonical("/ip6/1:2:3:4:5:6:1.2.3.4", "/ip6/1:2:3:4:5:6:102:304");
  expect_canonical("/ip6/1:0:0:0:0:0:0:0", "/ip6/1::");
  expect_canonical("/ip6/0:0:1:0:0:0:0:0", "/ip6/0:0:1::");
}

TEST(Multiaddr, CanonicalP2pAndCerthash) {
  expect_canonical("/ipfs/" + std::string(kQm), "/p2p/" + std::string(kQm));
  expect_canonical("/ipfs/" + std::string(kQm) + "/tcp/1234", "/p2p/" + std::string(kQm) + "/tcp/1234");
  expect_canonical("/p2p/" + std::string(kQmCid), "/p2p/" + std::string(kQm));
  expect_canonical("/p2p/" + std::string(kEdCid), "/p2p/" + std::string(kEd));
  expect_canonical("/ip4/1.2.3.4/tcp/1/ipfs/" + std::string(kEdCid), "/ip4/1.2.3.4/tcp/1/p2p/" + std::string(kEd));
  expect_canonical("/certhash/" + std::string(kCertZ), "/certhash/" + std::string(kCertU));
  expect_canonical("/certhash/f1220c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2",
                   "/certhash/" + std::string(kCertU));
  expect_canonical("/certhash/" + std::string(kCertU) + "==", "/certhash/" + std::string(kCertU));
  // go-multiaddr's test value: a base32 md5 multihash.
  expect_canonical("/ip4/127.0.0.1/udp/1234/quic-v1/webtransport/certhash/b2uaraocy6yrdblb4sfptaddgimjmmpy",
                   "/ip4/127.0.0.1/udp/1234/quic-v1/webtransport/certhash/u1QEQOFj2IjCsPJFfMAxmQxLGPw");
}

TEST(Multiaddr, TrailingSlashIsDropped) {
  expect_canonical("/ip4/127.0.0.1/tcp/1234/", "/ip4/127.0.0.1/tcp/1234");
  expect_canonical("/p2p-circuit/", "/p2p-circuit");
}

// ---- accessors ---------------------------------------------------------------------------

TEST(Multiaddr, Components) {
  auto m = must_parse("/ip4/1.2.3.4/tcp/4001/tls/sni/a.example/ws/p2p/" + std::string(kEd));
  auto c = m.components();
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[0].proto, Protocol::ip4);
  EXPECT_EQ(c[0].value, (Bytes{1, 2, 3, 4}));
  EXPECT_EQ(c[0].value_string(), "1.2.3.4");
  EXPECT_EQ(c[1].proto, Protocol::tcp);
  EXPECT_EQ(c[1].value, (Bytes{0x0f, 0xa1}));
  EXPECT_EQ(c[1].value_string(), "4001");
  EXPECT_EQ(c[2].proto, Protocol::tls);
  EXPECT_TRUE(c[2].value.empty());
  EXPECT_EQ(c[2].value_string(), "");
  EXPECT_EQ(c[3].proto, Protocol::sni);
  EXPECT_EQ(c[3].value_string(), "a.example");
  EXPECT_EQ(c[4].proto, Protocol::ws);
  EXPECT_EQ(c[5].proto, Protocol::p2p);
  EXPECT_EQ(c[5].value_string(), kEd);
  EXPECT_EQ(c[5].value, PeerId::parse(kEd)->multihash());
  EXPECT_TRUE(Multiaddr{}.components().empty());
  EXPECT_EQ(Multiaddr{}.to_string(), "");
  EXPECT_TRUE(Multiaddr{}.empty());
}

TEST(Multiaddr, ProtocolNamesAndCodes) {
  EXPECT_EQ(protocol_name(Protocol::quic_v1), "quic-v1");
  EXPECT_EQ(protocol_name(Protocol::p2p_circuit), "p2p-circuit");
  EXPECT_EQ(protocol_name(Protocol::p2p), "p2p");
  EXPECT_EQ(static_cast<int>(Protocol::udp), 273);
  EXPECT_EQ(static_cast<int>(Protocol::p2p), 421);
  EXPECT_EQ(static_cast<int>(Protocol::certhash), 466);
}

TEST(Multiaddr, Encapsulate) {
  auto a = must_parse("/ip4/1.2.3.4/tcp/4001");
  auto b = must_parse("/p2p/" + std::string(kEd));
  auto c = a.encapsulate(b);
  EXPECT_EQ(c.to_string(), "/ip4/1.2.3.4/tcp/4001/p2p/" + std::string(kEd));
  EXPECT_EQ(c, must_parse(c.to_string()));
  EXPECT_EQ(a.encapsulate(Multiaddr{}), a);
  EXPECT_EQ(Multiaddr{}.encapsulate(a), a);
}

TEST(Multiaddr, PeerId) {
  const PeerId ed = *PeerId::parse(kEd);
  const PeerId relay = *PeerId::parse(kRelay);
  auto m = must_parse("/ip4/1.2.3.4/tcp/4001/p2p/" + std::string(kEd));
  ASSERT_TRUE(m.peer_id().has_value());
  EXPECT_EQ(*m.peer_id(), ed);
  EXPECT_EQ(m.without_peer_id().to_string(), "/ip4/1.2.3.4/tcp/4001");
  EXPECT_EQ(m.without_peer_id().without_peer_id().to_string(), "/ip4/1.2.3.4/tcp/4001");

  auto plain = must_parse("/ip4/1.2.3.4/tcp/4001");
  EXPECT_FALSE(plain.peer_id().has_value());
  EXPECT_EQ(plain.without_peer_id(), plain);

  // Circuit address: the trailing /p2p/ is the target, not the relay.
  auto circuit = must_parse("/ip4/1.2.3.4/tcp/4001/p2p/" + std::string(kRelay) + "/p2p-circuit/p2p/" +
                            std::string(kEd));
  EXPECT_EQ(*circuit.peer_id(), ed);
  EXPECT_EQ(circuit.without_peer_id().to_string(),
            "/ip4/1.2.3.4/tcp/4001/p2p/" + std::string(kRelay) + "/p2p-circuit");
  auto to_relay = must_parse("/ip4/1.2.3.4/tcp/4001/p2p/" + std::string(kRelay) + "/p2p-circuit");
  EXPECT_FALSE(to_relay.peer_id().has_value());
  EXPECT_EQ(to_relay.without_peer_id(), to_relay);

  auto only = must_parse("/p2p/" + std::string(kRelay));
  EXPECT_EQ(*only.peer_id(), relay);
  EXPECT_TRUE(only.without_peer_id().empty());
  auto twice = must_parse("/p2p/" + std::string(kRelay) + "/p2p/" + std::string(kEd));
  EXPECT_EQ(*twice.peer_id(), ed);
  EXPECT_EQ(twice.without_peer_id(), only);
}

TEST(Multiaddr, EqualityAndHash) {
  auto a = must_parse("/ip6/2001:db8::1/tcp/1");
  auto b = must_parse("/ip6/2001:DB8:0::0:1/tcp/1");
  auto c = must_parse("/ip6/2001:db8::1/tcp/2");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::unordered_set<Multiaddr> set{a, b, c};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(std::hash<Multiaddr>{}(a), std::hash<Multiaddr>{}(b));
}

// ---- TCP helpers ---------------------------------------------------------------------

TEST(Multiaddr, ToTcpTarget) {
  auto t = to_tcp_target(must_parse("/ip4/1.2.3.4/tcp/4001"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->host, "1.2.3.4");
  EXPECT_FALSE(t->is_dns);
  EXPECT_EQ(t->family, 4);
  EXPECT_EQ(t->port, 4001);

  t = to_tcp_target(must_parse("/ip6/::1/tcp/65535/p2p/" + std::string(kEd)));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->family, 6);
  EXPECT_EQ(t->port, 65535);

  t = to_tcp_target(must_parse("/dns/example.com/tcp/0"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->host, "example.com");
  EXPECT_TRUE(t->is_dns);
  EXPECT_EQ(t->family, 0);
  EXPECT_EQ(t->port, 0);

  t = to_tcp_target(must_parse("/dns4/a.example/tcp/1"));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->is_dns);
  EXPECT_EQ(t->family, 4);
  t = to_tcp_target(must_parse("/dns6/a.example/tcp/1/p2p/" + std::string(kQm)));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->family, 6);

  for (const std::string& s : std::vector<std::string>{"/ip4/1.2.3.4/udp/1", "/ip4/1.2.3.4/tcp/1/ws", "/ip4/1.2.3.4/tcp/1/tls",
                        "/dnsaddr/bootstrap.libp2p.io", "/dnsaddr/a.example/tcp/1", "/ip4/1.2.3.4",
                        "/tcp/1", "/tcp/1/ip4/1.2.3.4", "/p2p/" + std::string(kEd),
                        "/ip4/1.2.3.4/tcp/1/p2p/" + std::string(kEd) + "/p2p-circuit",
                        "/ip4/1.2.3.4/tcp/1/p2p/" + std::string(kRelay) + "/p2p-circuit/p2p/" + std::string(kEd),
                        "/ip4/1.2.3.4/udp/1/quic-v1", "/sni/a.example/tcp/1"}) {
    auto r = to_tcp_target(must_parse(s));
    EXPECT_EQ(r.code(), errc::unsupported) << s;
    if (!r.ok()) EXPECT_NE(r.error().detail.find("not a TCP address"), std::string::npos);
  }
  EXPECT_EQ(to_tcp_target(Multiaddr{}).code(), errc::unsupported);
}

TEST(Multiaddr, FromTcpEndpoint) {
  using asio::ip::tcp;
  EXPECT_EQ(from_tcp_endpoint(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 4001)).to_string(),
            "/ip4/127.0.0.1/tcp/4001");
  EXPECT_EQ(from_tcp_endpoint(tcp::endpoint(asio::ip::make_address("2001:db8::5"), 0)).to_string(),
            "/ip6/2001:db8::5/tcp/0");
  EXPECT_EQ(from_tcp_endpoint(tcp::endpoint(asio::ip::make_address("::ffff:10.1.2.3"), 65535)).to_string(),
            "/ip4/10.1.2.3/tcp/65535");
  EXPECT_EQ(from_tcp_endpoint(tcp::endpoint(asio::ip::make_address("fe80::1%1"), 7)).to_string(),
            "/ip6/fe80::1/tcp/7");
  auto m = from_tcp_endpoint(tcp::endpoint(asio::ip::make_address("192.168.0.1"), 80));
  auto t = to_tcp_target(m);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->host, "192.168.0.1");
  EXPECT_EQ(t->port, 80);
}

// ---- malformed text -------------------------------------------------------------------

TEST(Multiaddr, RejectsMalformedStructure) {
  expect_parse_fail("", errc::parse_error, "empty string");
  expect_parse_fail("/", errc::parse_error, "no components");
  expect_parse_fail("//", errc::parse_error, "no components");
  expect_parse_fail("ip4/1.2.3.4", errc::parse_error, "must start with '/'");
  expect_parse_fail(" /ip4/1.2.3.4", errc::parse_error, "must start with '/'");
  expect_parse_fail("/ip4//1.2.3.4", errc::parse_error, "empty value for 'ip4'");
  expect_parse_fail("/ip4/1.2.3.4//tcp/1", errc::parse_error, "empty protocol name");
  expect_parse_fail("/ip4/1.2.3.4/tcp/1//", errc::parse_error, "stray '/'");
  expect_parse_fail("//ip4/1.2.3.4", errc::parse_error, "empty protocol name at offset 1");
  expect_parse_fail("/tcpx/1", errc::parse_error, "multiaddr: unknown protocol 'tcpx'");
  expect_parse_fail("/ip4/1.2.3.4/tcp/1/foo", errc::parse_error, "unknown protocol 'foo'");
  expect_parse_fail("/TCP/1", errc::parse_error, "unknown protocol 'TCP'");
  expect_parse_fail("/ip4/1.2.3.4/tcp/1/4001", errc::parse_error, "unknown protocol '4001'");  // trailing garbage
  expect_parse_fail("/ip4/1.2.3.4/1.2.3.4", errc::parse_error, "unknown protocol '1.2.3.4'");
  expect_parse_fail("/http", errc::unsupported, "unsupported protocol 'http'");
  expect_parse_fail("/unix/tmp/sock", errc::unsupported, "unsupported protocol 'unix'");
  expect_parse_fail("/ip4/1.2.3.4/udp/1/webrtc-direct", errc::unsupported, "'webrtc-direct'");
  expect_parse_fail(std::string("/ip4\0/1.2.3.4", 13), errc::parse_error, "unknown protocol 'ip4\\x00'");
  // Missing values.
  expect_parse_fail("/ip4", errc::parse_error, "missing value for 'ip4'");
  expect_parse_fail("/ip4/", errc::parse_error, "missing value for 'ip4'");
  expect_parse_fail("/ip4/1.2.3.4/tcp", errc::parse_error, "missing value for 'tcp'");
  expect_parse_fail("/ip6", errc::parse_error, "missing value for 'ip6'");
  expect_parse_fail("/udp", errc::parse_error, "missing value for 'udp'");
  expect_parse_fail("/dns", errc::parse_error, "missing value for 'dns'");
  expect_parse_fail("/sni", errc::parse_error, "missing value for 'sni'");
  expect_parse_fail("/p2p", errc::parse_error, "missing value for 'p2p'");
  expect_parse_fail("/ipfs", errc::parse_error, "missing value for 'ipfs'");
  expect_parse_fail("/certhash", errc::parse_error, "missing value for 'certhash'");
  expect_parse_fail("/ip4/1.2.3.4/tcp/quic", errc::parse_error, "invalid tcp port 'quic'");
}

TEST(Multiaddr, RejectsBadIp4) {
  for (std::string_view v : {"1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1.2.3.-1", "01.2.3.4", "1.2.3.04",
                             "1.2.3.00", "1..3.4", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d",
                             "1.2.3.4a", "1234.1.1.1", "0x1.2.3.4", "::1", "1,2,3,4", "+1.2.3.4",
                             "1.2.3.1000"}) {
    expect_parse_fail("/ip4/" + std::string(v) + "/tcp/1", errc::parse_error,
                      "multiaddr: invalid ip4 address '" + std::string(v) + "'");
  }
  expect_parse_fail("/ip4/1.2.3/tcp/1", errc::parse_error, "invalid ip4 address '1.2.3'");
}

TEST(Multiaddr, RejectsBadIp6) {
  for (std::string_view v : {"1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "1:::2", ":1::", "::1:",
                             ":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:", "12345::", "g::", "::g", "1:2:3:4:5:6:7::8",
                             "::1.2.3", "::1.2.3.256", "::1.2.3.4:5", "1.2.3.4::", "1:2:3:4:5:6:7:1.2.3.4",
                             "::ffff:01.2.3.4", "1.2.3.4", "", "-1::", " ::1", "::1 ", "1:2:3:4:5:6:7:8:1.2.3.4",
                             "::0x1"}) {
    if (v.empty()) continue;
    expect_parse_fail("/ip6/" + std::string(v), errc::parse_error, "invalid ip6 address");
  }
  expect_parse_fail("/ip6/fe80::1%eth0", errc::parse_error, "zones are not supported");
  expect_parse_fail("/ip6/" + std::string(100, '1'), errc::parse_error, "invalid ip6 address");
}

TEST(Multiaddr, RejectsBadPorts) {
  for (std::string_view v : {"65536", "99999", "100000", "-1", "+1", "01", "00", "1a", "0x10", " 1", "1 ", "1.0",
                             "4294967297", "١"}) {
    expect_parse_fail("/tcp/" + std::string(v), errc::parse_error, "invalid tcp port");
    expect_parse_fail("/udp/" + std::string(v), errc::parse_error, "invalid udp port");
  }
}

TEST(Multiaddr, RejectsBadNames) {
  expect_parse_fail("/dns//tcp/1", errc::parse_error, "empty value for 'dns'");
  expect_parse_fail("/dns4/" + std::string(256, 'a'), errc::parse_error, "longer than 255 bytes");
  expect_parse_fail("/sni/" + std::string(300, 'a'), errc::parse_error, "invalid sni value");
  expect_parse_fail("/dns6/a b", errc::parse_error, "space or control character");
  expect_parse_fail(std::string("/dns/a\0b", 8), errc::parse_error, "invalid dns value 'a\\x00b'");
  expect_parse_fail("/dnsaddr/a\tb", errc::parse_error, "invalid dnsaddr value");
  expect_parse_fail("/dns/a\x7f", errc::parse_error, "control character");
}

TEST(Multiaddr, RejectsBadP2p) {
  expect_parse_fail("/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNK", errc::parse_error, "invalid p2p value");
  expect_parse_fail("/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC0", errc::parse_error,
                    "invalid character '0'");
  expect_parse_fail("/p2p/notapeerid", errc::parse_error, "invalid p2p value 'notapeerid'");
  expect_parse_fail("/ipfs/xyz", errc::parse_error, "invalid p2p value");
  expect_parse_fail("/p2p/bafyaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l", errc::parse_error,
                    "is not libp2p-key");
  expect_parse_fail("/p2p/1", errc::parse_error, "invalid p2p value '1'");
  expect_parse_fail("/p2p/k51qzi5uqu5dhb6l8spkdx7yxafegfkee5by8h7lmjh2ehc2sgg34z7c15vzqs", errc::parse_error,
                    "unsupported base");
}

TEST(Multiaddr, RejectsBadCerthash) {
  expect_parse_fail("/certhash/x", errc::parse_error, "invalid certhash value 'x'");
  expect_parse_fail("/certhash/u", errc::parse_error, "multihash: empty");
  expect_parse_fail("/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8", errc::parse_error,
                    "invalid certhash value");
  expect_parse_fail("/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g!", errc::parse_error,
                    "invalid character '!'");
  expect_parse_fail("/certhash/f1220ab", errc::parse_error, "truncated digest");
  expect_parse_fail("/certhash/f1220" + std::string(64, 'a') + "00", errc::parse_error, "trailing byte");
  expect_parse_fail("/certhash/f12", errc::parse_error, "missing digest length");
  expect_parse_fail("/certhash/uEiDDq4+xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g", errc::parse_error,
                    "invalid character '+'");
}

// ---- malformed binary --------------------------------------------------------------------

TEST(Multiaddr, RejectsMalformedBytes) {
  expect_bytes_fail("", errc::parse_error, "empty");
  expect_bytes_fail("80", errc::parse_error, "bad protocol code at byte 0: truncated varint");
  expect_bytes_fail("8100", errc::parse_error, "not minimally encoded");
  expect_bytes_fail("ffffffffffffffffff01", errc::parse_error, "longer than 9 bytes");
  expect_bytes_fail("00", errc::unsupported, "unknown protocol code 0x0 (0)");
  expect_bytes_fail("047f000001e003", errc::unsupported, "unknown protocol code 0x1e0 (480) at byte 5");
  expect_bytes_fail("ff7f", errc::unsupported, "unknown protocol code 0x3fff");
  expect_bytes_fail("04", errc::parse_error, "truncated ip4 value at byte 1 (need 4 bytes, have 0)");
  expect_bytes_fail("047f0000", errc::parse_error, "truncated ip4 value");
  expect_bytes_fail("047f00000106", errc::parse_error, "truncated tcp value at byte 6");
  expect_bytes_fail("047f0000010600", errc::parse_error, "truncated tcp value");
  expect_bytes_fail("29000000", errc::parse_error, "truncated ip6 value");
  expect_bytes_fail("9102", errc::parse_error, "truncated udp value");
  expect_bytes_fail("047f000001060fa1ff", errc::parse_error, "bad protocol code at byte 8");  // trailing garbage
  // Variable-length values.
  expect_bytes_fail("35", errc::parse_error, "bad dns value length at byte 1: truncated varint");
  expect_bytes_fail("3505616263", errc::parse_error, "truncated dns value at byte 2 (length 5, have 3)");
  expect_bytes_fail("35ffffffffffffffff7f", errc::parse_error, "truncated dns value");
  expect_bytes_fail("358000", errc::parse_error, "not minimally encoded");
  expect_bytes_fail("3500", errc::parse_error, "invalid dns value '' (empty)");
  expect_bytes_fail("3503612f62", errc::parse_error, "invalid dns value 'a/b' (contains '/')");
  expect_bytes_fail("3603612062", errc::parse_error, "invalid dns4 value");
  expect_bytes_fail("c1030100", errc::parse_error, "invalid sni value '\\x00'");
  expect_bytes_fail("a503", errc::parse_error, "bad p2p value length");
  expect_bytes_fail("a50300", errc::parse_error, "invalid p2p value at byte 3: peer id: multihash: empty");
  expect_bytes_fail("a503021200", errc::parse_error, "sha2-256 digest must be 32 bytes");
  expect_bytes_fail("a50303111400", errc::parse_error, "invalid p2p value");  // truncated sha1 inside
  {
    std::string sha1 = "a50316" "1114" + std::string(40, '0');
    auto r = Multiaddr::from_bytes(from_hex(sha1));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().detail.find("unsupported hash function 0x11"), std::string::npos) << r.error().detail;
  }
  expect_bytes_fail("a503020000", errc::parse_error, "empty identity multihash");
  expect_bytes_fail("d20300", errc::parse_error, "invalid certhash value at byte 3: multihash: empty");
  expect_bytes_fail("d203031220ab", errc::parse_error, "invalid certhash value");
  expect_bytes_fail(std::string("35") + "8202" + std::string(2 * 258, '6'), errc::parse_error,
                    "longer than 255 bytes");
}

TEST(Multiaddr, DnsBinaryAtTheLimit) {
  std::string hex = "35ff01" + std::string(2 * 255, '6');  // 255 x 'f'
  auto m = Multiaddr::from_bytes(from_hex(hex));
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->to_string(), "/dns/" + std::string(255, 'f'));
}

// The fuzz target's property, on a deterministic sample: random mutations of
// valid addresses either fail to decode, or print as text that parses back to
// exactly the same bytes.
TEST(Multiaddr, MutatedBytesRoundTripOrFail) {
  const std::vector<std::string> seeds = {
      "/ip4/127.0.0.1/tcp/4001/p2p/" + std::string(kEd),
      "/ip6/2001:db8::1/udp/4001/quic-v1/webtransport/certhash/" + std::string(kCertU),
      "/dns4/example.com/tcp/443/tls/sni/example.com/ws",
      "/dnsaddr/bootstrap.libp2p.io/p2p/" + std::string(kQm) + "/p2p-circuit/wss",
  };
  std::mt19937 rng(42);
  int decoded = 0;
  for (const auto& s : seeds) {
    const Bytes base = must_parse(s).bytes();
    for (int i = 0; i < 4000; ++i) {
      Bytes b = base;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !b.empty(); ++e) {
        const std::size_t at = rng() % b.size();
        switch (rng() % 4) {
          case 0: b[at] = static_cast<std::uint8_t>(rng()); break;
          case 1: b[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
          case 2: b.erase(b.begin() + static_cast<std::ptrdiff_t>(at)); break;
          case 3: b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), static_cast<std::uint8_t>(rng())); break;
        }
      }
      auto m = Multiaddr::from_bytes(b);
      if (!m.ok()) continue;
      ++decoded;
      const std::string text = m->to_string();
      auto again = Multiaddr::parse(text);
      ASSERT_TRUE(again.ok()) << to_hex(b) << " printed as '" << text << "': " << again.error().message();
      ASSERT_EQ(again->bytes(), b) << text;
    }
  }
  EXPECT_GT(decoded, 100);
}
