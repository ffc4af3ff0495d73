// libp2p keys: protobuf encodings, peer ids, identities on disk, and the
// peer-ids spec's test vectors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "core/protobuf.hpp"
#include "crypto/keys.hpp"
#include "crypto/test_hex.hpp"

using namespace weft;
using namespace weft::crypto;
using weft::test::unhex;

namespace {

// From libp2p's peer-ids spec, "Test vectors".
constexpr const char* kEd25519Private =
    "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be"
    "8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
constexpr const char* kEd25519Public =
    "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
constexpr const char* kSecp256k1Public =
    "08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99";
constexpr const char* kSecp256k1Private =
    "0802122053DADF1D5A164D6B4ACDB15E24AA4C5B1D3461BDBD42ABEDB0A4404D56CED8FB";
constexpr const char* kEcdsaPublic =
    "0803125b3059301306072a8648ce3d020106082a8648ce3d03010703420004de3d300fa36ae0e8f5d530899d83ab"
    "ab44abf3161f162a4bc901d8e6ecda020e8b6d5f8da30525e71d6851510c098e5c47c646a597fb4dcec034e9f77c"
    "409e62";
constexpr const char* kRsaPublic =
    "080012a60430820222300d06092a864886f70d01010105000382020f003082020a0282020100e1beab071d08200b"
    "de24eef00d049449b07770ff9910257b2d7d5dda242ce8f0e2f12e1af4b32d9efd2c090f66b0f29986dbb645dae9"
    "880089704a94e5066d594162ae6ee8892e6ec70701db0a6c445c04778eb3de1293aa1a23c3825b85c6620a2bc3f8"
    "2f9b0c309bc0ab3aeb1873282bebd3da03c33e76c21e9beb172fd44c9e43be32e2c99827033cf8d0f0c606f45793"
    "26c930eb4e854395ad941256542c793902185153c474bed109d6ff5141ebf9cd256cf58893a37f83729f97e7cb43"
    "5ec679d2e33901d27bb35aa0d7e20561da08885ef0abbf8e2fb48d6a5487047a9ecb1ad41fa7ed84f6e3e8ecd5d9"
    "8b3982d2a901b4454991766da295ab78822add5612a2df83bcee814cf50973e80d7ef38111b1bd87da2ae92438a2"
    "c8cbcc70b31ee319939a3b9c761dbc13b5c086d6b64bf7ae7dacc14622375d92a8ff9af7eb962162bbddebf90acb"
    "32adb5e4e4029f1c96019949ecfbfeffd7ac1e3fbcc6b6168c34be3d5a2e5999fcbb39bba7adbca78eab09b9bc39"
    "f7fa4b93411f4cc175e70c0a083e96bfaefb04a9580b4753c1738a6a760ae1afd851a1a4bdad231cf56e9284d832"
    "483df215a46c1c21bdf0c6cfe951c18f1ee4078c79c13d63edb6e14feaeffabc90ad317e4875fe648101b0864097"
    "e998f0ca3025ef9638cd2b0caecd3770ab54a1d9c6ca959b0f5dcbc90caeefc4135baca6fd475224269bbe1b0203"
    "010001";

Bytes key_message(std::uint64_t type, BytesView data) {
  pb::Writer w;
  w.varint_field(1, type);
  w.bytes_field(2, data);
  return std::move(w).take();
}

std::string temp_path(const char* name) {
  return ::testing::TempDir() + "weft_keys_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace

TEST(Keys, SpecEd25519Vector) {
  auto id = Identity::decode(unhex(kEd25519Private));
  ASSERT_TRUE(id.ok()) << id.error().message();
  EXPECT_EQ(to_hex(id->public_key().encode()), kEd25519Public);
  EXPECT_EQ(to_hex(id->encode()), kEd25519Private);  // the 64-byte form round-trips

  auto pk = PublicKey::decode(unhex(kEd25519Public));
  ASSERT_TRUE(pk.ok()) << pk.error().message();
  EXPECT_EQ(pk->type(), KeyType::ed25519);
  EXPECT_EQ(*pk, id->public_key());
  EXPECT_EQ(to_hex(pk->encode()), kEd25519Public);

  // 36 bytes of encoding: an identity multihash embedding the key.
  PeerId pid = peer_id_from_public_key(*pk);
  ASSERT_TRUE(pid.valid());
  EXPECT_EQ(to_hex(pid.multihash()), std::string("0024") + kEd25519Public);
  EXPECT_EQ(pid, id->peer_id());
  EXPECT_EQ(pid.to_base58(), "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");
}

TEST(Keys, SignAndVerify) {
  Identity id = Identity::generate();
  auto sig = id.sign(as_bytes("hello"));
  EXPECT_TRUE(id.public_key().verify(as_bytes("hello"), sig).ok());
  auto st = id.public_key().verify(as_bytes("hellO"), sig);
  EXPECT_EQ(st.code(), errc::crypto_error);
  EXPECT_EQ(id.public_key().verify(as_bytes("hello"), BytesView(sig).first(63)).code(),
            errc::crypto_error);
  Identity other = Identity::generate();
  EXPECT_NE(other.peer_id(), id.peer_id());
  EXPECT_EQ(other.public_key().verify(as_bytes("hello"), sig).code(), errc::crypto_error);
}

TEST(Keys, SignedX25519KeyIsStablePerIdentityAndSigned) {
  Identity id = Identity::generate();
  const auto k1 = id.signed_x25519_key("ctx-a:");
  const auto k2 = id.signed_x25519_key("ctx-a:");
  EXPECT_EQ(k1.key.private_key, k2.key.private_key);
  EXPECT_EQ(k1.key.public_key, k2.key.public_key);
  EXPECT_EQ(k1.signature, k2.signature);
  EXPECT_EQ(x25519_from_private(k1.key.private_key).public_key, k1.key.public_key);

  const Identity copy = id;  // copies share the key
  EXPECT_EQ(copy.signed_x25519_key("ctx-a:").key.public_key, k1.key.public_key);

  const auto other_context = id.signed_x25519_key("ctx-b:");
  EXPECT_NE(other_context.key.public_key, k1.key.public_key);

  Bytes msg = {'c', 't', 'x', '-', 'a', ':'};
  append(msg, k1.key.public_key);
  EXPECT_TRUE(id.public_key().verify(msg, k1.signature).ok());
  msg.back() ^= 1;
  EXPECT_FALSE(id.public_key().verify(msg, k1.signature).ok());

  // Another identity, even from the same seed, has its own key.
  Identity again = Identity::from_seed(std::array<std::uint8_t, 32>{1});
  Identity again2 = Identity::from_seed(std::array<std::uint8_t, 32>{1});
  EXPECT_NE(again.signed_x25519_key("ctx-a:").key.public_key,
            again2.signed_x25519_key("ctx-a:").key.public_key);
}

TEST(Keys, OtherKeyTypesDecodeButAreUnsupported) {
  struct Case {
    const char* hex;
    KeyType type;
    const char* name;
    bool hashed;
  };
  for (const Case& c : {Case{kSecp256k1Public, KeyType::secp256k1, "Secp256k1", false},
                        Case{kEcdsaPublic, KeyType::ecdsa, "ECDSA", true},
                        Case{kRsaPublic, KeyType::rsa, "RSA", true}}) {
    auto pk = PublicKey::decode(unhex(c.hex));
    ASSERT_TRUE(pk.ok()) << c.name << ": " << pk.error().message();
    EXPECT_EQ(pk->type(), c.type);
    EXPECT_EQ(to_hex(pk->encode()), c.hex);
    auto st = pk->verify(as_bytes("m"), Bytes(64, 0));
    EXPECT_EQ(st.code(), errc::unsupported);
    EXPECT_EQ(st.error().detail, std::string("unsupported key type: ") + c.name);
    PeerId pid = peer_id_from_public_key(*pk);
    ASSERT_TRUE(pid.valid());
    EXPECT_EQ(pid.multihash()[0], c.hashed ? 0x12 : 0x00) << c.name;
    if (c.hashed) {
      EXPECT_EQ(pid.multihash().size(), 34u);
      EXPECT_EQ(to_hex(BytesView(pid.multihash()).subspan(2)), to_hex(sha256(unhex(c.hex))));
    }
  }
  auto id = Identity::decode(unhex(kSecp256k1Private));
  EXPECT_EQ(id.code(), errc::unsupported);
  EXPECT_NE(id.error().detail.find("Secp256k1"), std::string::npos);
}

TEST(Keys, OversizedRsaKeyIsRefusedBeforeParsing) {
  Bytes huge(2000, 0x30);
  auto pk = PublicKey::decode(key_message(0, huge));
  EXPECT_EQ(pk.code(), errc::limit_exceeded);
  EXPECT_NE(pk.error().detail.find("8192"), std::string::npos) << pk.error().detail;
  Bytes at_limit(kMaxRsaPublicKeyDerSize, 0x30);
  EXPECT_TRUE(PublicKey::decode(key_message(0, at_limit)).ok());
  Bytes over(kMaxRsaPublicKeyDerSize + 1, 0x30);
  EXPECT_EQ(PublicKey::decode(key_message(0, over)).code(), errc::limit_exceeded);
  EXPECT_EQ(PublicKey::decode(key_message(3, Bytes(1000, 1))).code(), errc::limit_exceeded);
}

TEST(Keys, MalformedPublicKeys) {
  struct Case {
    Bytes input;
    errc code;
  };
  const Case cases[] = {
      {Bytes{}, errc::parse_error},                                  // no fields
      {Bytes{0x08, 0x01}, errc::parse_error},                        // no Data
      {Bytes{0x12, 0x01, 0x00}, errc::parse_error},                  // no Type
      {key_message(1, Bytes(31, 1)), errc::parse_error},             // short Ed25519
      {key_message(1, Bytes(33, 1)), errc::parse_error},             // long Ed25519
      {key_message(2, Bytes(34, 2)), errc::parse_error},             // odd secp256k1 size
      {key_message(0, Bytes{}), errc::parse_error},                  // empty RSA
      {key_message(4, Bytes(32, 1)), errc::unsupported},             // unknown type
      {key_message(1ull << 40, Bytes(32, 1)), errc::unsupported},    // absurd type
      {Bytes{0x08, 0x01, 0x12, 0x21, 0x00}, errc::parse_error},      // truncated Data
      {Bytes{0x0a, 0x01, 0x01, 0x12, 0x00}, errc::parse_error},      // Type with wrong wire type
      {Bytes{0x08, 0x01, 0x10, 0x05}, errc::parse_error},            // Data with wrong wire type
      {Bytes{0x08}, errc::parse_error},                              // truncated varint
  };
  for (const Case& c : cases) {
    auto pk = PublicKey::decode(c.input);
    EXPECT_EQ(pk.code(), c.code) << to_hex(c.input);
    if (!pk.ok()) {
      EXPECT_FALSE(pk.error().detail.empty());
    }
  }
  // Unknown extra fields are ignored; the re-encoding is canonical.
  Bytes with_extra = unhex(kEd25519Public);
  with_extra.insert(with_extra.end(), {0x18, 0x07});
  auto pk = PublicKey::decode(with_extra);
  ASSERT_TRUE(pk.ok());
  EXPECT_EQ(to_hex(pk->encode()), kEd25519Public);
  // Fields in reverse order decode too.
  Bytes reversed =
      unhex("12201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e0801");
  pk = PublicKey::decode(reversed);
  ASSERT_TRUE(pk.ok());
  EXPECT_EQ(to_hex(pk->encode()), kEd25519Public);
}

TEST(Keys, PrivateKeyForms) {
  Bytes full = unhex(kEd25519Private);
  Bytes data(full.begin() + 4, full.end());  // 64 bytes: seed || public
  Bytes seed(data.begin(), data.begin() + 32);
  Bytes pub(data.begin() + 32, data.end());

  auto from_seed = Identity::decode(key_message(1, seed));
  ASSERT_TRUE(from_seed.ok()) << from_seed.error().message();
  EXPECT_EQ(to_hex(from_seed->encode()), kEd25519Private);

  Bytes legacy = data;
  append(legacy, pub);  // 96 bytes: seed || public || public
  auto from_legacy = Identity::decode(key_message(1, legacy));
  ASSERT_TRUE(from_legacy.ok());
  EXPECT_EQ(from_legacy->peer_id(), from_seed->peer_id());

  Bytes mismatched = data;
  mismatched[40] ^= 1;
  auto bad = Identity::decode(key_message(1, mismatched));
  EXPECT_EQ(bad.code(), errc::parse_error);
  EXPECT_NE(bad.error().detail.find("does not match"), std::string::npos);
  Bytes bad_legacy = legacy;
  bad_legacy[95] ^= 1;
  EXPECT_EQ(Identity::decode(key_message(1, bad_legacy)).code(), errc::parse_error);

  EXPECT_EQ(Identity::decode(key_message(1, Bytes(63, 1))).code(), errc::parse_error);
  EXPECT_EQ(Identity::decode(key_message(0, Bytes(100, 1))).code(), errc::unsupported);
  EXPECT_EQ(Identity::decode(Bytes{0xff}).code(), errc::parse_error);

  // The signature from a decoded identity matches RFC 8032 (same seed => same key).
  auto again = Identity::from_seed(weft::test::unhex_array<32>(to_hex(seed)));
  EXPECT_EQ(again.peer_id(), from_seed->peer_id());
}

TEST(Keys, SaveAndLoad) {
  const std::string path = temp_path("identity.key");
  ::unlink(path.c_str());
  Identity id = Identity::generate();
  ASSERT_TRUE(id.save(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<std::size_t>(st.st_size), id.encode().size());

  auto loaded = Identity::load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(loaded->peer_id(), id.peer_id());
  EXPECT_EQ(loaded->encode(), id.encode());

  // Overwriting an existing, more permissive file tightens its mode.
  ::chmod(path.c_str(), 0644);
  Identity id2 = Identity::generate();
  ASSERT_TRUE(id2.save(path).ok());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Identity::load(path)->peer_id(), id2.peer_id());
  ::unlink(path.c_str());
}

TEST(Keys, LoadErrors) {
  EXPECT_EQ(Identity::load(temp_path("does-not-exist")).code(), errc::not_found);

  const std::string big = temp_path("big.key");
  {
    std::ofstream f(big, std::ios::binary);
    std::string filler(Identity::kMaxFileSize + 1, 'x');
    f << filler;
  }
  auto r = Identity::load(big);
  EXPECT_EQ(r.code(), errc::limit_exceeded);
  EXPECT_NE(r.error().detail.find(big), std::string::npos);
  ::unlink(big.c_str());

  const std::string garbage = temp_path("garbage.key");
  {
    std::ofstream f(garbage, std::ios::binary);
    f << "not a key";
  }
  EXPECT_EQ(Identity::load(garbage).code(), errc::parse_error);
  ::unlink(garbage.c_str());

  const std::string empty = temp_path("empty.key");
  { std::ofstream f(empty, std::ios::binary); }
  EXPECT_EQ(Identity::load(empty).code(), errc::parse_error);
  ::unlink(empty.c_str());

  auto st = Identity::generate().save(temp_path("no-such-dir/x/identity.key"));
  EXPECT_FALSE(st.ok());
}
