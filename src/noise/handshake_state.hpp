// The Noise Protocol Framework state objects (noiseprotocol.org, revision 34,
// section 5) specialised to the one protocol libp2p uses:
// Noise_XX_25519_ChaChaPoly_SHA256. Pure computation, no I/O: the libp2p
// framing and payloads live in noise.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "crypto/crypto.hpp"

namespace weft::noise {

inline constexpr std::string_view kProtocolName = "Noise_XX_25519_ChaChaPoly_SHA256";
inline constexpr std::size_t kDhLen = 32;
inline constexpr std::size_t kHashLen = 32;
inline constexpr std::size_t kTagLen = crypto::ChaChaPoly::kTagSize;
// Noise's maximum message size; also the libp2p frame limit (2-byte length).
inline constexpr std::size_t kMaxMessageSize = 65535;

using Key = std::array<std::uint8_t, 32>;

// A key and a nonce counter. Nonce 2^64-1 is reserved by Noise: once the
// counter reaches it, every further operation fails instead of reusing it.
class CipherState {
 public:
  static constexpr std::uint64_t kReservedNonce = ~std::uint64_t{0};

  CipherState() = default;  // no key: encryption is the identity
  explicit CipherState(const Key& key);
  CipherState(CipherState&&) noexcept = default;
  CipherState& operator=(CipherState&&) noexcept = default;

  bool has_key() const { return aead_ != nullptr; }
  std::uint64_t nonce() const { return n_; }
  // Noise's SetNonce(); used by tests to reach the end of the nonce space.
  void set_nonce(std::uint64_t n) { n_ = n; }

  // With a key: out.size() == in.size() + kTagLen (may alias in); without a
  // key: out.size() == in.size(). Fails (crypto_error) when the nonces are
  // exhausted; the counter is then unchanged.
  Status encrypt_with_ad(BytesView ad, BytesView in, MutableBytesView out);
  // Encrypts head followed by tail as one message, without joining them;
  // out.size() == head.size() + tail.size() (+ kTagLen with a key) and out
  // overlaps neither.
  Status encrypt_parts_with_ad(BytesView ad, BytesView head, BytesView tail, MutableBytesView out);
  // With a key: out.size() == in.size() - kTagLen (may alias in); without a
  // key: out.size() == in.size(). Fails with crypto_error on authentication
  // failure (the nonce is not consumed) or an out of another size.
  Status decrypt_with_ad(BytesView ad, BytesView in, MutableBytesView out);

 private:
  std::unique_ptr<crypto::ChaChaPoly> aead_;
  std::uint64_t n_ = 0;
};

// Noise's HKDF (section 4.3) with two outputs.
std::pair<Key, Key> hkdf2(const Key& chaining_key, BytesView input_key_material);

class SymmetricState {
 public:
  explicit SymmetricState(std::string_view protocol_name);

  void mix_key(BytesView input_key_material);
  void mix_hash(BytesView data);
  // Appends the (possibly encrypted) plaintext to out.
  Status encrypt_and_hash(BytesView plaintext, Bytes& out);
  // Replaces out with the decrypted ciphertext.
  Status decrypt_and_hash(BytesView ciphertext, Bytes& out);
  // The two transport ciphers: initiator-to-responder first.
  std::pair<CipherState, CipherState> split() const;

  const Key& handshake_hash() const { return h_; }
  bool has_key() const { return cipher_.has_key(); }

 private:
  CipherState cipher_;
  Key ck_{};
  Key h_{};
};

// The XX handshake:
//   -> e
//   <- e, ee, s, es
//   -> s, se
// Messages are written and read strictly in turn; after the third, split()
// yields the transport ciphers. Any failure leaves the handshake failed.
class XXHandshake {
 public:
  // `ephemeral` is for tests with fixed keys; normally a fresh one is generated.
  XXHandshake(bool initiator, const crypto::X25519KeyPair& static_key, BytesView prologue,
              std::optional<crypto::X25519KeyPair> ephemeral = std::nullopt);

  // Appends the next handshake message carrying `payload` to `out`.
  Status write_message(BytesView payload, Bytes& out);
  // Processes the next handshake message; its payload replaces `payload`.
  Status read_message(BytesView message, Bytes& payload);

  bool initiator() const { return initiator_; }
  // Index of the next message (0, 1, 2), or 3 once complete.
  int step() const { return step_; }
  bool complete() const { return step_ == 3 && !failed_; }
  // Whether it is our turn to write.
  bool is_our_turn() const { return (step_ % 2 == 0) == initiator_; }

  // The remote static key (after message 2 for the initiator, 3 for the responder).
  const Key& remote_static() const { return rs_; }
  const Key& local_static_public() const { return s_.public_key; }
  const Key& handshake_hash() const { return ss_.handshake_hash(); }

  struct TransportCiphers {
    CipherState send;
    CipherState recv;
  };
  // Only once complete().
  TransportCiphers split() const;

 private:
  Status fail(Error e);
  std::string where() const;  // error detail prefix naming the message
  Status dh_mix(const crypto::X25519KeyPair& local, const Key& remote);

  bool initiator_;
  int step_ = 0;
  bool failed_ = false;
  SymmetricState ss_;
  crypto::X25519KeyPair s_;
  std::optional<crypto::X25519KeyPair> e_;
  Key re_{};
  Key rs_{};
};

}  // namespace weft::noise
