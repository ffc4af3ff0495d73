// Fuzzes Multiaddr::from_bytes and Multiaddr::parse.
//   binary: if from_bytes accepts, to_string() must parse back to exactly the
//           same bytes (the binary -> text -> binary round trip is exact);
//   text:   if parse accepts, its to_string() is canonical: it parses to the
//           same bytes and prints identically again.
// The accessors (components, peer_id, without_peer_id, to_tcp_target) run on
// whatever was accepted, and must agree with each other.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "multiformats/multiaddr.hpp"

namespace {

void exercise(const weft::Multiaddr& m) {
  const auto comps = m.components();
  if (comps.empty()) __builtin_trap();
  // Re-encapsulating the components one by one rebuilds the address.
  weft::Multiaddr rebuilt;
  for (const auto& c : comps) {
    std::string text = "/" + std::string(weft::protocol_name(c.proto));
    const std::string v = c.value_string();
    if (!c.value.empty()) text += "/" + v;
    auto one = weft::Multiaddr::parse(text);
    if (!one.ok()) __builtin_trap();
    rebuilt = rebuilt.encapsulate(*one);
  }
  if (rebuilt != m || std::hash<weft::Multiaddr>{}(rebuilt) != std::hash<weft::Multiaddr>{}(m)) __builtin_trap();

  const auto id = m.peer_id();
  const weft::Multiaddr without = m.without_peer_id();
  if (id.has_value() != (comps.back().proto == weft::Protocol::p2p)) __builtin_trap();
  if (id) {
    if (without.bytes().size() >= m.bytes().size()) __builtin_trap();
    auto p2p = weft::Multiaddr::parse("/p2p/" + id->to_base58());
    if (!p2p.ok() || without.encapsulate(*p2p) != m) __builtin_trap();
  } else if (without != m) {
    __builtin_trap();
  }
  auto t = weft::to_tcp_target(m);
  if (!t.ok() && t.code() != weft::errc::unsupported) __builtin_trap();
  if (t.ok() && (t->host.empty() || (comps.size() != 2 && comps.size() != 3))) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const weft::BytesView bytes(data, size);
  if (auto m = weft::Multiaddr::from_bytes(bytes); m.ok()) {
    if (m->bytes() != weft::Bytes(data, data + size)) __builtin_trap();
    const std::string text = m->to_string();
    auto again = weft::Multiaddr::parse(text);
    if (!again.ok() || again->bytes() != m->bytes()) __builtin_trap();
    if (again->to_string() != text) __builtin_trap();
    exercise(*m);
  } else if (m.code() != weft::errc::parse_error && m.code() != weft::errc::unsupported) {
    __builtin_trap();
  }

  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto m = weft::Multiaddr::parse(text); m.ok()) {
    const std::string canonical = m->to_string();
    auto again = weft::Multiaddr::parse(canonical);
    if (!again.ok() || again->bytes() != m->bytes() || again->to_string() != canonical) __builtin_trap();
    auto b = weft::Multiaddr::from_bytes(m->bytes());
    if (!b.ok() || *b != *m) __builtin_trap();
    exercise(*m);
  } else if (m.code() != weft::errc::parse_error && m.code() != weft::errc::unsupported) {
    __builtin_trap();
  }
  return 0;
}
