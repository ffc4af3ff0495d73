// crypto.hpp on OpenSSL 3 (EVP interfaces only).
//
// Failures of calls that cannot fail on valid arguments (allocation inside
// OpenSSL) abort: there is no sensible way to continue, and every input that
// comes from the network is validated before it reaches these functions.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "crypto/crypto.hpp"

namespace weft::crypto {
namespace {

[[noreturn]] void fatal(const char* what) {
  std::fprintf(stderr, "weft: OpenSSL failure in %s\n", what);
  std::abort();
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter>;

std::array<std::uint8_t, 32> raw_public_of(EVP_PKEY* key) {
  std::array<std::uint8_t, 32> pub{};
  std::size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key, pub.data(), &len) != 1 || len != 32)
    fatal("EVP_PKEY_get_raw_public_key");
  return pub;
}

// Builds key objects from raw bytes with EVP_PKEY_fromdata on a per-thread
// context made once. EVP_PKEY_new_raw_private_key would look the algorithm up
// by name on every call and, given only the private key, derive the public key
// again: a full scalar multiplication, as costly as the Diffie-Hellman itself.
// Handing over the public half we already hold skips that.
class KeyBuilder {
 public:
  explicit KeyBuilder(const char* algorithm) {
    ctx_.reset(EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr));
    if (!ctx_ || EVP_PKEY_fromdata_init(ctx_.get()) != 1) fatal("EVP_PKEY_fromdata_init");
  }

  // private_key32 may be null (a public key); public_key32 may be null (then
  // the backend derives it from the private key).
  PkeyPtr build(const std::uint8_t* private_key32, const std::uint8_t* public_key32) {
    OSSL_PARAM params[3];
    std::size_t n = 0;
    // OSSL_PARAM takes non-const pointers but only reads these buffers.
    if (private_key32 != nullptr)
      params[n++] = OSSL_PARAM_construct_octet_string(
          "priv", const_cast<std::uint8_t*>(private_key32), 32);
    if (public_key32 != nullptr)
      params[n++] = OSSL_PARAM_construct_octet_string(
          "pub", const_cast<std::uint8_t*>(public_key32), 32);
    params[n] = OSSL_PARAM_construct_end();
    EVP_PKEY* key = nullptr;
    const int selection = private_key32 != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
    if (EVP_PKEY_fromdata(ctx_.get(), &key, selection, params) != 1) return nullptr;
    return PkeyPtr(key);
  }

 private:
  PkeyCtxPtr ctx_;
};

KeyBuilder& x25519_builder() {
  thread_local KeyBuilder builder("X25519");
  return builder;
}

KeyBuilder& ed25519_builder() {
  thread_local KeyBuilder builder("ED25519");
  return builder;
}

// The HMAC implementation is fetched once; fetching is the expensive part.
EVP_MAC* hmac_algorithm() {
  static EVP_MAC* mac = [] {
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (m == nullptr) fatal("EVP_MAC_fetch(HMAC)");
    return m;
  }();
  return mac;
}

}  // namespace

const char* backend_name() { return OpenSSL_version(OPENSSL_VERSION); }

void random_bytes(MutableBytesView out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) fatal("RAND_bytes");
}

Sha256Digest sha256(BytesView data) { return sha256({data}); }

Sha256Digest sha256(std::initializer_list<BytesView> parts) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) fatal("EVP_DigestInit_ex");
  for (BytesView part : parts) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) fatal("EVP_DigestUpdate");
  }
  Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size())
    fatal("EVP_DigestFinal_ex");
  return out;
}

Sha256Digest hmac_sha256(BytesView key, std::initializer_list<BytesView> parts) {
  MacCtxPtr ctx(EVP_MAC_CTX_new(hmac_algorithm()));
  if (!ctx) fatal("EVP_MAC_CTX_new");
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string("digest", digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  // A zero-length key must still be a valid pointer for EVP_MAC_init.
  static const std::uint8_t kEmpty[1] = {0};
  const std::uint8_t* key_ptr = key.empty() ? kEmpty : key.data();
  if (EVP_MAC_init(ctx.get(), key_ptr, key.size(), params) != 1) fatal("EVP_MAC_init");
  for (BytesView part : parts) {
    if (EVP_MAC_update(ctx.get(), part.data(), part.size()) != 1) fatal("EVP_MAC_update");
  }
  Sha256Digest out{};
  std::size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size())
    fatal("EVP_MAC_final");
  return out;
}

