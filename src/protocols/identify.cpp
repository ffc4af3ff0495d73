#include "protocols/identify.hpp"

#include "core/protobuf.hpp"
#include "core/varint.hpp"

namespace weft::identify {

namespace field {
constexpr std::uint32_t kPublicKey = 1;
constexpr std::uint32_t kListenAddrs = 2;
constexpr std::uint32_t kProtocols = 3;
constexpr std::uint32_t kObservedAddr = 4;
constexpr std::uint32_t kProtocolVersion = 5;
constexpr std::uint32_t kAgentVersion = 6;
constexpr std::uint32_t kSignedPeerRecord = 8;
}  // namespace field

Bytes encode(const Info& info) {
  pb::Writer w;
  if (!info.public_key.empty()) w.bytes_field(field::kPublicKey, info.public_key);
  for (const auto& a : info.listen_addrs) w.bytes_field(field::kListenAddrs, a.bytes());
  for (const auto& p : info.protocols) w.string_field(field::kProtocols, p);
  if (info.observed_addr) w.bytes_field(field::kObservedAddr, info.observed_addr->bytes());
  if (!info.protocol_version.empty()) w.string_field(field::kProtocolVersion, info.protocol_version);
  if (!info.agent_version.empty()) w.string_field(field::kAgentVersion, info.agent_version);
  if (!info.signed_peer_record.empty()) w.bytes_field(field::kSignedPeerRecord, info.signed_peer_record);
  return std::move(w).take();
}

Status decode_into(BytesView message, Info& info, const Config& config) {
  pb::Reader r(message);
  pb::Field f;
  auto too_many = [&](const char* what) {
    return Error{errc::limit_exceeded, std::string("identify: more than ") +
                                           std::to_string(config.max_entries) + " " + what};
  };
  while (r.next(f)) {
    const bool bytes = f.type == pb::WireType::length_delimited;
    switch (f.number) {
      case field::kPublicKey:
        if (bytes) info.public_key.assign(f.bytes.begin(), f.bytes.end());
        break;
      case field::kListenAddrs:
        if (!bytes) break;
        if (info.listen_addrs.size() >= config.max_entries) return too_many("listen addresses");
        if (auto ma = Multiaddr::from_bytes(f.bytes)) info.listen_addrs.push_back(std::move(*ma));
        break;
      case field::kProtocols:
        if (!bytes) break;
        if (info.protocols.size() >= config.max_entries) return too_many("protocols");
        info.protocols.emplace_back(f.str());
        break;
      case field::kObservedAddr:
        if (!bytes) break;
        if (auto ma = Multiaddr::from_bytes(f.bytes)) info.observed_addr = std::move(*ma);
        break;
      case field::kProtocolVersion:
        if (bytes) info.protocol_version = std::string(f.str());
        break;
      case field::kAgentVersion:
        if (bytes) info.agent_version = std::string(f.str());
        break;
      case field::kSignedPeerRecord:
        if (bytes) info.signed_peer_record.assign(f.bytes.begin(), f.bytes.end());
        break;
      default:
        break;  // unknown fields are allowed by protobuf's rules
    }
  }
  if (!r.status().ok()) {
    Error e = r.status().error();
    e.detail = "identify: " + e.detail;
    return e;
  }
  return {};
}

Task<Status> send(ByteChannel& stream, Info info) {
  const Bytes body = encode(info);
  Bytes out;
  out.reserve(body.size() + varint::kMaxBytes);
  varint::encode(body.size(), out);
  append(out, body);
  WEFT_CO_CHECK(co_await stream.write_all(out));
  co_return co_await stream.close_write();
}

Task<Result<Info>> receive(ByteChannel& stream, Config config) {
  Info info;
  Bytes buf;
  std::size_t messages = 0;
  std::uint8_t chunk[4096];
  bool eof = false;
  for (;;) {
    // Decode every complete message in the buffer.
    for (;;) {
      if (buf.empty()) break;
      auto len = varint::decode(buf);
      if (!len) {
        if (len.code() == errc::eof) break;
        co_return Error{errc::parse_error, "identify: bad message length: " + len.error().detail};
      }
      if (len->value > config.max_message_size)
        co_return Error{errc::limit_exceeded, "identify: message of " + std::to_string(len->value) +
                                                  " bytes exceeds the limit of " +
                                                  std::to_string(config.max_message_size)};
      const std::size_t total = len->size + static_cast<std::size_t>(len->value);
      if (buf.size() < total) break;
      if (++messages > config.max_messages)
        co_return Error{errc::limit_exceeded, "identify: more than " +
                                                  std::to_string(config.max_messages) + " messages"};
      WEFT_CO_CHECK(decode_into(BytesView(buf).subspan(len->size, total - len->size), info, config));
      buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(total));
    }
    if (eof) break;
    auto n = co_await stream.read_some(chunk);
    if (!n) {
      if (n.code() != errc::eof) co_return std::move(n).error();
      eof = true;
      continue;
    }
    append(buf, BytesView(chunk, *n));
  }
  if (!buf.empty()) co_return Error{errc::parse_error, "identify: stream ended inside a message"};
  if (messages == 0) co_return Error{errc::protocol_error, "identify: the remote sent no message"};
  co_return info;
}

}  // namespace weft::identify
