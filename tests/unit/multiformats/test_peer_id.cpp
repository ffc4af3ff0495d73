#include <gtest/gtest.h>

#include <set>
#include <unordered_set>

#include "multiformats/multibase.hpp"
#include "multiformats/peer_id.hpp"

using namespace weft;

namespace {

// From libp2p's peer-ids spec: an Ed25519 key's identity-multihash id, and an
// RSA key's sha2-256 id with its CIDv1 form.
constexpr std::string_view kEd25519Id = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
constexpr std::string_view kEd25519Cid = "bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l";
constexpr std::string_view kRsaId = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N";
constexpr std::string_view kRsaCid = "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe";
// From the multiaddr test suites (go-multiaddr, js-multiaddr): pairs of the same id.
constexpr std::string_view kOtherEdId = "12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV";
constexpr std::string_view kOtherEdCid = "bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkfu7qjfi6sduakhso4lay6abn2d5u";
constexpr std::string_view kOtherRsaId = "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC";
constexpr std::string_view kOtherRsaCid = "bafzbeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4bm";

PeerId must_parse(std::string_view s) {
  auto r = PeerId::parse(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : PeerId{};
}

void expect_fail(std::string_view text, errc code, std::string_view needle) {
  auto r = PeerId::parse(text);
  ASSERT_FALSE(r.ok()) << "accepted '" << text << "'";
  EXPECT_EQ(r.code(), code) << text << ": " << r.error().message();
  EXPECT_NE(r.error().detail.find(needle), std::string::npos)
      << "'" << text << "' -> '" << r.error().detail << "' lacks '" << needle << "'";
}

}  // namespace

TEST(PeerId, ParsesSpecEd25519Id) {
  PeerId id = must_parse(kEd25519Id);
  ASSERT_TRUE(id.valid());
  EXPECT_EQ(id.to_base58(), kEd25519Id);
  EXPECT_EQ(id.to_string(), kEd25519Id);
  EXPECT_EQ(id.to_cid(), kEd25519Cid);
  EXPECT_EQ(id.multihash().size(), 38u);
  EXPECT_EQ(id.multihash()[0], 0x00);  // identity
  EXPECT_EQ(id.multihash()[1], 36);
  // The inlined key: the protobuf PublicKey {Type: Ed25519 (1), Data: 32 bytes}.
  BytesView key = id.inline_public_key();
  ASSERT_EQ(key.size(), 36u);
  EXPECT_EQ(key[0], 0x08);
  EXPECT_EQ(key[1], 0x01);
  EXPECT_EQ(key[2], 0x12);
  EXPECT_EQ(key[3], 0x20);
  EXPECT_EQ(to_hex(key.subspan(4)), "2ffa35a99d3a3cfbb17bb7c1dc5561b18a8dcca4df38dc613ea859c37eb1336b");
}

TEST(PeerId, CidAndBase58FormsAreTheSamePeer) {
  for (auto [b58, cid] : {std::pair{kEd25519Id, kEd25519Cid}, std::pair{kRsaId, kRsaCid},
                          std::pair{kOtherEdId, kOtherEdCid}, std::pair{kOtherRsaId, kOtherRsaCid}}) {
    SCOPED_TRACE(std::string(b58));
    PeerId a = must_parse(b58), b = must_parse(cid);
    EXPECT_EQ(a, b);
    EXPECT_EQ(b.to_base58(), b58);
    EXPECT_EQ(a.to_cid(), cid);
    EXPECT_EQ(std::hash<PeerId>{}(a), std::hash<PeerId>{}(b));
  }
  // Different keys are different peers.
  EXPECT_NE(must_parse(kEd25519Id), must_parse(kOtherEdCid));
  EXPECT_NE(must_parse(kRsaId), must_parse(kOtherRsaId));
}

TEST(PeerId, Sha256Ids) {
  PeerId id = must_parse(kRsaId);
  EXPECT_EQ(id.multihash().size(), 34u);
  EXPECT_EQ(id.multihash()[0], 0x12);
  EXPECT_EQ(id.multihash()[1], 0x20);
  EXPECT_TRUE(id.inline_public_key().empty());
  EXPECT_EQ(to_hex(id.multihash()), "12209dff3b17d74cf4d38a50d8b6383e92d181a10395a5e73a726dcccbd21bf6f0b9");
  EXPECT_EQ(must_parse(kOtherRsaId).to_base58(), kOtherRsaId);
}

TEST(PeerId, CidInAnyMultibase) {
  const PeerId id = must_parse(kEd25519Id);
  Bytes cid{0x01, 0x72};
  append(cid, id.multihash());
  for (auto base : {multibase::Base::base58btc, multibase::Base::base32upper, multibase::Base::base16,
                    multibase::Base::base16upper, multibase::Base::base64, multibase::Base::base64url,
                    multibase::Base::base64urlpad}) {
    const std::string text = multibase::encode(base, cid);
    EXPECT_EQ(must_parse(text), id) << text;
  }
  EXPECT_EQ(must_parse("z5AanNVJCxnJ4fhdT9DsSUYvwjgHpsJ4pn4bueg8bvDe6b1tDj9rmdk"), id);
  EXPECT_EQ(must_parse("BAFZAAJAIAEJCAL72GWUZ2OR47OYXXN6B3RKWDMMKRXGKJXZY3RQT5KCZYN7LCM3L"), id);
}

TEST(PeerId, FromMultihash) {
  const PeerId id = must_parse(kRsaId);
  auto again = PeerId::from_multihash(id.multihash());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, id);

