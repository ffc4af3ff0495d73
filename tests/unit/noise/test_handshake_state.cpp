// The Noise state machine against a published test vector, and its failure
// behaviour on bad input.
#include <gtest/gtest.h>

#include <memory>

#include "crypto/test_hex.hpp"
#include "noise/handshake_state.hpp"

using namespace weft;
using namespace weft::noise;
using weft::test::unhex;
using weft::test::unhex_array;

namespace {

struct VectorMessage {
  const char* payload;
  const char* ciphertext;
};

// Noise_XX_25519_ChaChaPoly_SHA256 from the cacophony test vectors
// (haskell-cryptography/cacophony, vectors/cacophony.txt).
constexpr const char* kPrologue = "4a6f686e2047616c74";
constexpr const char* kInitStatic =
    "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
constexpr const char* kInitEphemeral =
    "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
constexpr const char* kRespStatic =
    "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
constexpr const char* kRespEphemeral =
    "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
constexpr const char* kHandshakeHash =
    "c8e5f64e846193be2a834104c2a009868d6c9f3bd3c186299888b488b2f1f58e";
const VectorMessage kMessages[] = {
    {"4c756477696720766f6e204d69736573",
     "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d6973"
     "6573"},
    {"4d757272617920526f746862617264",
     "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884381cbad1f276e038c48378ffce2b6"
     "5285e08d6b68aaa3629a5a8639392490e5b9bd5269c2f1e4f488ed8831161f19b7815528f8982ffe09be9b5c412f"
     "8a0db50f8814c7194e83f23dbd8d162c9326ad"},
    {"462e20412e20486179656b",
     "c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a80ae475b9df0f169ae80a89be0865"
     "b57f58c9fea0d4ec82a286427402f113e4b6ae769a1d95941d49b25030"},
    {"4361726c204d656e676572", "96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df"},
    {"4a65616e2d426170746973746520536179",
     "3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5"},
    {"457567656e2042f6686d20766f6e2042617765726b",
     "eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f"},
};

crypto::X25519KeyPair key(const char* hex) {
  return crypto::x25519_from_private(unhex_array<32>(hex));
}

struct Pair {
  XXHandshake initiator;
  XXHandshake responder;
};

Pair fresh_pair() {
  return Pair{XXHandshake(true, crypto::x25519_generate(), {}),
              XXHandshake(false, crypto::x25519_generate(), {})};
}

}  // namespace

TEST(NoiseHandshakeState, ProtocolNameIsExactlyOneHash) {
  // A 32-byte name is used as h directly, without hashing.
  EXPECT_EQ(kProtocolName.size(), kHashLen);
}

TEST(NoiseHandshakeState, CacophonyVector) {
  Bytes prologue = unhex(kPrologue);
  XXHandshake init(true, key(kInitStatic), prologue, key(kInitEphemeral));
  XXHandshake resp(false, key(kRespStatic), prologue, key(kRespEphemeral));
  for (int i = 0; i < 3; ++i) {
    XXHandshake& sender = i % 2 == 0 ? init : resp;
    XXHandshake& receiver = i % 2 == 0 ? resp : init;
    Bytes msg;
    ASSERT_TRUE(sender.write_message(unhex(kMessages[i].payload), msg).ok()) << i;
    EXPECT_EQ(to_hex(msg), kMessages[i].ciphertext) << "message " << i;
    Bytes payload;
    auto st = receiver.read_message(msg, payload);
    ASSERT_TRUE(st.ok()) << i << ": " << st.error().message();
    EXPECT_EQ(to_hex(payload), kMessages[i].payload);
  }
  ASSERT_TRUE(init.complete() && resp.complete());
  EXPECT_EQ(to_hex(init.handshake_hash()), kHandshakeHash);
  EXPECT_EQ(init.handshake_hash(), resp.handshake_hash());
  EXPECT_EQ(init.remote_static(), key(kRespStatic).public_key);
  EXPECT_EQ(resp.remote_static(), key(kInitStatic).public_key);

  auto ic = init.split();
  auto rc = resp.split();
  for (int i = 3; i < 6; ++i) {
    CipherState& send = i % 2 == 0 ? ic.send : rc.send;
    CipherState& recv = i % 2 == 0 ? rc.recv : ic.recv;
    Bytes plain = unhex(kMessages[i].payload);
    Bytes ct(plain.size() + kTagLen);
    ASSERT_TRUE(send.encrypt_with_ad({}, plain, ct).ok());
    EXPECT_EQ(to_hex(ct), kMessages[i].ciphertext) << "message " << i;
    Bytes back(plain.size());
    ASSERT_TRUE(recv.decrypt_with_ad({}, ct, back).ok());
    EXPECT_EQ(back, plain);
  }
}

TEST(NoiseHandshakeState, TamperedMessagesFail) {
  // Flip one byte of message 2 (in e, the encrypted s, or the payload tag)
  // or of message 3: the reader fails with crypto_error and stays failed.
  for (int target : {1, 2}) {
    for (std::size_t pos : {std::size_t{0}, std::size_t{40}, std::size_t{100}}) {
      Pair p = fresh_pair();
      Bytes m1, m2, m3, payload;
      ASSERT_TRUE(p.initiator.write_message({}, m1).ok());
      ASSERT_TRUE(p.responder.read_message(m1, payload).ok());
      ASSERT_TRUE(p.responder.write_message(as_bytes("responder payload"), m2).ok());
      if (target == 1) {
        pos = std::min(pos, m2.size() - 1);
        m2[pos] ^= 0x01;
        auto st = p.initiator.read_message(m2, payload);
        EXPECT_EQ(st.code(), errc::crypto_error) << pos;
        EXPECT_FALSE(p.initiator.complete());
        EXPECT_FALSE(p.initiator.write_message({}, m3).ok());
        continue;
      }
      ASSERT_TRUE(p.initiator.read_message(m2, payload).ok());
      ASSERT_TRUE(p.initiator.write_message(as_bytes("initiator payload"), m3).ok());
      pos = std::min(pos, m3.size() - 1);
      m3[pos] ^= 0x80;
      EXPECT_EQ(p.responder.read_message(m3, payload).code(), errc::crypto_error) << pos;
      EXPECT_FALSE(p.responder.complete());
    }
  }
}

