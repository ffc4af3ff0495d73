// PeerId: the multihash of a peer's protobuf-encoded public key
// (identity multihash when the encoding is at most 42 bytes, else sha2-256),
// per libp2p's peer-ids spec.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace weft {

class PeerId {
 public:
  PeerId() = default;  // empty, invalid; valid() is false

  // From the binary multihash (as carried in /p2p/ multiaddr components).
  // Validates the multihash: identity (0x00) or sha2-256 (0x12, 32 bytes).
  static Result<PeerId> from_multihash(BytesView multihash);

  // (Deriving a PeerId from a public key needs SHA-256 and lives in the
  // crypto layer: crypto::peer_id_from_public_key in crypto/keys.hpp.)

  // Parses both text forms: the legacy base58btc multihash ("12D3KooW…",
  // "Qm…") and the CIDv1 form (multibase, codec libp2p-key 0x72), e.g. "bafzaa…".
  static Result<PeerId> parse(std::string_view text);

  std::string to_base58() const;  // canonical text form
  std::string to_cid() const;     // CIDv1, base32, codec libp2p-key
  std::string to_string() const { return to_base58(); }

  const Bytes& multihash() const { return mh_; }
  bool valid() const { return !mh_.empty(); }

  // For identity-multihash ids: the embedded protobuf public key; empty otherwise.
  BytesView inline_public_key() const;

  friend bool operator==(const PeerId&, const PeerId&) = default;
  friend auto operator<=>(const PeerId& a, const PeerId& b) { return a.mh_ <=> b.mh_; }

 private:
  explicit PeerId(Bytes mh) : mh_(std::move(mh)) {}
  Bytes mh_;
};

}  // namespace weft

template <>
struct std::hash<weft::PeerId> {
  std::size_t operator()(const weft::PeerId& p) const noexcept {
    return std::hash<std::string_view>{}(weft::as_string_view(p.multihash()));
  }
};
