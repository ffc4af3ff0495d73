#include "multiformats/peer_id.hpp"

#include <cstdio>

#include "core/varint.hpp"
#include "multiformats/multibase.hpp"
#include "multiformats/multihash.hpp"

namespace weft {
namespace {

constexpr std::uint64_t kCidV1 = 0x01;
constexpr std::uint64_t kLibp2pKeyCodec = 0x72;
// The longest valid text form: a CIDv1 of a 128-byte identity multihash in
// base16 is ~270 characters. Anything much longer is rejected before decoding.
constexpr std::size_t kMaxTextSize = 512;

std::string hex_code(std::uint64_t code) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%02llx", static_cast<unsigned long long>(code));
  return buf;
}

Error wrap(const Error& e) {
  // Keep the code; prefix the detail so the caller sees which parser failed.
  return Error{e.code, "peer id: " + e.detail};
}

}  // namespace

Result<PeerId> PeerId::from_multihash(BytesView mh) {
  auto v = multihash::decode(mh);
  if (!v) return wrap(v.error());
  if (v->code == multihash::kIdentity && v->digest.empty())
    return Error{errc::parse_error, "peer id: empty identity multihash"};
  return PeerId(Bytes(mh.begin(), mh.end()));
}

Result<PeerId> PeerId::parse(std::string_view text) {
  if (text.empty()) return Error{errc::parse_error, "peer id: empty string"};
  if (text.size() > kMaxTextSize)
    return Error{errc::parse_error,
                 "peer id: text too long (" + std::to_string(text.size()) + " characters)"};
  // The legacy form: a bare base58btc multihash. Identity multihashes start
  // with a 0x00 byte, so their base58 starts with '1'; sha2-256 ones with "Qm".
  if (text[0] == '1' || text[0] == 'Q') {
    auto mh = multibase::base58btc_decode(text);
    if (!mh) return wrap(mh.error());
    return from_multihash(*mh);
  }
  // Otherwise a CIDv1 in any multibase: <0x01><0x72 libp2p-key><multihash>.
  auto bytes = multibase::decode(text);
  if (!bytes) return wrap(bytes.error());
  BytesView in = *bytes;
  auto version = varint::decode(in);
  if (!version) return Error{errc::parse_error, "peer id: bad CID version: " + version.error().detail};
  if (version->value != kCidV1)
    return Error{errc::parse_error, "peer id: CID version " + std::to_string(version->value) +
                                        " is not 1 (a bare multihash must be base58btc)"};
  in = in.subspan(version->size);
  auto codec = varint::decode(in);
  if (!codec) return Error{errc::parse_error, "peer id: bad CID codec: " + codec.error().detail};
  if (codec->value != kLibp2pKeyCodec)
    return Error{errc::parse_error, "peer id: CID codec " + hex_code(codec->value) +
                                        " is not libp2p-key (0x72)"};
  return from_multihash(in.subspan(codec->size));
}

std::string PeerId::to_base58() const { return multibase::base58btc_encode(mh_); }

std::string PeerId::to_cid() const {
  Bytes cid;
  cid.reserve(mh_.size() + 2);
  varint::encode(kCidV1, cid);
  varint::encode(kLibp2pKeyCodec, cid);
  append(cid, mh_);
  return multibase::encode(multibase::Base::base32, cid);
}

BytesView PeerId::inline_public_key() const {
  if (mh_.empty()) return {};
  auto v = multihash::decode(mh_);
  if (!v || v->code != multihash::kIdentity) return {};
  return v->digest;
}

}  // namespace weft
