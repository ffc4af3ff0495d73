// The crypto primitives against their RFC test vectors, on whichever backend
// is compiled in.
#include <gtest/gtest.h>

#include "crypto/crypto.hpp"
#include "crypto/test_hex.hpp"

using namespace weft;
using namespace weft::crypto;
using weft::test::unhex;
using weft::test::unhex_array;

namespace {

Bytes to_bytes(BytesView v) { return Bytes(v.begin(), v.end()); }

}  // namespace

TEST(Crypto, BackendName) {
  ASSERT_NE(backend_name(), nullptr);
  EXPECT_GT(std::string(backend_name()).size(), 0u);
}

TEST(Crypto, Sha256Abc) {
  EXPECT_EQ(to_hex(sha256(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // The multi-part form hashes the concatenation.
  EXPECT_EQ(sha256({as_bytes("a"), as_bytes(""), as_bytes("bc")}), sha256(as_bytes("abc")));
  EXPECT_EQ(to_hex(sha256(BytesView{})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Crypto, HmacSha256Rfc4231) {
  // Test case 1.
  Bytes key1(20, 0x0b);
  EXPECT_EQ(to_hex(hmac_sha256(key1, {as_bytes("Hi There")})),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2, data given in two parts.
  EXPECT_EQ(to_hex(hmac_sha256(as_bytes("Jefe"), {as_bytes("what do ya want "),
                                                  as_bytes("for nothing?")})),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size is hashed first.
  Bytes key6(131, 0xaa);
  EXPECT_EQ(to_hex(hmac_sha256(key6, {as_bytes("Test Using Larger Than Block-Size Key - "
                                               "Hash Key First")})),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Crypto, HmacWithEmptyKeyAndData) {
  // Noise's HKDF uses an empty input key material; an empty key must work too.
  auto a = hmac_sha256(BytesView{}, {BytesView{}});
  auto b = hmac_sha256(BytesView{}, {});
  EXPECT_EQ(a, b);
  EXPECT_EQ(to_hex(a), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Crypto, X25519Rfc7748Section5_2) {
  auto out = x25519(
      unhex_array<32>("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
      unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(to_hex(*out), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  out = x25519(unhex_array<32>("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
               unhex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(to_hex(*out), "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

TEST(Crypto, X25519Rfc7748Section6_1) {
  auto alice = x25519_from_private(
      unhex_array<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  auto bob = x25519_from_private(
      unhex_array<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  EXPECT_EQ(to_hex(alice.public_key),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(to_hex(bob.public_key),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  auto s1 = x25519(alice.private_key, bob.public_key);
  auto s2 = x25519(bob.private_key, alice.public_key);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(to_hex(*s1), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(*s1, *s2);
}

TEST(Crypto, X25519GeneratedPairsAgree) {
  auto a = x25519_generate();
  auto b = x25519_generate();
  EXPECT_NE(a.private_key, b.private_key);
  EXPECT_EQ(x25519_from_private(a.private_key).public_key, a.public_key);
  auto s1 = x25519(a.private_key, b.public_key);
  auto s2 = x25519(b.private_key, a.public_key);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(*s1, *s2);
}

// The key-pair form (which hands OpenSSL the public half instead of letting
// it recompute it) must agree with the private-key form and the RFC vector.
TEST(Crypto, X25519WithKeyPairMatchesPrivateKeyForm) {
  auto alice = x25519_from_private(
      unhex_array<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  auto bob = x25519_from_private(
      unhex_array<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  auto s1 = x25519(alice, bob.public_key);
  auto s2 = x25519(bob, alice.public_key);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(to_hex(*s1), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(*s1, *s2);
  for (int i = 0; i < 20; ++i) {
    auto a = x25519_generate();
    auto b = x25519_generate();
    auto pair_form = x25519(a, b.public_key);
    auto private_form = x25519(a.private_key, b.public_key);
    ASSERT_TRUE(pair_form.ok() && private_form.ok());
    EXPECT_EQ(*pair_form, *private_form);
  }
  Bytes one(32, 0);
  one[0] = 1;
  EXPECT_EQ(x25519(alice, one).code(), errc::crypto_error);
  EXPECT_EQ(x25519(alice, Bytes(31, 9)).code(), errc::crypto_error);
}

TEST(Crypto, X25519RejectsLowOrderAndBadLengths) {
  auto a = x25519_generate();
  Bytes zero(32, 0);
  EXPECT_EQ(x25519(a.private_key, zero).code(), errc::crypto_error);
  Bytes one(32, 0);
  one[0] = 1;  // the point u = 1 has order 4: the result is always zero
  EXPECT_EQ(x25519(a.private_key, one).code(), errc::crypto_error);
  EXPECT_EQ(x25519(a.private_key, Bytes(31, 9)).code(), errc::crypto_error);
  EXPECT_EQ(x25519(a.private_key, Bytes(33, 9)).code(), errc::crypto_error);
}

struct Ed25519Vector {
  const char* seed;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 section 7.1, tests 1 to 3.
const Ed25519Vector kEd25519Vectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
     "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
     "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760"
     "984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Crypto, Ed25519Rfc8032) {
  for (const auto& v : kEd25519Vectors) {
    auto kp = ed25519_from_seed(unhex(v.seed));
    EXPECT_EQ(to_hex(kp.public_key), v.public_key);
    Bytes msg = unhex(v.message);
    auto sig = ed25519_sign(kp, msg);
    EXPECT_EQ(to_hex(sig), v.signature);
    EXPECT_TRUE(ed25519_verify(kp.public_key, msg, sig));
    // Any change to message, signature or key fails verification.
    Bytes other = msg;
    other.push_back(0);
    EXPECT_FALSE(ed25519_verify(kp.public_key, other, sig));
    auto bad_sig = sig;
    bad_sig[10] ^= 1;
    EXPECT_FALSE(ed25519_verify(kp.public_key, msg, bad_sig));
    auto bad_key = kp.public_key;
    bad_key[0] ^= 1;
    EXPECT_FALSE(ed25519_verify(bad_key, msg, sig));
  }
}

TEST(Crypto, Ed25519VerifyRejectsWrongSizes) {
  auto kp = ed25519_generate();
  auto sig = ed25519_sign(kp, as_bytes("m"));
  EXPECT_TRUE(ed25519_verify(kp.public_key, as_bytes("m"), sig));
  EXPECT_FALSE(ed25519_verify(BytesView(kp.public_key).first(31), as_bytes("m"), sig));
  EXPECT_FALSE(ed25519_verify(kp.public_key, as_bytes("m"), BytesView(sig).first(63)));
  EXPECT_FALSE(ed25519_verify(kp.public_key, as_bytes("m"), Bytes(65, 0)));
  // S >= L (non-canonical) must be refused: set the top bits of S.
  auto big_s = sig;
  big_s[63] |= 0xf0;
  EXPECT_FALSE(ed25519_verify(kp.public_key, as_bytes("m"), big_s));
}

// RFC 8439 section 2.8.2.
TEST(Crypto, ChaChaPolyRfc8439) {
  auto key = unhex_array<32>("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  auto nonce = unhex_array<12>("070000004041424344454647");
  Bytes ad = unhex("50515253c0c1c2c3c4c5c6c7");
  std::string_view text =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  const std::string expected =
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69"
      "da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad67594"
      "5585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
      "1ae10b594f09e26a7e902ecbd0600691";
  ChaChaPoly aead(key);
  Bytes out(text.size() + ChaChaPoly::kTagSize);
  aead.seal(nonce, ad, as_bytes(text), out);
  EXPECT_EQ(to_hex(out), expected);

  Bytes plain(text.size());
  ASSERT_TRUE(aead.open(nonce, ad, out, plain));
  EXPECT_EQ(as_string_view(plain), text);

  // In place, both ways.
  Bytes buf(as_bytes(text).begin(), as_bytes(text).end());
  buf.resize(text.size() + ChaChaPoly::kTagSize);
  aead.seal(nonce, ad, BytesView(buf).first(text.size()), buf);
  EXPECT_EQ(to_hex(buf), expected);
  ASSERT_TRUE(aead.open(nonce, ad, buf, MutableBytesView(buf).first(text.size())));
  EXPECT_EQ(as_string_view(BytesView(buf).first(text.size())), text);

  // Tampering with ciphertext, tag, ad or nonce fails.
  for (std::size_t pos : {std::size_t{0}, text.size() - 1, text.size(), out.size() - 1}) {
    Bytes bad = out;
    bad[pos] ^= 0x80;
    EXPECT_FALSE(aead.open(nonce, ad, bad, plain)) << pos;
  }
  Bytes bad_ad = ad;
  bad_ad[0] ^= 1;
  EXPECT_FALSE(aead.open(nonce, bad_ad, out, plain));
  auto bad_nonce = nonce;
  bad_nonce[11] ^= 1;
  EXPECT_FALSE(aead.open(bad_nonce, ad, out, plain));
  // And the context still works after failures.
  EXPECT_TRUE(aead.open(nonce, ad, out, plain));
}

TEST(Crypto, ChaChaPolyNoiseNonceLayout) {
  auto n = ChaChaPoly::noise_nonce(0x0102030405060708ull);
  EXPECT_EQ(to_hex(n), "000000000807060504030201");
  std::array<std::uint8_t, 32> key{};
  key[0] = 7;
  ChaChaPoly a(key);
  ChaChaPoly b(key);
  Bytes msg = unhex("00112233");
  Bytes c1(msg.size() + 16), c2(msg.size() + 16);
  a.seal(5, {}, msg, c1);
  b.seal(ChaChaPoly::noise_nonce(5), {}, msg, c2);
  EXPECT_EQ(c1, c2);
}

TEST(Crypto, ChaChaPolyManyMessagesAndSizes) {
  std::array<std::uint8_t, 32> key{};
  random_bytes(key);
  ChaChaPoly sender(key);
  ChaChaPoly receiver(key);
  Bytes msg(65519);
  random_bytes(msg);
  Bytes ct(msg.size() + 16);
  Bytes pt(msg.size());
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16},
                           std::size_t{63}, std::size_t{64}, std::size_t{65}, std::size_t{1000},
                           std::size_t{65519}}) {
    for (std::uint64_t nonce = 0; nonce < 3; ++nonce) {
      auto c = MutableBytesView(ct).first(size + 16);
      auto p = MutableBytesView(pt).first(size);
      sender.seal(nonce, {}, BytesView(msg).first(size), c);
      ASSERT_TRUE(receiver.open(nonce, {}, c, p)) << size << " " << nonce;
      EXPECT_TRUE(std::equal(p.begin(), p.end(), msg.begin())) << size;
      EXPECT_FALSE(receiver.open(nonce + 1, {}, c, p)) << size;
    }
  }
  // Shorter than a tag: refused, never read out of bounds.
  EXPECT_FALSE(receiver.open(0, {}, BytesView(ct).first(15), MutableBytesView{}));
}

// Sealing a message given in parts equals sealing it joined, whatever the
// split points (OpenSSL carries partial keystream blocks between updates;
// BoringSSL seals a second part of up to 64 bytes as its "extra" input and
// joins longer ones in the output first: 76 and 77 bytes cut at 12 straddle
// that).
TEST(Crypto, ChaChaPolySealPartsEqualsSealJoined) {
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 3 + 1);
  ChaChaPoly aead(key);
  Bytes msg(3000);
  for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::uint8_t>(i * 13);
  const Bytes ad = {9, 8, 7};
  for (std::size_t len : {0u, 1u, 63u, 64u, 65u, 76u, 77u, 200u, 3000u}) {
    const BytesView m = BytesView(msg).first(len);
    Bytes joined(len + ChaChaPoly::kTagSize);
    aead.seal(42, ad, m, joined);
    for (std::size_t cut : {0u, 1u, 12u, 63u, 64u, 100u}) {
      if (cut > len) continue;
      Bytes parts(len + ChaChaPoly::kTagSize);
      aead.seal_parts(42, ad, {m.first(cut), m.subspan(cut)}, parts);
      EXPECT_EQ(parts, joined) << len << " cut at " << cut;
      if (cut + 5 <= len) {
        Bytes three(len + ChaChaPoly::kTagSize);
        aead.seal_parts(42, ad, {m.first(cut), m.subspan(cut, 5), m.subspan(cut + 5)}, three);
        EXPECT_EQ(three, joined) << len << " three parts at " << cut;
      }
    }
    Bytes opened(len);
    EXPECT_TRUE(aead.open(42, ad, joined, opened));
    EXPECT_TRUE(std::equal(opened.begin(), opened.end(), m.begin()));
  }
}
