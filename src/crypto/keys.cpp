#include "crypto/keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include "core/protobuf.hpp"
#include "core/varint.hpp"

namespace weft::crypto {
namespace {

// Largest encoded public key that is embedded in a peer id verbatim.
constexpr std::size_t kMaxInlineKeySize = 42;
constexpr std::uint8_t kMultihashIdentity = 0x00;
constexpr std::uint8_t kMultihashSha256 = 0x12;

struct KeyMessage {
  std::uint64_t type = 0;
  BytesView data;
};

// Both PublicKey and PrivateKey are `{KeyType Type = 1; bytes Data = 2;}`
// (proto2, both required). Unknown fields are skipped: a peer id is always
// derived from our own re-encoding, so they cannot change an identity.
Result<KeyMessage> decode_key_message(BytesView in, const char* what) {
  std::optional<std::uint64_t> type;
  std::optional<BytesView> data;
  pb::Reader reader(in);
  pb::Field f;
  while (reader.next(f)) {
    if (f.number == 1) {
      if (f.type != pb::WireType::varint)
        return Error{errc::parse_error, std::string(what) + ".Type is not a varint"};
      type = f.varint;
    } else if (f.number == 2) {
      if (f.type != pb::WireType::length_delimited)
        return Error{errc::parse_error, std::string(what) + ".Data is not a byte string"};
      data = f.bytes;
    }
  }
  if (!reader.status().ok())
    return Error{errc::parse_error, std::string(what) + ": " + reader.status().error().detail};
  if (!type) return Error{errc::parse_error, std::string(what) + " has no Type field"};
  if (!data) return Error{errc::parse_error, std::string(what) + " has no Data field"};
  if (*type > static_cast<std::uint64_t>(KeyType::ecdsa))
    return Error{errc::unsupported, std::string(what) + " has unknown key type " +
                                        std::to_string(*type)};
  return KeyMessage{*type, *data};
}

Bytes encode_key_message(KeyType type, BytesView data) {
  pb::Writer w;
  w.varint_field(1, static_cast<std::uint64_t>(type));
  w.bytes_field(2, data);
  return std::move(w).take();
}

void wipe(Bytes& b) {
  volatile std::uint8_t* p = b.data();
  for (std::size_t i = 0; i < b.size(); ++i) p[i] = 0;
}

Error errno_error(const std::string& what, const std::string& path) {
  const int e = errno;
  return Error{e == ENOENT ? errc::not_found : errc::io_error,
               what + " " + path + ": " + std::strerror(e)};
}

}  // namespace

const char* key_type_name(KeyType type) {
  switch (type) {
    case KeyType::rsa: return "RSA";
    case KeyType::ed25519: return "Ed25519";
    case KeyType::secp256k1: return "Secp256k1";
    case KeyType::ecdsa: return "ECDSA";
  }
  return "unknown";
}

// ---- PublicKey ----

Result<PublicKey> PublicKey::decode(BytesView protobuf) {
  WEFT_TRY(KeyMessage msg, decode_key_message(protobuf, "PublicKey"));
  const auto type = static_cast<KeyType>(msg.type);
  const std::size_t n = msg.data.size();
  switch (type) {
    case KeyType::ed25519:
      if (n != kEd25519PublicKeySize)
        return Error{errc::parse_error,
                     "Ed25519 public key must be 32 bytes, got " + std::to_string(n)};
      break;
    case KeyType::rsa:
      // Bounded before any DER parsing: an oversized key is refused outright.
      if (n > kMaxRsaPublicKeyDerSize)
        return Error{errc::limit_exceeded, "RSA public key of " + std::to_string(n) +
                                               " bytes is larger than an 8192-bit key (max " +
                                               std::to_string(kMaxRsaPublicKeyDerSize) + ")"};
      if (n == 0) return Error{errc::parse_error, "RSA public key is empty"};
      break;
    case KeyType::secp256k1:
      // Compressed (33) or uncompressed (65) SEC1 point.
      if (n != 33 && n != 65)
        return Error{errc::parse_error,
                     "Secp256k1 public key must be 33 or 65 bytes, got " + std::to_string(n)};
      break;
    case KeyType::ecdsa:
      if (n > kMaxEcdsaPublicKeyDerSize)
        return Error{errc::limit_exceeded,
                     "ECDSA public key of " + std::to_string(n) + " bytes exceeds " +
                         std::to_string(kMaxEcdsaPublicKeyDerSize)};
      if (n == 0) return Error{errc::parse_error, "ECDSA public key is empty"};
      break;
  }
  return PublicKey(type, Bytes(msg.data.begin(), msg.data.end()));
}

Bytes PublicKey::encode() const { return encode_key_message(type_, data_); }

Status PublicKey::verify(BytesView msg, BytesView sig) const {
  if (type_ != KeyType::ed25519)
    return Error{errc::unsupported, std::string("unsupported key type: ") + key_type_name(type_)};
  if (data_.size() != kEd25519PublicKeySize)
    return Error{errc::crypto_error, "Ed25519 public key must be 32 bytes"};
  if (sig.size() != 64)
    return Error{errc::crypto_error,
                 "Ed25519 signature must be 64 bytes, got " + std::to_string(sig.size())};
  if (!ed25519_verify(data_, msg, sig))
    return Error{errc::crypto_error, "Ed25519 signature does not verify"};
  return {};
}

PeerId peer_id_from_public_key(const PublicKey& key) {
  const Bytes encoded = key.encode();
  Bytes mh;
  if (encoded.size() <= kMaxInlineKeySize) {
    mh.push_back(kMultihashIdentity);
    varint::encode(encoded.size(), mh);
    append(mh, encoded);
  } else {
    const Sha256Digest digest = sha256(encoded);
    mh.push_back(kMultihashSha256);
    mh.push_back(static_cast<std::uint8_t>(digest.size()));
    append(mh, digest);
  }
  auto id = PeerId::from_multihash(mh);
  // Cannot fail: the multihash is well-formed by construction.
  return id.ok() ? std::move(id).value() : PeerId{};
}

// ---- Identity ----

// Keys derived from an identity on demand, shared by the identity's copies.
struct Identity::DerivedKeys {
  std::mutex mu;
  std::vector<std::pair<std::string, SignedX25519Key>> x25519;  // by context; a handful at most

