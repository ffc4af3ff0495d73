// crypto.hpp on BoringSSL (its native X25519 / Ed25519 / EVP_AEAD interfaces).
//
// Failures of calls that cannot fail on valid arguments abort: there is no
// sensible way to continue, and every input that comes from the network is
// validated before it reaches these functions.
#include <openssl/aead.h>
#include <openssl/curve25519.h>
#include <openssl/digest.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "crypto/crypto.hpp"

namespace weft::crypto {
namespace {

[[noreturn]] void fatal(const char* what) {
  std::fprintf(stderr, "weft: BoringSSL failure in %s\n", what);
  std::abort();
}

}  // namespace

const char* backend_name() { return "BoringSSL"; }

void random_bytes(MutableBytesView out) {
  if (out.empty()) return;
  RAND_bytes(out.data(), out.size());
}

Sha256Digest sha256(BytesView data) {
  Sha256Digest out{};
  SHA256(data.data(), data.size(), out.data());
  return out;
}

Sha256Digest sha256(std::initializer_list<BytesView> parts) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  for (BytesView part : parts) SHA256_Update(&ctx, part.data(), part.size());
  Sha256Digest out{};
  SHA256_Final(out.data(), &ctx);
  return out;
}

Sha256Digest hmac_sha256(BytesView key, std::initializer_list<BytesView> parts) {
  bssl::ScopedHMAC_CTX ctx;
  if (HMAC_Init_ex(ctx.get(), key.data(), key.size(), EVP_sha256(), nullptr) != 1)
    fatal("HMAC_Init_ex");
  for (BytesView part : parts) {
    if (HMAC_Update(ctx.get(), part.data(), part.size()) != 1) fatal("HMAC_Update");
  }
  Sha256Digest out{};
  unsigned int len = 0;
  if (HMAC_Final(ctx.get(), out.data(), &len) != 1 || len != out.size()) fatal("HMAC_Final");
  return out;
}

// ---- X25519 ----

X25519KeyPair x25519_generate() {
  X25519KeyPair kp{};
  X25519_keypair(kp.public_key.data(), kp.private_key.data());
  return kp;
}

X25519KeyPair x25519_from_private(const std::array<std::uint8_t, 32>& private_key) {
  X25519KeyPair kp{};
  kp.private_key = private_key;
  X25519_public_from_private(kp.public_key.data(), private_key.data());
  return kp;
}

Result<std::array<std::uint8_t, 32>> x25519(const std::array<std::uint8_t, 32>& private_key,
                                            BytesView peer_public_key) {
  if (peer_public_key.size() != 32)
    return Error{errc::crypto_error, "X25519 public key must be 32 bytes, got " +
                                         std::to_string(peer_public_key.size())};
  std::array<std::uint8_t, 32> shared{};
  // X25519() returns 0 exactly when the result is all zeros (a low-order peer key).
  if (X25519(shared.data(), private_key.data(), peer_public_key.data()) != 1)
    return Error{errc::crypto_error, "X25519 produced an all-zero shared secret"};
  return shared;
}

Result<std::array<std::uint8_t, 32>> x25519(const X25519KeyPair& ours, BytesView peer_public_key) {
  return x25519(ours.private_key, peer_public_key);
}

// ---- Ed25519 ----

Ed25519KeyPair ed25519_from_seed(BytesView seed32) {
  assert(seed32.size() == 32);
  Ed25519KeyPair kp{};
  std::memcpy(kp.seed.data(), seed32.data(), 32);
  std::uint8_t expanded[64];
  ED25519_keypair_from_seed(kp.public_key.data(), expanded, kp.seed.data());
  OPENSSL_cleanse(expanded, sizeof expanded);
  return kp;
}

std::array<std::uint8_t, 64> ed25519_sign(const Ed25519KeyPair& key, BytesView message) {
  // BoringSSL's private key form is seed || public key.
  std::uint8_t priv[64];
  std::memcpy(priv, key.seed.data(), 32);
  std::memcpy(priv + 32, key.public_key.data(), 32);
  std::array<std::uint8_t, 64> sig{};
  const int ok = ED25519_sign(sig.data(), message.data(), message.size(), priv);
  OPENSSL_cleanse(priv, sizeof priv);
  if (ok != 1) fatal("ED25519_sign");
  return sig;
}