  Bytes id_mh{0x00, 0x03, 1, 2, 3};
  auto small = PeerId::from_multihash(id_mh);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->inline_public_key().size(), 3u);
  EXPECT_EQ(small->to_base58().substr(0, 1), "1");
  EXPECT_EQ(must_parse(small->to_base58()), *small);
  EXPECT_EQ(must_parse(small->to_cid()), *small);

  Bytes max_id{0x00, 0x80, 0x01};
  max_id.insert(max_id.end(), 128, 0x42);
  auto big = PeerId::from_multihash(max_id);
  ASSERT_TRUE(big.ok()) << big.error().message();
  EXPECT_EQ(must_parse(big->to_base58()), *big);
  EXPECT_EQ(must_parse(big->to_cid()), *big);
  EXPECT_EQ(must_parse(multibase::encode(multibase::Base::base16, Bytes{0x01, 0x72}) +
                       multibase::base16_encode(max_id)),
            *big);

  EXPECT_EQ(PeerId::from_multihash({}).code(), errc::parse_error);
  EXPECT_EQ(PeerId::from_multihash(Bytes{0x00, 0x00}).code(), errc::parse_error);  // empty identity
  Bytes too_big{0x00, 0x81, 0x01};
  too_big.insert(too_big.end(), 129, 0);
  EXPECT_EQ(PeerId::from_multihash(too_big).code(), errc::parse_error);
  Bytes sha1{0x11, 0x14};
  sha1.insert(sha1.end(), 20, 0);
  EXPECT_EQ(PeerId::from_multihash(sha1).code(), errc::unsupported);
  Bytes trailing = id.multihash();
  trailing.push_back(0);
  EXPECT_EQ(PeerId::from_multihash(trailing).code(), errc::parse_error);
}

TEST(PeerId, DefaultIsInvalid) {
  PeerId id;
  EXPECT_FALSE(id.valid());
  EXPECT_TRUE(id.inline_public_key().empty());
  EXPECT_EQ(id.to_base58(), "");
}

TEST(PeerId, OrderingAndHashing) {
  std::set<PeerId> ordered{must_parse(kEd25519Id), must_parse(kRsaId), must_parse(kEd25519Cid)};
  EXPECT_EQ(ordered.size(), 2u);
  std::unordered_set<PeerId> hashed{must_parse(kOtherEdId), must_parse(kOtherEdCid), must_parse(kOtherRsaId)};
  EXPECT_EQ(hashed.size(), 2u);
}

TEST(PeerId, RejectsMalformedText) {
  expect_fail("", errc::parse_error, "empty");
  expect_fail("1", errc::parse_error, "peer id: multihash");
  expect_fail("Q", errc::parse_error, "peer id:");
  expect_fail("Qm", errc::parse_error, "peer id:");
  // One character short / long: the digest length no longer matches.
  expect_fail(kRsaId.substr(0, kRsaId.size() - 1), errc::unsupported, "unsupported hash function 0x50");
  expect_fail(std::string(kRsaId) + "z", errc::unsupported, "unsupported hash function 0x04");
  expect_fail(kEd25519Id.substr(0, kEd25519Id.size() - 1), errc::parse_error, "multihash");
  // Characters outside base58.
  expect_fail("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx50", errc::parse_error, "invalid character '0'");
  expect_fail("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhxIl", errc::parse_error, "invalid character 'I'");
  expect_fail("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5S/", errc::parse_error, "invalid character '/'");
  expect_fail(" QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", errc::parse_error, "unknown prefix");
  expect_fail("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N ", errc::parse_error, "invalid character");
  expect_fail(std::string(600, '1'), errc::parse_error, "too long");
  // Unknown / unsupported multibase prefixes.
  expect_fail("xyz", errc::parse_error, "unknown prefix 'x'");
  expect_fail("k51qzi5uqu5dhb6l8spkdx7yxafegfkee5by8h7lmjh2ehc2sgg34z7c15vzqs", errc::unsupported,
              "unsupported base");
  // A valid multibase string that is not a CIDv1 of a libp2p-key.
  expect_fail("bafyaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l", errc::parse_error,
              "CID codec 0x70 is not libp2p-key (0x72)");
  expect_fail("bajzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l", errc::parse_error,
              "CID version 2 is not 1");
  expect_fail("f1220" + std::string(64, 'a'), errc::parse_error, "CID version 18 is not 1");
  expect_fail("f", errc::parse_error, "bad CID version");
  expect_fail("f01", errc::parse_error, "bad CID codec");
  expect_fail("f0172", errc::parse_error, "multihash: empty");
  expect_fail("f017212", errc::parse_error, "missing digest length");
  expect_fail("f01721220abcd", errc::parse_error, "truncated digest");
  expect_fail("f01721220" + std::string(64, 'a') + "00", errc::parse_error, "trailing byte");
  expect_fail("f01721114" + std::string(40, 'a'), errc::unsupported, "unsupported hash function 0x11");
  expect_fail("f01720000", errc::parse_error, "empty identity");
  expect_fail("f8101" , errc::parse_error, "CID version 129");
  expect_fail("f8100", errc::parse_error, "not minimally encoded");
  expect_fail("f0172" + multibase::base16_encode(Bytes{0x00, 0x81, 0x01}) + std::string(258, '0'),
              errc::parse_error, "exceeds the maximum");
  expect_fail("bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3", errc::parse_error, "");
  expect_fail("bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3lq", errc::parse_error, "");
  expect_fail("bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm31", errc::parse_error,
              "invalid character '1'");
}
