// libp2p identity keys, per libp2p's peer-ids spec (peer-ids/peer-ids.md):
// the PublicKey / PrivateKey protobufs, peer id derivation, and our own
// Ed25519 identity.
//
// Only Ed25519 keys can be used (signatures verified, identities created).
// Public keys of the other types decode structurally, so a peer presenting
// one gets a precise errc::unsupported rather than a parse failure.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "crypto/crypto.hpp"
#include "multiformats/peer_id.hpp"

namespace weft::crypto {

enum class KeyType : std::uint32_t { rsa = 0, ed25519 = 1, secp256k1 = 2, ecdsa = 3 };

// "RSA", "Ed25519", "Secp256k1", "ECDSA".
const char* key_type_name(KeyType type);

// Bounds on the Data field of a PublicKey, checked before anything parses it.
// The RSA PKIX (SubjectPublicKeyInfo) DER of an 8192-bit key with exponent
// 65537 is 1062 bytes; the bound leaves room for longer exponents only.
inline constexpr std::size_t kMaxRsaPublicKeyDerSize = 1100;
inline constexpr std::size_t kMaxEcdsaPublicKeyDerSize = 256;  // P-521 SPKI is 158 bytes
inline constexpr std::size_t kEd25519PublicKeySize = 32;

class PublicKey {
 public:
  PublicKey() = default;  // an empty Ed25519 key: usable only as a placeholder
  PublicKey(KeyType type, Bytes data) : type_(type), data_(std::move(data)) {}

  // Decodes the PublicKey protobuf `{KeyType Type = 1; bytes Data = 2;}`.
  // Errors: parse_error (malformed protobuf, missing field, wrong Ed25519 size),
  // limit_exceeded (key data longer than any supported key of its type),
  // unsupported (a key type number libp2p does not define).
  static Result<PublicKey> decode(BytesView protobuf);

  // The deterministic encoding: field 1 then field 2, nothing else.
  Bytes encode() const;

  // Verifies `sig` over `msg`: crypto_error if it does not verify,
  // unsupported for key types weft cannot verify yet.
  Status verify(BytesView msg, BytesView sig) const;

  KeyType type() const { return type_; }
  const Bytes& data() const { return data_; }

  friend bool operator==(const PublicKey&, const PublicKey&) = default;

 private:
  KeyType type_ = KeyType::ed25519;
  Bytes data_;
};

// The peer id of a key: identity multihash of the encoding when it is at
// most 42 bytes, else its sha2-256 multihash.
PeerId peer_id_from_public_key(const PublicKey& key);

// An X25519 key pair and an identity's signature over `context || public key`.
struct SignedX25519Key {
  X25519KeyPair key;
  std::array<std::uint8_t, 64> signature;
};

// Our own identity: an Ed25519 key pair, with its public key and peer id.
class Identity {
 public:
  static constexpr std::size_t kMaxFileSize = 8192;  // bound on load()

  static Identity generate();
  static Identity from_seed(const std::array<std::uint8_t, 32>& seed);

  // Decodes a libp2p PrivateKey protobuf. Ed25519 data may be the 64-byte
  // seed || public key form (the public half must match the seed), the bare
  // 32-byte seed, or the legacy 96-byte seed || public || public form.
  // Other key types are errc::unsupported.
  static Result<Identity> decode(BytesView private_key_protobuf);

  // The PrivateKey protobuf with the 64-byte Ed25519 form (what go-libp2p's
  // MarshalPrivateKey writes).
  Bytes encode() const;

  // Reads / writes the raw PrivateKey protobuf. save() creates the file with
  // mode 0600 and replaces it atomically; load() refuses files larger than
  // kMaxFileSize.
  static Result<Identity> load(const std::string& path);
  Status save(const std::string& path) const;

  const PublicKey& public_key() const { return public_key_; }
  const PeerId& peer_id() const { return peer_id_; }
  std::array<std::uint8_t, 64> sign(BytesView msg) const;

  // An X25519 key pair bound to this identity for `context`, signed by it:
  // made on the first call for that context, then the same one for this
  // identity and all its copies, as long as any of them exists. Noise uses it
  // as the node's static key (go-libp2p and js-libp2p also keep one static key
  // per node): a handshake then costs no key generation and no signature.
  // Thread-safe.
  SignedX25519Key signed_x25519_key(std::string_view context) const;

 private:
  struct DerivedKeys;
  explicit Identity(const Ed25519KeyPair& kp);
  Ed25519KeyPair keys_;
  PublicKey public_key_;
  PeerId peer_id_;
  std::shared_ptr<DerivedKeys> derived_;
};

}  // namespace weft::crypto

// The key types are used throughout weft; the crypto namespace is only
// where they are implemented.
namespace weft {
using crypto::Identity;
using crypto::KeyType;
using crypto::peer_id_from_public_key;
using crypto::PublicKey;
}  // namespace weft
