#include <gtest/gtest.h>

#include "multiformats/multihash.hpp"

using namespace weft;

namespace {

Bytes sha256_mh(std::uint8_t fill = 0xab) {
  Bytes b{0x12, 0x20};
  b.insert(b.end(), 32, fill);
  return b;
}

void expect_fail(const Bytes& in, errc code, std::string_view needle) {
  auto r = multihash::decode(in);
  ASSERT_FALSE(r.ok()) << "accepted " << to_hex(in);
  EXPECT_EQ(r.code(), code) << to_hex(in) << ": " << r.error().message();
  EXPECT_NE(r.error().detail.find(needle), std::string::npos)
      << to_hex(in) << " -> '" << r.error().detail << "' lacks '" << needle << "'";
}

}  // namespace

TEST(Multihash, DecodesSha256) {
  const Bytes mh = sha256_mh();
  auto v = multihash::decode(mh);
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_EQ(v->code, multihash::kSha2_256);
  EXPECT_EQ(v->digest.size(), 32u);
  EXPECT_EQ(v->digest.data(), mh.data() + 2);
  EXPECT_EQ(v->size, 34u);
}

TEST(Multihash, DecodesIdentity) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{36}, std::size_t{127},
                        multihash::kMaxIdentityDigestSize}) {
    Bytes digest(n, 7);
    auto mh = multihash::encode(multihash::kIdentity, digest);
    ASSERT_TRUE(mh.ok()) << n;
    EXPECT_EQ(mh->size(), n + (n >= 128 ? 3u : 2u));
    auto v = multihash::decode(*mh);
    ASSERT_TRUE(v.ok()) << n << ": " << v.error().message();
    EXPECT_EQ(v->code, multihash::kIdentity);
    EXPECT_EQ(Bytes(v->digest.begin(), v->digest.end()), digest);
  }
}

TEST(Multihash, EncodeMatchesSpecLayout) {
  auto mh = multihash::encode(multihash::kSha2_256, Bytes(32, 0xab));
  ASSERT_TRUE(mh.ok());
  EXPECT_EQ(*mh, sha256_mh());
  EXPECT_EQ(multihash::encode(multihash::kSha2_256, Bytes(31, 0)).code(), errc::parse_error);
  EXPECT_EQ(multihash::encode(multihash::kIdentity, Bytes(129, 0)).code(), errc::parse_error);
  EXPECT_EQ(multihash::encode(0x13, Bytes(64, 0)).code(), errc::unsupported);
}

TEST(Multihash, DecodePrefixLeavesTheRest) {
  Bytes in = sha256_mh();
  in.push_back(0x99);
  in.push_back(0x98);
  auto v = multihash::decode_prefix(in);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->size, 34u);
  expect_fail(in, errc::parse_error, "2 trailing byte(s)");
}

TEST(Multihash, DecodeAnyAcceptsOtherCodes) {
  Bytes sha512{0x13, 0x40};
  sha512.insert(sha512.end(), 64, 1);
  EXPECT_EQ(multihash::decode(sha512).code(), errc::unsupported);
  auto v = multihash::decode_any(sha512);
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_EQ(v->code, 0x13u);
  // Two-byte code (md5 = 0xd5).
  Bytes md5{0xd5, 0x01, 0x10};
  md5.insert(md5.end(), 16, 2);
  EXPECT_TRUE(multihash::decode_any(md5).ok());
  // Still structure-checked.
  md5.pop_back();
  EXPECT_EQ(multihash::decode_any(md5).code(), errc::parse_error);
  Bytes big{0x13, 0x81, 0x01};  // length 129
  big.insert(big.end(), 129, 0);
  EXPECT_EQ(multihash::decode_any(big).code(), errc::parse_error);
  Bytes trailing = sha512;
  trailing.push_back(0);
  EXPECT_EQ(multihash::decode_any(trailing).code(), errc::parse_error);
}

TEST(Multihash, RejectsMalformed) {
  expect_fail({}, errc::parse_error, "empty");
  expect_fail({0x12}, errc::parse_error, "missing digest length");
  expect_fail({0x80}, errc::parse_error, "bad hash function code");              // truncated varint
  expect_fail({0x80, 0x00, 0x00}, errc::parse_error, "not minimally encoded");  // non-minimal code
  expect_fail(Bytes(10, 0xff), errc::parse_error, "longer than 9 bytes");
  expect_fail({0x12, 0x80}, errc::parse_error, "bad digest length");
  expect_fail({0x12, 0xa0, 0x00}, errc::parse_error, "not minimally encoded");
  expect_fail({0x12, 0x20, 1, 2, 3}, errc::parse_error, "truncated digest (3 of 32 bytes)");
  expect_fail({0x12, 0x1f}, errc::parse_error, "truncated digest");
  {
    Bytes short_sha{0x12, 0x1f};
    short_sha.insert(short_sha.end(), 31, 0);
    expect_fail(short_sha, errc::parse_error, "sha2-256 digest must be 32 bytes, not 31");
    Bytes long_sha{0x12, 0x21};
    long_sha.insert(long_sha.end(), 33, 0);
    expect_fail(long_sha, errc::parse_error, "must be 32 bytes, not 33");
  }
  {
    Bytes big_id{0x00, 0x81, 0x01};  // identity, 129 bytes
    big_id.insert(big_id.end(), 129, 0);
    expect_fail(big_id, errc::parse_error, "exceeds the maximum of 128");
    Bytes huge{0x00, 0xff, 0xff, 0xff, 0xff, 0x0f};  // claims 4 GiB: rejected before any allocation
    expect_fail(huge, errc::parse_error, "exceeds the maximum");
  }
  {
    Bytes unknown{0x11, 0x14};  // sha1
    unknown.insert(unknown.end(), 20, 0);
    expect_fail(unknown, errc::unsupported, "unsupported hash function 0x11");
    Bytes two_byte{0xb2, 0x20, 0x20};  // a two-byte code, 0x1032
    two_byte.insert(two_byte.end(), 32, 0);
    expect_fail(two_byte, errc::unsupported, "0x1032");
  }
}
