#include "noise/payload.hpp"

#include "core/protobuf.hpp"

namespace weft::noise {
namespace {

Error malformed(std::string detail) {
  return Error{errc::parse_error, "noise handshake payload: " + std::move(detail)};
}

Status decode_extensions(BytesView in, HandshakePayload& out) {
  pb::Reader reader(in);
  pb::Field f;
  while (reader.next(f)) {
    if (f.number != 1 && f.number != 2) continue;
    if (f.type != pb::WireType::length_delimited)
      return malformed(std::string("extensions.") +
                       (f.number == 1 ? "webtransport_certhashes" : "stream_muxers") +
                       " is not length-delimited");
    if (f.number == 1) {
      out.webtransport_certhashes.emplace_back(f.bytes.begin(), f.bytes.end());
    } else {
      out.stream_muxers.emplace_back(f.str());
    }
  }
  if (!reader.status().ok()) return malformed("extensions: " + reader.status().error().detail);
  return {};
}

}  // namespace

Bytes HandshakePayload::encode() const {
  pb::Writer w;
  w.bytes_field(1, identity_key);
  w.bytes_field(2, identity_sig);
  if (!webtransport_certhashes.empty() || !stream_muxers.empty()) {
    pb::Writer ext;
    for (const Bytes& h : webtransport_certhashes) ext.bytes_field(1, h);
    for (const std::string& m : stream_muxers) ext.string_field(2, m);
    w.bytes_field(4, ext.bytes());
  }
  return std::move(w).take();
}

Result<HandshakePayload> HandshakePayload::decode(BytesView in) {
  HandshakePayload p;
  pb::Reader reader(in);
  pb::Field f;
  while (reader.next(f)) {
    switch (f.number) {
      case 1:
        if (f.type != pb::WireType::length_delimited)
          return malformed("identity_key is not length-delimited");
        p.identity_key.assign(f.bytes.begin(), f.bytes.end());
        break;
      case 2:
        if (f.type != pb::WireType::length_delimited)
          return malformed("identity_sig is not length-delimited");
        p.identity_sig.assign(f.bytes.begin(), f.bytes.end());
        break;
      case 4:
        if (f.type != pb::WireType::length_delimited)
          return malformed("extensions is not length-delimited");
        // Repeated occurrences of an embedded message merge, as in protobuf.
        WEFT_CHECK(decode_extensions(f.bytes, p));
        break;
      default:
        break;
    }
  }
  if (!reader.status().ok()) return malformed(reader.status().error().detail);
  if (p.identity_key.empty()) return malformed("identity_key is missing");
  if (p.identity_sig.empty()) return malformed("identity_sig is missing");
  return p;
}

}  // namespace weft::noise
