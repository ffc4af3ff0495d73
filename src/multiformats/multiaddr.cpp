#include "multiformats/multiaddr.hpp"

#include <array>
#include <asio/ip/tcp.hpp>
#include <cstdio>

#include "core/varint.hpp"
#include "multiformats/multibase.hpp"
#include "multiformats/multihash.hpp"

namespace weft {
namespace {

// How a protocol's value is written.
enum class Kind {
  none,      // no value
  ip4,       // 4 bytes
  ip6,       // 16 bytes
  port,      // 2 bytes, big-endian
  name,      // varint length + UTF-8 name (dns*, sni)
  p2p,       // varint length + multihash (peer id)
  certhash,  // varint length + multihash (any hash function)
};

struct ProtoInfo {
  Protocol proto;
  std::string_view name;
  Kind kind;
};

constexpr ProtoInfo kProtocols[] = {
    {Protocol::ip4, "ip4", Kind::ip4},
    {Protocol::tcp, "tcp", Kind::port},
    {Protocol::dns, "dns", Kind::name},
    {Protocol::dns4, "dns4", Kind::name},
    {Protocol::dns6, "dns6", Kind::name},
    {Protocol::dnsaddr, "dnsaddr", Kind::name},
    {Protocol::ip6, "ip6", Kind::ip6},
    {Protocol::udp, "udp", Kind::port},
    {Protocol::p2p_circuit, "p2p-circuit", Kind::none},
    {Protocol::p2p, "p2p", Kind::p2p},
    {Protocol::tls, "tls", Kind::none},
    {Protocol::sni, "sni", Kind::name},
    {Protocol::quic, "quic", Kind::none},
    {Protocol::quic_v1, "quic-v1", Kind::none},
    {Protocol::webtransport, "webtransport", Kind::none},
    {Protocol::certhash, "certhash", Kind::certhash},
    {Protocol::ws, "ws", Kind::none},
    {Protocol::wss, "wss", Kind::none},
};

// Names in the multiaddr table that weft does not implement: reported as
// unsupported rather than unknown.
constexpr std::string_view kUnsupportedNames[] = {
    "dccp",  "ip6zone",  "ipcidr",   "sctp",  "udt",    "utp",   "unix",
    "onion", "onion3",   "garlic64", "garlic32", "noise", "http",  "https",
    "http-path", "webrtc", "webrtc-direct", "p2p-websocket-star", "p2p-stardust",
    "p2p-webrtc-star", "p2p-webrtc-direct", "memory", "ipfs-http", "plaintextv2",
};

const ProtoInfo* find_by_code(std::uint64_t code) {
  for (const auto& p : kProtocols)
    if (static_cast<std::uint64_t>(p.proto) == code) return &p;
  return nullptr;
}

const ProtoInfo* find_by_name(std::string_view name) {
  if (name == "ipfs") name = "p2p";  // legacy alias
  for (const auto& p : kProtocols)
    if (p.name == name) return &p;
  return nullptr;
}

const ProtoInfo& info(Protocol p) {
  const ProtoInfo* i = find_by_code(static_cast<std::uint64_t>(p));
  assert(i);
  return *i;
}

std::string quoted(std::string_view s) {
  // Keep error messages printable and bounded whatever the input.
  constexpr std::size_t kMax = 64;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

Error fail(std::string detail) { return Error{errc::parse_error, "multiaddr: " + std::move(detail)}; }

Error invalid(const ProtoInfo& p, std::string_view value, std::string why = {}) {
  std::string d = "invalid " + std::string(p.name) + " value " + quoted(value);
  if (!why.empty()) d += " (" + why + ")";
  return fail(std::move(d));
}

// ---- ip4 ------------------------------------------------------------------------

bool parse_ip4(std::string_view s, std::uint8_t out[4]) {
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= s.size() || s[pos] != '.') return false;
      ++pos;
    }
    std::size_t start = pos;
    unsigned v = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && pos - start < 3) {
      v = v * 10 + static_cast<unsigned>(s[pos] - '0');
      ++pos;
    }
    const std::size_t digits = pos - start;
    if (digits == 0 || v > 255) return false;
    if (digits > 1 && s[start] == '0') return false;  // leading zeros (octal ambiguity)
    out[part] = static_cast<std::uint8_t>(v);
  }
  return pos == s.size();
}