bool ed25519_verify(BytesView public_key32, BytesView message, BytesView signature64) {
  if (public_key32.size() != 32 || signature64.size() != 64) return false;
  return ED25519_verify(message.data(), message.size(), signature64.data(), public_key32.data()) ==
         1;
}

// ---- ChaCha20-Poly1305 ----

// The longest second part seal_parts hands to BoringSSL's extra_in: a Yamux
// header or a small message completing a frame of gathered pieces.
constexpr std::size_t kMaxExtraIn = 64;

// The AEAD context is keyed once and used for every message; EVP_AEAD_CTX
// seal/open take the nonce per call and allocate nothing.
struct ChaChaPoly::Impl {
  EVP_AEAD_CTX ctx;
  Impl() { EVP_AEAD_CTX_zero(&ctx); }
  ~Impl() { EVP_AEAD_CTX_cleanup(&ctx); }
};

ChaChaPoly::ChaChaPoly(const std::array<std::uint8_t, 32>& key) : impl_(std::make_unique<Impl>()) {
  if (EVP_AEAD_CTX_init(&impl_->ctx, EVP_aead_chacha20_poly1305(), key.data(), key.size(),
                        kTagSize, nullptr) != 1)
    fatal("EVP_AEAD_CTX_init");
}

ChaChaPoly::~ChaChaPoly() = default;

void ChaChaPoly::seal(const Nonce& nonce, BytesView ad, BytesView in, MutableBytesView out) {
  assert(out.size() == in.size() + kTagSize);
  std::size_t len = 0;
  if (EVP_AEAD_CTX_seal(&impl_->ctx, out.data(), &len, out.size(), nonce.data(), nonce.size(),
                        in.data(), in.size(), ad.data(), ad.size()) != 1 ||
      len != out.size())
    fatal("EVP_AEAD_CTX_seal");
}

void ChaChaPoly::seal_parts(std::uint64_t nonce, BytesView ad,
                            std::initializer_list<BytesView> parts, MutableBytesView out) {
  // BoringSSL seals one contiguous input plus an optional second part
  // ("extra_in") whose ciphertext goes where the tag would: together that is
  // exactly the output of sealing the two parts joined. But it encrypts
  // extra_in a byte at a time in C, five times slower than its sealing of
  // the first part, so only a short second part goes that way. Otherwise the
  // parts are joined in `out` (which overlaps none of them) and sealed in
  // place: the copy costs far less than extra_in on bulk data.
  BytesView first, second;
  std::size_t non_empty = 0;
  for (BytesView p : parts) {
    if (p.empty()) continue;
    (non_empty == 0 ? first : second) = p;
    ++non_empty;
  }
  const Nonce n = noise_nonce(nonce);
  if (non_empty <= 2 && second.size() <= kMaxExtraIn) {
    assert(out.size() == first.size() + second.size() + kTagSize);
    std::size_t tail_len = 0;
    if (EVP_AEAD_CTX_seal_scatter(&impl_->ctx, out.data(), out.data() + first.size(), &tail_len,
                                  second.size() + kTagSize, n.data(), n.size(), first.data(),
                                  first.size(), second.data(), second.size(), ad.data(),
                                  ad.size()) != 1 ||
        tail_len != second.size() + kTagSize)
      fatal("EVP_AEAD_CTX_seal_scatter");
    return;
  }
  std::size_t joined = 0;
  for (BytesView p : parts) {
    assert(joined + p.size() + kTagSize <= out.size());
    if (!p.empty()) std::memcpy(out.data() + joined, p.data(), p.size());
    joined += p.size();
  }
  assert(out.size() == joined + kTagSize);
  seal(n, ad, BytesView(out.data(), joined), out);
}

bool ChaChaPoly::open(const Nonce& nonce, BytesView ad, BytesView in, MutableBytesView out) {
  if (in.size() < kTagSize || out.size() != in.size() - kTagSize) return false;
  std::size_t len = 0;
  return EVP_AEAD_CTX_open(&impl_->ctx, out.data(), &len, out.size(), nonce.data(), nonce.size(),
                           in.data(), in.size(), ad.data(), ad.size()) == 1 &&
         len == out.size();
}

}  // namespace weft::crypto
