// Multiaddr: self-describing network addresses, per
// https://github.com/multiformats/multiaddr. Text form "/ip4/1.2.3.4/tcp/4001";
// binary form a sequence of <varint protocol code>[<value>], where the value
// is fixed-size or <varint length><bytes> depending on the protocol.
//
// A Multiaddr holds the binary form, which is always valid: parse() and
// from_bytes() are the only ways in, and both validate every component.
// to_string() prints the canonical text form, so for any valid binary
// from_bytes(b) -> to_string() -> parse() gives back exactly b, and for text
// already in canonical form parse(t) -> to_string() gives back exactly t.
// Non-canonical text that parse() accepts and rewrites:
//   - ip6 addresses are printed in RFC 5952 form (lowercase, zeros
//     compressed, IPv4-mapped addresses as ::ffff:a.b.c.d);
//   - /ipfs/<id> is printed as /p2p/<id>, and a CIDv1 peer id as base58btc;
//   - /certhash/ values in any multibase are printed as base64url ('u...').
//   - one trailing '/' is dropped ("/ip4/1.2.3.4/tcp/1/"), as in go/js-multiaddr.
// parse() is otherwise strict: no empty components ("//"), no leading zeros
// in ports or ip4 octets, no ip6 zones, names without spaces/control chars.
// The empty address ("" or "/", or no bytes) is rejected by both parsers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "multiformats/peer_id.hpp"

namespace asio::ip {
class tcp;
template <typename InternetProtocol>
class basic_endpoint;
}  // namespace asio::ip

namespace weft {

// The multicodec numbers of the protocols weft understands.
enum class Protocol : std::uint32_t {
  ip4 = 4,
  tcp = 6,
  dns = 53,
  dns4 = 54,
  dns6 = 55,
  dnsaddr = 56,
  ip6 = 41,
  udp = 273,
  p2p_circuit = 290,
  p2p = 421,  // text "p2p"; "ipfs" is accepted on input
  tls = 448,
  sni = 449,
  quic = 460,
  quic_v1 = 461,
  webtransport = 465,
  certhash = 466,
  ws = 477,
  wss = 478,
};

// Canonical text name ("ip4", "quic-v1", "p2p", ...).
std::string_view protocol_name(Protocol p);

class Multiaddr {
 public:
  // Longest value accepted for dns / dns4 / dns6 / dnsaddr / sni names.
  static constexpr std::size_t kMaxNameLength = 255;

  struct Component {
    Protocol proto;
    Bytes value;  // the binary value (empty for protocols without one)

    // The value in text form, as to_string() prints it ("" if none).
    std::string value_string() const;
    friend bool operator==(const Component&, const Component&) = default;
  };

  Multiaddr() = default;  // empty: no components; to_string() is ""

  static Result<Multiaddr> parse(std::string_view text);
  static Result<Multiaddr> from_bytes(BytesView bytes);

  std::string to_string() const;
  const Bytes& bytes() const { return bytes_; }
  bool empty() const { return bytes_.empty(); }
  std::vector<Component> components() const;

  // This address followed by `inner` ("/ip4/../tcp/1" + "/p2p/Qm..").
  Multiaddr encapsulate(const Multiaddr& inner) const;

  // The peer id of the trailing /p2p/<id> component, if the address ends
  // with one. A /p2p/ component followed by anything else (a relay in
  // ".../p2p/<relay>/p2p-circuit") does not count: it is not the id of the
  // peer the address leads to.
  std::optional<PeerId> peer_id() const;
  // The address without that trailing /p2p/<id> (unchanged if none).
  Multiaddr without_peer_id() const;

  friend bool operator==(const Multiaddr&, const Multiaddr&) = default;

 private:
  explicit Multiaddr(Bytes b) : bytes_(std::move(b)) {}
  Bytes bytes_;
};

using MultiaddrComponent = Multiaddr::Component;

// ---- helpers for the TCP transport --------------------------------------------

struct TcpTarget {
  std::string host;    // an IP address (canonical text) or a DNS name
  bool is_dns = false;
  int family = 0;      // 4 (ip4, dns4), 6 (ip6, dns6) or 0 (dns: either)
  std::uint16_t port = 0;
};

// Accepts /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>[/p2p/<id>]; anything else
// (other transports, /ws on top, dnsaddr, relays) is errc::unsupported.
Result<TcpTarget> to_tcp_target(const Multiaddr& addr);

// /ip4/<a>/tcp/<port> or /ip6/<a>/tcp/<port>. An IPv4-mapped IPv6 address
// (as a dual-stack socket reports IPv4 peers) becomes /ip4/; an IPv6 scope
// id is dropped (weft has no /ip6zone/).
Multiaddr from_tcp_endpoint(const asio::ip::basic_endpoint<asio::ip::tcp>& endpoint);

}  // namespace weft

template <>
struct std::hash<weft::Multiaddr> {
  std::size_t operator()(const weft::Multiaddr& m) const noexcept {
    return std::hash<std::string_view>{}(weft::as_string_view(m.bytes()));
  }
};