std::string format_ip4(const std::uint8_t* b) {
  return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
         std::to_string(b[3]);
}

// ---- ip6 ------------------------------------------------------------------------

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses a ':'-separated list of 16-bit groups; the last piece may be a
// dotted ip4 (two groups) if `allow_ip4_tail`. Empty `s` = no groups.
bool parse_groups(std::string_view s, bool allow_ip4_tail, std::vector<std::uint16_t>& out) {
  if (s.empty()) return true;
  std::size_t pos = 0;
  while (true) {
    const std::size_t colon = s.find(':', pos);
    const std::string_view piece = s.substr(pos, colon == std::string_view::npos ? s.npos : colon - pos);
    const bool last = colon == std::string_view::npos;
    if (last && allow_ip4_tail && piece.find('.') != std::string_view::npos) {
      std::uint8_t b[4];
      if (!parse_ip4(piece, b)) return false;
      out.push_back(static_cast<std::uint16_t>((b[0] << 8) | b[1]));
      out.push_back(static_cast<std::uint16_t>((b[2] << 8) | b[3]));
      return true;
    }
    if (piece.empty() || piece.size() > 4) return false;
    unsigned v = 0;
    for (char c : piece) {
      const int h = hex_value(c);
      if (h < 0) return false;
      v = (v << 4) | static_cast<unsigned>(h);
    }
    out.push_back(static_cast<std::uint16_t>(v));
    if (out.size() > 8) return false;
    if (last) return true;
    pos = colon + 1;
  }
}