// ---- X25519 ----

X25519KeyPair x25519_generate() {
  std::array<std::uint8_t, 32> priv{};
  random_bytes(priv);
  return x25519_from_private(priv);
}

X25519KeyPair x25519_from_private(const std::array<std::uint8_t, 32>& private_key) {
  PkeyPtr key = x25519_builder().build(private_key.data(), nullptr);
  if (!key) fatal("X25519 private key");
  return X25519KeyPair{private_key, raw_public_of(key.get())};
}

Result<std::array<std::uint8_t, 32>> x25519(const X25519KeyPair& ours, BytesView peer_public_key) {
  if (peer_public_key.size() != 32)
    return Error{errc::crypto_error, "X25519 public key must be 32 bytes, got " +
                                         std::to_string(peer_public_key.size())};
  PkeyPtr own = x25519_builder().build(ours.private_key.data(), ours.public_key.data());
  if (!own) fatal("X25519 key pair");
  PkeyPtr theirs = x25519_builder().build(nullptr, peer_public_key.data());
  if (!theirs) return Error{errc::crypto_error, "X25519 public key rejected"};
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) fatal("EVP_PKEY_derive_init");
  std::array<std::uint8_t, 32> shared{};
  std::size_t len = shared.size();
  // The peer check OpenSSL would run here only tests that a public key is
  // present (X25519 keys have no other structure to validate); it costs a
  // context and an algorithm lookup per call, so it is skipped. OpenSSL
  // itself refuses an all-zero result (a small-order peer key); the explicit
  // check below keeps the behaviour identical across backends.
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), theirs.get(), 0) != 1 ||
      EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != 32) {
    return Error{errc::crypto_error, "X25519 with a low-order public key"};
  }
  std::uint8_t acc = 0;
  for (std::uint8_t b : shared) acc |= b;
  if (acc == 0) return Error{errc::crypto_error, "X25519 produced an all-zero shared secret"};
  return shared;
}

Result<std::array<std::uint8_t, 32>> x25519(const std::array<std::uint8_t, 32>& private_key,
                                            BytesView peer_public_key) {
  return x25519(x25519_from_private(private_key), peer_public_key);
}

// ---- Ed25519 ----

Ed25519KeyPair ed25519_from_seed(BytesView seed32) {
  assert(seed32.size() == 32);
  PkeyPtr key = ed25519_builder().build(seed32.data(), nullptr);
  if (!key) fatal("Ed25519 seed");
  Ed25519KeyPair kp{};
  std::memcpy(kp.seed.data(), seed32.data(), 32);
  kp.public_key = raw_public_of(key.get());
  return kp;
}

std::array<std::uint8_t, 64> ed25519_sign(const Ed25519KeyPair& key, BytesView message) {
  PkeyPtr pkey = ed25519_builder().build(key.seed.data(), key.public_key.data());
  if (!pkey) fatal("Ed25519 key pair");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1)
    fatal("EVP_DigestSignInit");
  std::array<std::uint8_t, 64> sig{};
  std::size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
      len != sig.size())
    fatal("EVP_DigestSign");
  return sig;
}

bool ed25519_verify(BytesView public_key32, BytesView message, BytesView signature64) {
  if (public_key32.size() != 32 || signature64.size() != 64) return false;
  PkeyPtr pkey = ed25519_builder().build(nullptr, public_key32.data());
  if (!pkey) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), signature64.data(), signature64.size(), message.data(),
                          message.size()) == 1;
}

// ---- ChaCha20-Poly1305 ----

// One context per direction, keyed once: each message only sets a new nonce,
// so sealing and opening allocate nothing.
struct ChaChaPoly::Impl {
  EVP_CIPHER_CTX* enc = nullptr;
  EVP_CIPHER_CTX* dec = nullptr;
  ~Impl() {
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
  }
};

