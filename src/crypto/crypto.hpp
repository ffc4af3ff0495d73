// The crypto primitives weft needs, behind one small interface with two
// backends (src/crypto/openssl/, src/crypto/boringssl/), chosen at build time
// with -DWEFT_CRYPTO=openssl|boringssl. Nothing outside src/crypto/ includes
// a crypto library's headers.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace weft::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

// Name of the backend compiled in, e.g. "OpenSSL 3.0.19" / "BoringSSL".
const char* backend_name();

void random_bytes(MutableBytesView out);

Sha256Digest sha256(BytesView data);
// SHA-256 over the concatenation of the parts (no copy).
Sha256Digest sha256(std::initializer_list<BytesView> parts);
Sha256Digest hmac_sha256(BytesView key, std::initializer_list<BytesView> parts);

// ---- X25519 ----
struct X25519KeyPair {
  std::array<std::uint8_t, 32> private_key;
  std::array<std::uint8_t, 32> public_key;
};
X25519KeyPair x25519_generate();
// The key pair of a given private key (for fixed test keys).
X25519KeyPair x25519_from_private(const std::array<std::uint8_t, 32>& private_key);
// Diffie-Hellman; fails (crypto_error) on an all-zero shared secret.
Result<std::array<std::uint8_t, 32>> x25519(const std::array<std::uint8_t, 32>& private_key,
                                            BytesView peer_public_key);
// The same with a whole key pair, the form to use when the pair is at hand:
// a backend that needs our public key too (OpenSSL) then need not recompute it.
Result<std::array<std::uint8_t, 32>> x25519(const X25519KeyPair& ours, BytesView peer_public_key);

// ---- Ed25519 ----
struct Ed25519KeyPair {
  std::array<std::uint8_t, 32> seed;        // the private key (RFC 8032 seed)
  std::array<std::uint8_t, 32> public_key;
};
Ed25519KeyPair ed25519_generate();
Ed25519KeyPair ed25519_from_seed(BytesView seed32);
std::array<std::uint8_t, 64> ed25519_sign(const Ed25519KeyPair& key, BytesView message);
bool ed25519_verify(BytesView public_key32, BytesView message, BytesView signature64);

// ---- ChaCha20-Poly1305 (RFC 8439 / IETF, 96-bit nonce) ----
// A keyed AEAD context, reusable for many messages without allocation.
// Nonce layout is Noise's: 4 zero bytes then the 64-bit counter, little-endian.
class ChaChaPoly {
 public:
  static constexpr std::size_t kTagSize = 16;
  using Nonce = std::array<std::uint8_t, 12>;
  // Noise's nonce for counter n.
  static Nonce noise_nonce(std::uint64_t n);

  explicit ChaChaPoly(const std::array<std::uint8_t, 32>& key);
  ~ChaChaPoly();
  ChaChaPoly(const ChaChaPoly&) = delete;
  ChaChaPoly& operator=(const ChaChaPoly&) = delete;

  // Encrypts `in` to `out` (out.size() == in.size() + kTagSize; in and out may
  // start at the same address for in-place use).
  void seal(std::uint64_t nonce, BytesView ad, BytesView in, MutableBytesView out);
  // Decrypts `in` (ciphertext + tag) to `out` (out.size() == in.size() - kTagSize;
  // may alias in). False if authentication fails; `out` is then unspecified.
  bool open(std::uint64_t nonce, BytesView ad, BytesView in, MutableBytesView out);
  // Encrypts the concatenation of `parts` as one message without joining
  // them first (a frame made of a buffered head and the caller's data is
  // sealed straight from both); out.size() == total + kTagSize, and `out`
  // overlaps no part.
  void seal_parts(std::uint64_t nonce, BytesView ad, std::initializer_list<BytesView> parts,
                  MutableBytesView out);

  // The same with a raw 96-bit nonce (RFC 8439 layout), e.g. for test vectors.
  void seal(const Nonce& nonce, BytesView ad, BytesView in, MutableBytesView out);
  bool open(const Nonce& nonce, BytesView ad, BytesView in, MutableBytesView out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::crypto