bool parse_ip6(std::string_view s, std::uint8_t out[16]) {
  if (s.size() > 45) return false;  // longest: ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255
  std::vector<std::uint16_t> head, tail;
  const std::size_t dc = s.find("::");
  if (dc == std::string_view::npos) {
    if (!parse_groups(s, true, head) || head.size() != 8) return false;
  } else {
    if (s.find("::", dc + 1) != std::string_view::npos) return false;
    const std::string_view hs = s.substr(0, dc), ts = s.substr(dc + 2);
    if (!parse_groups(hs, false, head) || !parse_groups(ts, true, tail)) return false;
    if (head.size() + tail.size() > 7) return false;
  }
  std::array<std::uint16_t, 8> g{};
  for (std::size_t i = 0; i < head.size(); ++i) g[i] = head[i];
  for (std::size_t i = 0; i < tail.size(); ++i) g[8 - tail.size() + i] = tail[i];
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(g[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(g[i] & 0xff);
  }
  return true;
}

// RFC 5952: lowercase, no leading zeros, the longest run (first if tied) of
// two or more zero groups compressed to "::"; IPv4-mapped as ::ffff:a.b.c.d.
std::string format_ip6(const std::uint8_t* b) {
  bool mapped = b[10] == 0xff && b[11] == 0xff;
  for (int i = 0; i < 10 && mapped; ++i) mapped = b[i] == 0;
  if (mapped) return "::ffff:" + format_ip4(b + 12);

  std::uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<std::uint16_t>((b[2 * i] << 8) | b[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;

  std::string out;
  char buf[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out.push_back(':');
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    out += buf;
  }
  return out;
}

// ---- port -----------------------------------------------------------------------

bool parse_port(std::string_view s, std::uint16_t& out) {
  if (s.empty() || s.size() > 5) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 65535) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

// ---- names ----------------------------------------------------------------------

// Empty if fine, else why not. The same rules for text and binary, so every
// binary name prints as text that parses back.
std::string check_name(std::string_view s) {
  if (s.empty()) return "empty";
  if (s.size() > Multiaddr::kMaxNameLength)
    return "longer than " + std::to_string(Multiaddr::kMaxNameLength) + " bytes";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/') return "contains '/'";
    if (u <= 0x20 || u == 0x7f) return "contains a space or control character";
  }
  return {};
}

// ---- values: binary <-> text --------------------------------------------------------

// Text -> binary value (appended to `out`, with the length prefix for
// variable-size kinds).
Status value_from_text(const ProtoInfo& p, std::string_view text, Bytes& out) {
  switch (p.kind) {
    case Kind::none:
      return {};
    case Kind::ip4: {
      std::uint8_t b[4];
      if (!parse_ip4(text, b)) return Error{errc::parse_error, "multiaddr: invalid ip4 address " + quoted(text)};
      out.insert(out.end(), b, b + 4);
      return {};
    }
    case Kind::ip6: {
      std::uint8_t b[16];
      if (text.find('%') != std::string_view::npos)
        return Error{errc::parse_error,
                     "multiaddr: invalid ip6 address " + quoted(text) + " (zones are not supported)"};
      if (!parse_ip6(text, b)) return Error{errc::parse_error, "multiaddr: invalid ip6 address " + quoted(text)};
      out.insert(out.end(), b, b + 16);
      return {};
    }
    case Kind::port: {
      std::uint16_t port = 0;
      if (!parse_port(text, port))
        return Error{errc::parse_error, "multiaddr: invalid " + std::string(p.name) + " port " + quoted(text) +
                                            " (expected 0..65535 without leading zeros)"};
      out.push_back(static_cast<std::uint8_t>(port >> 8));
      out.push_back(static_cast<std::uint8_t>(port & 0xff));
      return {};
    }
    case Kind::name: {
      if (auto why = check_name(text); !why.empty()) return invalid(p, text, why);
      varint::encode(text.size(), out);
      append(out, as_bytes(text));
      return {};
    }
    case Kind::p2p: {
      auto id = PeerId::parse(text);
      if (!id) return invalid(p, text, id.error().detail);
      varint::encode(id->multihash().size(), out);
      append(out, id->multihash());
      return {};
    }
    case Kind::certhash: {
      auto raw = multibase::decode(text);
      if (!raw) return invalid(p, text, raw.error().detail);
      auto mh = multihash::decode_any(*raw);
      if (!mh) return invalid(p, text, mh.error().detail);
      varint::encode(raw->size(), out);
      append(out, *raw);
      return {};
    }
  }
  return fail("internal: unhandled protocol kind");
}

std::string value_to_text(Protocol proto, BytesView v) {
  switch (info(proto).kind) {
    case Kind::none: return {};
    case Kind::ip4: return format_ip4(v.data());
    case Kind::ip6: return format_ip6(v.data());
    case Kind::port: return std::to_string((v[0] << 8) | v[1]);
    case Kind::name: return std::string(as_string_view(v));
    case Kind::p2p: return multibase::base58btc_encode(v);
    case Kind::certhash: return multibase::encode(multibase::Base::base64url, v);
  }
  return {};
}

struct Decoded {
  Multiaddr::Component comp;
  std::size_t size;  // bytes consumed
};

// One binary component at in[offset...], fully validated.
Result<Decoded> decode_component(BytesView all, std::size_t offset) {
  const BytesView in = all.subspan(offset);
  auto code = varint::decode(in);
  if (!code)
    return fail("bad protocol code at byte " + std::to_string(offset) + ": " + code.error().detail);
  const ProtoInfo* p = find_by_code(code->value);
  if (!p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(code->value));
    return Error{errc::unsupported, std::string("multiaddr: unknown protocol code ") + buf + " (" +
                                        std::to_string(code->value) + ") at byte " + std::to_string(offset)};
  }
  std::size_t pos = code->size;
  const std::string name(p->name);
  auto need = [&](std::size_t n) -> Status {
    if (in.size() - pos < n)
      return fail("truncated " + name + " value at byte " + std::to_string(offset + pos) + " (need " +
                  std::to_string(n) + " bytes, have " + std::to_string(in.size() - pos) + ")");
    return {};
  };
  std::size_t len = 0;
  switch (p->kind) {
    case Kind::none: len = 0; break;
    case Kind::ip4: len = 4; break;
    case Kind::ip6: len = 16; break;
    case Kind::port: len = 2; break;
    case Kind::name:
    case Kind::p2p:
    case Kind::certhash: {
      auto l = varint::decode(in.subspan(pos));
      if (!l)
        return fail("bad " + name + " value length at byte " + std::to_string(offset + pos) + ": " +
                    l.error().detail);
      pos += l->size;
      if (l->value > in.size() - pos)
        return fail("truncated " + name + " value at byte " + std::to_string(offset + pos) + " (length " +
                    std::to_string(l->value) + ", have " + std::to_string(in.size() - pos) + ")");
      len = static_cast<std::size_t>(l->value);
      break;
    }
  }
  WEFT_CHECK(need(len));
  const BytesView value = in.subspan(pos, len);
  switch (p->kind) {
    case Kind::name:
      if (auto why = check_name(as_string_view(value)); !why.empty())
        return invalid(*p, as_string_view(value), why);
      break;
    case Kind::p2p:
      if (auto id = PeerId::from_multihash(value); !id)
        return fail("invalid p2p value at byte " + std::to_string(offset + pos) + ": " + id.error().detail);
      break;
    case Kind::certhash:
      if (auto mh = multihash::decode_any(value); !mh)
        return fail("invalid certhash value at byte " + std::to_string(offset + pos) + ": " + mh.error().detail);
      break;
    default:
      break;
  }
  return Decoded{Multiaddr::Component{p->proto, Bytes(value.begin(), value.end())}, pos + len};
}

}  // namespace