  ~DerivedKeys() {
    for (auto& [context, k] : x25519) {
      volatile std::uint8_t* p = k.key.private_key.data();
      for (std::size_t i = 0; i < k.key.private_key.size(); ++i) p[i] = 0;
    }
  }
};

Identity::Identity(const Ed25519KeyPair& kp)
    : keys_(kp),
      public_key_(KeyType::ed25519, Bytes(kp.public_key.begin(), kp.public_key.end())),
      peer_id_(peer_id_from_public_key(public_key_)),
      derived_(std::make_shared<DerivedKeys>()) {}

SignedX25519Key Identity::signed_x25519_key(std::string_view context) const {
  std::lock_guard lock(derived_->mu);
  for (const auto& [c, k] : derived_->x25519)
    if (c == context) return k;
  SignedX25519Key k{x25519_generate(), {}};
  Bytes to_sign(context.begin(), context.end());
  append(to_sign, k.key.public_key);
  k.signature = sign(to_sign);
  derived_->x25519.emplace_back(std::string(context), k);
  return k;
}

Identity Identity::generate() { return Identity(ed25519_generate()); }

Identity Identity::from_seed(const std::array<std::uint8_t, 32>& seed) {
  return Identity(ed25519_from_seed(seed));
}

Result<Identity> Identity::decode(BytesView private_key_protobuf) {
  WEFT_TRY(KeyMessage msg, decode_key_message(private_key_protobuf, "PrivateKey"));
  const auto type = static_cast<KeyType>(msg.type);
  if (type != KeyType::ed25519)
    return Error{errc::unsupported,
                 std::string("unsupported key type: ") + key_type_name(type) +
                     " (only Ed25519 identities are supported)"};
  const BytesView d = msg.data;
  if (d.size() != 32 && d.size() != 64 && d.size() != 96)
    return Error{errc::parse_error, "Ed25519 private key must be 32, 64 or 96 bytes, got " +
                                        std::to_string(d.size())};
  Ed25519KeyPair kp = ed25519_from_seed(d.first(32));
  const BytesView derived(kp.public_key);
  for (std::size_t off = 32; off < d.size(); off += 32) {
    if (!std::equal(derived.begin(), derived.end(), d.begin() + static_cast<std::ptrdiff_t>(off)))
      return Error{errc::parse_error,
                   "Ed25519 private key: the public key half does not match the seed"};
  }
  return Identity(kp);
}

Bytes Identity::encode() const {
  Bytes data(keys_.seed.begin(), keys_.seed.end());
  append(data, keys_.public_key);
  Bytes out = encode_key_message(KeyType::ed25519, data);
  wipe(data);
  return out;
}

Result<Identity> Identity::load(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("cannot open identity file", path);
  Bytes buf(kMaxFileSize + 1);
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error err = errno_error("cannot read identity file", path);
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got > kMaxFileSize) {
    wipe(buf);
    return Error{errc::limit_exceeded, "identity file " + path + " is larger than " +
                                           std::to_string(kMaxFileSize) + " bytes"};
  }
  auto id = decode(BytesView(buf.data(), got));
  wipe(buf);
  if (!id) return Error{id.code(), "identity file " + path + ": " + id.error().detail};
  return id;
}

Status Identity::save(const std::string& path) const {
  // Written to a temporary file first and renamed over the target, so a crash
  // never leaves a truncated key behind.
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_error("cannot create identity file", tmp);
  Bytes data = encode();
  Status st;
  // The mode given to open() does not apply to a file that already existed.
  if (::fchmod(fd, 0600) != 0) st = errno_error("cannot chmod identity file", tmp);
  std::size_t done = 0;
  while (st.ok() && done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      st = errno_error("cannot write identity file", tmp);
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  wipe(data);
  if (st.ok() && ::fsync(fd) != 0) st = errno_error("cannot sync identity file", tmp);
  if (::close(fd) != 0 && st.ok()) st = errno_error("cannot close identity file", tmp);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    st = errno_error("cannot rename identity file to", path);
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

std::array<std::uint8_t, 64> Identity::sign(BytesView msg) const {
  return ed25519_sign(keys_, msg);
}

}  // namespace weft::crypto