TEST(NoiseHandshakeState, ShortMessagesAreProtocolErrors) {
  {
    Pair p = fresh_pair();
    Bytes payload;
    EXPECT_EQ(p.responder.read_message(Bytes(31, 1), payload).code(), errc::protocol_error);
  }
  {
    Pair p = fresh_pair();
    Bytes m1, m2, payload;
    ASSERT_TRUE(p.initiator.write_message({}, m1).ok());
    ASSERT_TRUE(p.responder.read_message(m1, payload).ok());
    ASSERT_TRUE(p.responder.write_message({}, m2).ok());
    EXPECT_EQ(m2.size(), 96u);
    auto st = p.initiator.read_message(BytesView(m2).first(95), payload);
    EXPECT_EQ(st.code(), errc::protocol_error);
    EXPECT_NE(st.error().detail.find("message 2"), std::string::npos) << st.error().detail;
  }
  {
    Pair p = fresh_pair();
    Bytes m1, m2, m3, payload;
    ASSERT_TRUE(p.initiator.write_message({}, m1).ok());
    ASSERT_TRUE(p.responder.read_message(m1, payload).ok());
    ASSERT_TRUE(p.responder.write_message({}, m2).ok());
    ASSERT_TRUE(p.initiator.read_message(m2, payload).ok());
    ASSERT_TRUE(p.initiator.write_message({}, m3).ok());
    EXPECT_EQ(m3.size(), 64u);
    EXPECT_EQ(p.responder.read_message(BytesView(m3).first(63), payload).code(),
              errc::protocol_error);
  }
}

TEST(NoiseHandshakeState, LowOrderEphemeralIsRejected) {
  Pair p = fresh_pair();
  Bytes m1(32, 0);  // the all-zero point
  Bytes payload, m2;
  ASSERT_TRUE(p.responder.read_message(m1, payload).ok());
  EXPECT_EQ(p.responder.write_message({}, m2).code(), errc::crypto_error);
}

TEST(NoiseHandshakeState, OutOfTurnCallsFail) {
  Pair p = fresh_pair();
  Bytes out, payload;
  EXPECT_FALSE(p.responder.write_message({}, out).ok());
  EXPECT_FALSE(p.initiator.read_message(Bytes(32, 9), payload).ok());
}

TEST(NoiseCipherState, NonceExhaustionNeverReusesANonce) {
  Key k{};
  k[0] = 1;
  CipherState send(k);
  CipherState recv(k);
  send.set_nonce(CipherState::kReservedNonce - 1);
  recv.set_nonce(CipherState::kReservedNonce - 1);
  Bytes plain(5, 7), ct(5 + kTagLen), back(5);
  ASSERT_TRUE(send.encrypt_with_ad({}, plain, ct).ok());
  ASSERT_TRUE(recv.decrypt_with_ad({}, ct, back).ok());
  EXPECT_EQ(send.nonce(), CipherState::kReservedNonce);
  auto st = send.encrypt_with_ad({}, plain, ct);
  EXPECT_EQ(st.code(), errc::crypto_error);
  EXPECT_EQ(send.nonce(), CipherState::kReservedNonce);
  EXPECT_EQ(recv.decrypt_with_ad({}, ct, back).code(), errc::crypto_error);
}

// Without a key a message is its own plaintext: an out sized for a keyed
// message (16 bytes short) is refused, not overrun (ASan sees an overrun).
TEST(NoiseCipherState, KeylessDecryptionChecksTheOutputSize) {
  CipherState none;
  const Bytes in(40, 3);
  auto out = std::make_unique<std::uint8_t[]>(in.size() - kTagLen);
  EXPECT_EQ(none.decrypt_with_ad({}, in, MutableBytesView(out.get(), in.size() - kTagLen)).code(),
            errc::crypto_error);
  Bytes back(in.size());
  ASSERT_TRUE(none.decrypt_with_ad({}, in, back).ok());
  EXPECT_EQ(back, in);
}

TEST(NoiseCipherState, FailedDecryptionDoesNotConsumeTheNonce) {
  Key k{};
  CipherState send(k);
  CipherState recv(k);
  Bytes plain(3, 1), ct(3 + kTagLen), back(3);
  ASSERT_TRUE(send.encrypt_with_ad({}, plain, ct).ok());
  Bytes bad = ct;
  bad[0] ^= 1;
  EXPECT_EQ(recv.decrypt_with_ad({}, bad, back).code(), errc::crypto_error);
  EXPECT_EQ(recv.nonce(), 0u);
  EXPECT_TRUE(recv.decrypt_with_ad({}, ct, back).ok());
  EXPECT_EQ(recv.decrypt_with_ad({}, BytesView(ct).first(15), MutableBytesView{}).code(),
            errc::crypto_error);
}