std::string_view protocol_name(Protocol p) {
  const ProtoInfo* i = find_by_code(static_cast<std::uint64_t>(p));
  return i ? i->name : std::string_view("unknown");
}

std::string Multiaddr::Component::value_string() const { return value_to_text(proto, value); }

Result<Multiaddr> Multiaddr::parse(std::string_view text) {
  if (text.empty()) return fail("empty string");
  if (text[0] != '/') return fail("must start with '/': " + quoted(text));
  // One trailing '/' is tolerated (as go-multiaddr and js-multiaddr do).
  if (text.size() > 1 && text.back() == '/') text.remove_suffix(1);
  if (text == "/") return fail("no components");
  Bytes out;
  std::size_t pos = 1;  // just after a '/'
  auto next_segment = [&]() {
    const std::size_t end = text.find('/', pos);
    std::string_view seg = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
    pos = end == std::string_view::npos ? text.size() + 1 : end + 1;
    return seg;
  };
  while (pos <= text.size()) {
    const std::size_t at = pos;
    const std::string_view name = next_segment();
    if (name.empty()) return fail("empty protocol name at offset " + std::to_string(at) + " (stray '/')");
    const ProtoInfo* p = find_by_name(name);
    if (!p) {
      for (auto n : kUnsupportedNames)
        if (n == name) return Error{errc::unsupported, "multiaddr: unsupported protocol " + quoted(name)};
      return fail("unknown protocol " + quoted(name));
    }
    varint::encode(static_cast<std::uint64_t>(p->proto), out);
    if (p->kind == Kind::none) continue;
    if (pos > text.size()) return fail("missing value for " + quoted(name));
    const std::string_view value = next_segment();
    if (value.empty()) return fail("empty value for " + quoted(name));
    WEFT_CHECK(value_from_text(*p, value, out));
  }
  return Multiaddr(std::move(out));
}

Result<Multiaddr> Multiaddr::from_bytes(BytesView bytes) {
  if (bytes.empty()) return fail("empty");
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    WEFT_TRY(Decoded d, decode_component(bytes, pos));
    pos += d.size;
  }
  return Multiaddr(Bytes(bytes.begin(), bytes.end()));
}

std::vector<Multiaddr::Component> Multiaddr::components() const {
  std::vector<Component> out;
  std::size_t pos = 0;
  while (pos < bytes_.size()) {
    auto d = decode_component(bytes_, pos);
    if (!d) break;  // cannot happen: bytes_ is validated on the way in
    pos += d->size;
    out.push_back(std::move(d->comp));
  }
  return out;
}

