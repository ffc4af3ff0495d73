#include "noise/handshake_state.hpp"

#include <algorithm>
#include <cstring>

namespace weft::noise {

// ---- CipherState ----

CipherState::CipherState(const Key& key) : aead_(std::make_unique<crypto::ChaChaPoly>(key)) {}

Status CipherState::encrypt_with_ad(BytesView ad, BytesView in, MutableBytesView out) {
  if (!aead_) {
    if (!in.empty() && out.data() != in.data()) std::memmove(out.data(), in.data(), in.size());
    return {};
  }
  if (n_ == kReservedNonce)
    return Error{errc::crypto_error, "send nonces exhausted (2^64-1 messages)"};
  aead_->seal(n_, ad, in, out);
  ++n_;
  return {};
}

Status CipherState::encrypt_parts_with_ad(BytesView ad, BytesView head, BytesView tail,
                                          MutableBytesView out) {
  if (!aead_) {
    if (!head.empty()) std::memmove(out.data(), head.data(), head.size());
    if (!tail.empty()) std::memmove(out.data() + head.size(), tail.data(), tail.size());
    return {};
  }
  if (n_ == kReservedNonce)
    return Error{errc::crypto_error, "send nonces exhausted (2^64-1 messages)"};
  aead_->seal_parts(n_, ad, {head, tail}, out);
  ++n_;
  return {};
}

Status CipherState::decrypt_with_ad(BytesView ad, BytesView in, MutableBytesView out) {
  if (!aead_) {
    // Checked, not assumed: a caller that sized out for a keyed message has
    // 16 bytes less room than this copy would write.
    if (out.size() != in.size())
      return Error{errc::crypto_error, "plaintext buffer of " + std::to_string(out.size()) +
                                           " bytes for an unencrypted message of " +
                                           std::to_string(in.size())};
    if (!in.empty() && out.data() != in.data()) std::memmove(out.data(), in.data(), in.size());
    return {};
  }
  if (n_ == kReservedNonce)
    return Error{errc::crypto_error, "receive nonces exhausted (2^64-1 messages)"};
  if (in.size() < kTagLen)
    return Error{errc::crypto_error, "ciphertext shorter than the authentication tag"};
  if (!aead_->open(n_, ad, in, out))
    return Error{errc::crypto_error, "message failed authentication"};
  ++n_;
  return {};
}

// ---- HKDF ----

std::pair<Key, Key> hkdf2(const Key& chaining_key, BytesView input_key_material) {
  const Key temp = crypto::hmac_sha256(chaining_key, {input_key_material});
  const std::uint8_t one = 0x01;
  const std::uint8_t two = 0x02;
  const Key out1 = crypto::hmac_sha256(temp, {BytesView(&one, 1)});
  const Key out2 = crypto::hmac_sha256(temp, {BytesView(out1), BytesView(&two, 1)});
  return {out1, out2};
}

// ---- SymmetricState ----

SymmetricState::SymmetricState(std::string_view protocol_name) {
  if (protocol_name.size() <= kHashLen) {
    std::memcpy(h_.data(), protocol_name.data(), protocol_name.size());  // zero padded
  } else {
    h_ = crypto::sha256(as_bytes(protocol_name));
  }
  ck_ = h_;
}

void SymmetricState::mix_key(BytesView input_key_material) {
  auto [ck, temp_k] = hkdf2(ck_, input_key_material);
  ck_ = ck;
  cipher_ = CipherState(temp_k);  // HASHLEN == 32: no truncation needed
}

void SymmetricState::mix_hash(BytesView data) { h_ = crypto::sha256({BytesView(h_), data}); }

Status SymmetricState::encrypt_and_hash(BytesView plaintext, Bytes& out) {
  const std::size_t start = out.size();
  const std::size_t n = plaintext.size() + (cipher_.has_key() ? kTagLen : 0);
  out.resize(start + n);
  MutableBytesView dest(out.data() + start, n);
  WEFT_CHECK(cipher_.encrypt_with_ad(h_, plaintext, dest));
  mix_hash(dest);
  return {};
}

Status SymmetricState::decrypt_and_hash(BytesView ciphertext, Bytes& out) {
  if (cipher_.has_key() && ciphertext.size() < kTagLen)
    return Error{errc::protocol_error, "encrypted field shorter than its tag"};
  out.resize(ciphertext.size() - (cipher_.has_key() ? kTagLen : 0));
  WEFT_CHECK(cipher_.decrypt_with_ad(h_, ciphertext, out));
  mix_hash(ciphertext);
  return {};
}

std::pair<CipherState, CipherState> SymmetricState::split() const {
  auto [k1, k2] = hkdf2(ck_, {});
  return {CipherState(k1), CipherState(k2)};
}

// ---- XXHandshake ----

XXHandshake::XXHandshake(bool initiator, const crypto::X25519KeyPair& static_key,
                         BytesView prologue, std::optional<crypto::X25519KeyPair> ephemeral)
    : initiator_(initiator), ss_(kProtocolName), s_(static_key), e_(ephemeral) {
  ss_.mix_hash(prologue);
}

std::string XXHandshake::where() const {
  return "noise handshake message " + std::to_string(step_ + 1) + ": ";
}

Status XXHandshake::fail(Error e) {
  failed_ = true;
  return e;
}

Status XXHandshake::dh_mix(const crypto::X25519KeyPair& local, const Key& remote) {
  auto shared = crypto::x25519(local, remote);
  if (!shared) return fail(Error{errc::crypto_error, where() + shared.error().detail});
  ss_.mix_key(*shared);
  return {};
}

Status XXHandshake::write_message(BytesView payload, Bytes& out) {
  if (failed_) return Error{errc::protocol_error, "noise: handshake already failed"};
  if (step_ > 2 || !is_our_turn())
    return fail(Error{errc::invalid_argument, "noise: not our turn to write"});
  if (step_ == 0 || step_ == 1) {  // token e
    if (!e_) e_ = crypto::x25519_generate();
    append(out, e_->public_key);
    ss_.mix_hash(e_->public_key);
  }
  if (step_ == 1) WEFT_CHECK(dh_mix(*e_, re_));  // ee
  if (step_ == 1 || step_ == 2) {
    // s, then es (message 2) or se (message 3): our static, their ephemeral.
    if (auto st = ss_.encrypt_and_hash(s_.public_key, out); !st) return fail(st.error());
    WEFT_CHECK(dh_mix(s_, re_));
  }
  if (auto st = ss_.encrypt_and_hash(payload, out); !st) return fail(st.error());
  ++step_;
  return {};
}

Status XXHandshake::read_message(BytesView message, Bytes& payload) {
  if (failed_) return Error{errc::protocol_error, "noise: handshake already failed"};
  if (step_ > 2 || is_our_turn())
    return fail(Error{errc::invalid_argument, "noise: not our turn to read"});
  // The fixed part: e (32), then an encrypted s (32 + tag) where present,
  // then a payload that carries a tag once a key is set.
  const std::size_t fixed = step_ == 0 ? kDhLen : step_ == 1 ? kDhLen * 2 + kTagLen * 2
                                                              : kDhLen + kTagLen * 2;
  if (message.size() < fixed)
    return fail(Error{errc::protocol_error, where() + std::to_string(message.size()) +
                                                " bytes, shorter than the minimum " +
                                                std::to_string(fixed)});
  std::size_t pos = 0;
  if (step_ == 0 || step_ == 1) {  // token e
    std::memcpy(re_.data(), message.data(), kDhLen);
    ss_.mix_hash(re_);
    pos = kDhLen;
  }
  if (step_ == 1 || step_ == 2) {
    if (step_ == 1) WEFT_CHECK(dh_mix(*e_, re_));  // ee
    Bytes rs;
    if (auto st = ss_.decrypt_and_hash(message.subspan(pos, kDhLen + kTagLen), rs); !st)
      return fail(Error{st.code(), where() + "static key: " + st.error().detail});
    std::copy(rs.begin(), rs.end(), rs_.begin());
    pos += kDhLen + kTagLen;
    // es for the initiator, se for the responder: our ephemeral, their static.
    WEFT_CHECK(dh_mix(*e_, rs_));
  }
  if (auto st = ss_.decrypt_and_hash(message.subspan(pos), payload); !st)
    return fail(Error{st.code(), where() + "payload: " + st.error().detail});
  ++step_;
  return {};
}

XXHandshake::TransportCiphers XXHandshake::split() const {
  auto [c1, c2] = ss_.split();
  if (initiator_) return {std::move(c1), std::move(c2)};
  return {std::move(c2), std::move(c1)};
}

}  // namespace weft::noise