ChaChaPoly::ChaChaPoly(const std::array<std::uint8_t, 32>& key) : impl_(std::make_unique<Impl>()) {
  impl_->enc = EVP_CIPHER_CTX_new();
  impl_->dec = EVP_CIPHER_CTX_new();
  if (!impl_->enc || !impl_->dec) fatal("EVP_CIPHER_CTX_new");
  if (EVP_CipherInit_ex(impl_->enc, EVP_chacha20_poly1305(), nullptr, key.data(), nullptr, 1) !=
          1 ||
      EVP_CipherInit_ex(impl_->dec, EVP_chacha20_poly1305(), nullptr, key.data(), nullptr, 0) != 1)
    fatal("EVP_CipherInit_ex(chacha20-poly1305)");
}

ChaChaPoly::~ChaChaPoly() = default;

namespace {

// One message from one or more parts: ChaCha20-Poly1305 in OpenSSL takes the
// plaintext in as many updates as needed (it carries the partial keystream
// block and the Poly1305 state across them).
void seal_impl(EVP_CIPHER_CTX* c, const ChaChaPoly::Nonce& nonce, BytesView ad,
               std::initializer_list<BytesView> parts, MutableBytesView out) {
  std::size_t total = 0;
  for (BytesView in : parts) total += in.size();
  if (out.size() != total + ChaChaPoly::kTagSize) fatal("seal: output size");
  int len = 0;
  if (EVP_CipherInit_ex(c, nullptr, nullptr, nullptr, nonce.data(), 1) != 1) fatal("seal: nonce");
  if (!ad.empty() &&
      EVP_CipherUpdate(c, nullptr, &len, ad.data(), static_cast<int>(ad.size())) != 1)
    fatal("seal: ad");
  std::size_t done = 0;
  for (BytesView in : parts) {
    // EVP_CipherUpdate with a null output and zero length is fine, but a null
    // input pointer is not: skip empty parts.
    if (in.empty()) continue;
    if (EVP_CipherUpdate(c, out.data() + done, &len, in.data(), static_cast<int>(in.size())) != 1)
      fatal("seal: update");
    done += in.size();
  }
  if (EVP_CipherFinal_ex(c, out.data() + done, &len) != 1) fatal("seal: final");
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(ChaChaPoly::kTagSize),
                          out.data() + done) != 1)
    fatal("seal: tag");
}

}  // namespace

void ChaChaPoly::seal(const Nonce& nonce, BytesView ad, BytesView in, MutableBytesView out) {
  assert(out.size() == in.size() + kTagSize);
  seal_impl(impl_->enc, nonce, ad, {in}, out);
}

void ChaChaPoly::seal_parts(std::uint64_t nonce, BytesView ad,
                            std::initializer_list<BytesView> parts, MutableBytesView out) {
  seal_impl(impl_->enc, noise_nonce(nonce), ad, parts, out);
}

bool ChaChaPoly::open(const Nonce& nonce, BytesView ad, BytesView in, MutableBytesView out) {
  if (in.size() < kTagSize || out.size() != in.size() - kTagSize) return false;
  const std::size_t n = in.size() - kTagSize;
  // Copied first: with in-place use, nothing may overwrite the tag before it is set.
  std::uint8_t tag[kTagSize];
  std::memcpy(tag, in.data() + n, kTagSize);
  EVP_CIPHER_CTX* c = impl_->dec;
  int len = 0;
  if (EVP_CipherInit_ex(c, nullptr, nullptr, nullptr, nonce.data(), 0) != 1) fatal("open: nonce");
  if (!ad.empty() &&
      EVP_CipherUpdate(c, nullptr, &len, ad.data(), static_cast<int>(ad.size())) != 1)
    fatal("open: ad");
  if (n > 0 && EVP_CipherUpdate(c, out.data(), &len, in.data(), static_cast<int>(n)) != 1)
    return false;
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize), tag) != 1)
    fatal("open: tag");
  std::uint8_t final_block[16];
  return EVP_CipherFinal_ex(c, final_block, &len) == 1;
}

}  // namespace weft::crypto