std::string Multiaddr::to_string() const {
  std::string out;
  for (const auto& c : components()) {
    out.push_back('/');
    out += protocol_name(c.proto);
    if (info(c.proto).kind != Kind::none) {
      out.push_back('/');
      out += c.value_string();
    }
  }
  return out;
}

Multiaddr Multiaddr::encapsulate(const Multiaddr& inner) const {
  Bytes b = bytes_;
  append(b, inner.bytes_);
  return Multiaddr(std::move(b));
}

namespace {
// Offset and value of the last component, if it is /p2p/.
std::optional<std::pair<std::size_t, Bytes>> trailing_p2p(const Bytes& bytes) {
  std::size_t pos = 0;
  std::optional<std::pair<std::size_t, Bytes>> last;
  while (pos < bytes.size()) {
    auto d = decode_component(bytes, pos);
    if (!d) return std::nullopt;
    if (d->comp.proto == Protocol::p2p)
      last.emplace(pos, std::move(d->comp.value));
    else
      last.reset();
    pos += d->size;
  }
  return last;
}
}  // namespace

std::optional<PeerId> Multiaddr::peer_id() const {
  auto t = trailing_p2p(bytes_);
  if (!t) return std::nullopt;
  auto id = PeerId::from_multihash(t->second);
  if (!id) return std::nullopt;
  return std::move(id).value();
}

Multiaddr Multiaddr::without_peer_id() const {
  auto t = trailing_p2p(bytes_);
  if (!t) return *this;
  return Multiaddr(Bytes(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(t->first)));
}

// ---- TCP helpers -------------------------------------------------------------------

Result<TcpTarget> to_tcp_target(const Multiaddr& addr) {
  auto unsupported = [&] {
    return Error{errc::unsupported, "multiaddr: not a TCP address: '" + addr.to_string() + "'"};
  };
  const auto comps = addr.components();
  if (comps.size() < 2 || comps.size() > 3) return unsupported();
  if (comps[1].proto != Protocol::tcp) return unsupported();
  if (comps.size() == 3 && comps[2].proto != Protocol::p2p) return unsupported();
  TcpTarget t;
  switch (comps[0].proto) {
    case Protocol::ip4: t.family = 4; break;
    case Protocol::ip6: t.family = 6; break;
    case Protocol::dns: t.family = 0; t.is_dns = true; break;
    case Protocol::dns4: t.family = 4; t.is_dns = true; break;
    case Protocol::dns6: t.family = 6; t.is_dns = true; break;
    default: return unsupported();
  }
  t.host = comps[0].value_string();
  t.port = static_cast<std::uint16_t>((comps[1].value[0] << 8) | comps[1].value[1]);
  return t;
}

Multiaddr from_tcp_endpoint(const asio::ip::tcp::endpoint& endpoint) {
  Bytes b;
  const asio::ip::address a = endpoint.address();
  if (a.is_v4() || (a.is_v6() && a.to_v6().is_v4_mapped())) {
    const auto v4 = a.is_v4() ? a.to_v4() : asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    varint::encode(static_cast<std::uint64_t>(Protocol::ip4), b);
    const auto bytes = v4.to_bytes();
    b.insert(b.end(), bytes.begin(), bytes.end());
  } else {
    varint::encode(static_cast<std::uint64_t>(Protocol::ip6), b);
    const auto bytes = a.to_v6().to_bytes();
    b.insert(b.end(), bytes.begin(), bytes.end());
  }
  varint::encode(static_cast<std::uint64_t>(Protocol::tcp), b);
  b.push_back(static_cast<std::uint8_t>(endpoint.port() >> 8));
  b.push_back(static_cast<std::uint8_t>(endpoint.port() & 0xff));
  auto m = Multiaddr::from_bytes(b);
  assert(m.ok());
  return std::move(m).value();
}

}  // namespace weft
