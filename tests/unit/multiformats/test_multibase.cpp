#include <gtest/gtest.h>

#include <random>

#include "multiformats/multibase.hpp"

using namespace weft;
using multibase::Base;

namespace {

Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

struct Vector {
  Base base;
  std::string_view encoded;
};

void check_vectors(std::string_view data, std::initializer_list<Vector> vectors) {
  for (const auto& v : vectors) {
    SCOPED_TRACE(std::string(v.encoded));
    EXPECT_EQ(multibase::encode(v.base, as_bytes(data)), v.encoded);
    auto d = multibase::decode(v.encoded);
    ASSERT_TRUE(d.ok()) << d.error().message();
    EXPECT_EQ(*d, B(data));
  }
}

// Expects decode(text) to fail with `code` and a detail containing `needle`.
void expect_fail(std::string_view text, errc code, std::string_view needle) {
  auto r = multibase::decode(text);
  ASSERT_FALSE(r.ok()) << "accepted '" << text << "'";
  EXPECT_EQ(r.code(), code) << text << ": " << r.error().message();
  EXPECT_NE(r.error().detail.find(needle), std::string::npos)
      << "'" << text << "' -> '" << r.error().detail << "' lacks '" << needle << "'";
}

}  // namespace

// The multibase spec's test vectors (multiformats/multibase tests/*.csv).
TEST(Multibase, SpecVectorsYesMani) {
  check_vectors("yes mani !", {
                                  {Base::base16, "f796573206d616e692021"},
                                  {Base::base16upper, "F796573206D616E692021"},
                                  {Base::base32, "bpfsxgidnmfxgsibb"},
                                  {Base::base32upper, "BPFSXGIDNMFXGSIBB"},
                                  {Base::base58btc, "z7paNL19xttacUY"},
                                  {Base::base64, "meWVzIG1hbmkgIQ"},
                                  {Base::base64pad, "MeWVzIG1hbmkgIQ=="},
                                  {Base::base64url, "ueWVzIG1hbmkgIQ"},
                                  {Base::base64urlpad, "UeWVzIG1hbmkgIQ=="},
                              });
}

TEST(Multibase, SpecVectorsHelloWorld) {
  check_vectors("hello world", {
                                   {Base::base16, "f68656c6c6f20776f726c64"},
                                   {Base::base16upper, "F68656C6C6F20776F726C64"},
                                   {Base::base32, "bnbswy3dpeb3w64tmmq"},
                                   {Base::base32upper, "BNBSWY3DPEB3W64TMMQ"},
                                   {Base::base58btc, "zStV1DL6CwTryKyV"},
                                   {Base::base64, "maGVsbG8gd29ybGQ"},
                                   {Base::base64pad, "MaGVsbG8gd29ybGQ="},
                                   {Base::base64url, "uaGVsbG8gd29ybGQ"},
                                   {Base::base64urlpad, "UaGVsbG8gd29ybGQ="},
                               });
}

TEST(Multibase, SpecVectorsDecentralize) {
  check_vectors("Decentralize everything!!",
                {
                    {Base::base16, "f446563656e7472616c697a652065766572797468696e672121"},
                    {Base::base16upper, "F446563656E7472616C697A652065766572797468696E672121"},
                    {Base::base32, "birswgzloorzgc3djpjssazlwmvzhs5dinfxgoijb"},
                    {Base::base32upper, "BIRSWGZLOORZGC3DJPJSSAZLWMVZHS5DINFXGOIJB"},
                    {Base::base58btc, "zUXE7GvtEk8XTXs1GF8HSGbVA9FCX9SEBPe"},
                    {Base::base64, "mRGVjZW50cmFsaXplIGV2ZXJ5dGhpbmchIQ"},
                    {Base::base64pad, "MRGVjZW50cmFsaXplIGV2ZXJ5dGhpbmchIQ=="},
                    {Base::base64url, "uRGVjZW50cmFsaXplIGV2ZXJ5dGhpbmchIQ"},
                    {Base::base64urlpad, "URGVjZW50cmFsaXplIGV2ZXJ5dGhpbmchIQ=="},
                });
}

TEST(Multibase, SpecVectorsLeadingZeros) {
  using namespace std::string_view_literals;
  check_vectors("\0yes mani !"sv, {
                                      {Base::base16, "f00796573206d616e692021"},
                                      {Base::base32, "bab4wk4zanvqw42jaee"},
                                      {Base::base32upper, "BAB4WK4ZANVQW42JAEE"},
                                      {Base::base58btc, "z17paNL19xttacUY"},
                                      {Base::base64, "mAHllcyBtYW5pICE"},
                                      {Base::base64pad, "MAHllcyBtYW5pICE="},
                                      {Base::base64url, "uAHllcyBtYW5pICE"},
                                      {Base::base64urlpad, "UAHllcyBtYW5pICE="},
                                  });
  check_vectors("\0\0yes mani !"sv, {
                                        {Base::base16, "f0000796573206d616e692021"},
                                        {Base::base32, "baaahszltebwwc3tjeaqq"},
                                        {Base::base58btc, "z117paNL19xttacUY"},
                                        {Base::base64, "mAAB5ZXMgbWFuaSAh"},
                                        {Base::base64pad, "MAAB5ZXMgbWFuaSAh"},
                                        {Base::base64url, "uAAB5ZXMgbWFuaSAh"},
                                        {Base::base64urlpad, "UAAB5ZXMgbWFuaSAh"},
                                    });
}

// tests/case_insensitivity.csv: base16 and base32 decode whatever the case.
TEST(Multibase, SpecCaseInsensitivity) {
  for (std::string_view s : {"f68656c6c6f20776F726C64", "F68656c6c6f20776F726C64", "bnbswy3dpeB3W64TMMQ",
                             "Bnbswy3dpeB3W64TMMQ"}) {
    auto d = multibase::decode(s);
    ASSERT_TRUE(d.ok()) << s << ": " << d.error().message();
    EXPECT_EQ(*d, B("hello world")) << s;
  }
}

TEST(Multibase, EmptyData) {
  for (Base b : {Base::base58btc, Base::base32, Base::base32upper, Base::base16, Base::base16upper, Base::base64,
                 Base::base64pad, Base::base64url, Base::base64urlpad}) {
    const std::string e = multibase::encode(b, {});
    EXPECT_EQ(e, std::string(1, static_cast<char>(b)));
    auto d = multibase::decode(e);
    ASSERT_TRUE(d.ok()) << e;
    EXPECT_TRUE(d->empty());
  }
}

TEST(Multibase, Base58OnlyZeros) {
  EXPECT_EQ(multibase::base58btc_encode(Bytes{0, 0, 0}), "111");
  EXPECT_EQ(*multibase::base58btc_decode("111"), (Bytes{0, 0, 0}));
  EXPECT_EQ(multibase::base58btc_encode(Bytes{0, 0, 1}), "112");
  EXPECT_EQ(*multibase::base58btc_decode("1112"), (Bytes{0, 0, 0, 1}));
}

TEST(Multibase, Base64UrlAcceptsPaddingOnDecode) {
  auto d = multibase::decode("uaGVsbG8gd29ybGQ=");
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(*d, B("hello world"));
  d = multibase::decode("ueWVzIG1hbmkgIQ==");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, B("yes mani !"));
  d = multibase::decode("maGVsbG8gd29ybGQ=");
  ASSERT_TRUE(d.ok());
}

TEST(Multibase, RandomRoundTrips) {
  std::mt19937 rng(1234);
  for (int n = 0; n < 300; ++n) {
    Bytes data(static_cast<std::size_t>(n % 70));
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    if (n % 5 == 0 && !data.empty()) data[0] = 0;
    for (Base b : {Base::base58btc, Base::base32, Base::base32upper, Base::base16, Base::base16upper, Base::base64,
                   Base::base64pad, Base::base64url, Base::base64urlpad}) {
      const std::string e = multibase::encode(b, data);
      auto d = multibase::decode(e);
      ASSERT_TRUE(d.ok()) << e << ": " << d.error().message();
      EXPECT_EQ(*d, data) << e;
    }
  }
}

TEST(Multibase, RejectsBadPrefix) {
  expect_fail("", errc::parse_error, "empty");
  expect_fail("!abc", errc::parse_error, "unknown prefix '!'");
  expect_fail("Qmabc", errc::parse_error, "unknown prefix 'Q'");
  expect_fail("1abc", errc::parse_error, "unknown prefix '1'");  // implicit base58 is not multibase
  expect_fail("0101", errc::unsupported, "prefix '0'");          // base2
  expect_fail("k2lcpzo5yikidynfl", errc::unsupported, "unsupported base with prefix 'k'");  // base36
  expect_fail("9573277761329450583662625", errc::unsupported, "prefix '9'");                // base10
  expect_fail("cpfsxgidnmfxgsibb", errc::unsupported, "prefix 'c'");                        // base32pad
  expect_fail("vf5in683dc5n6i811", errc::unsupported, "prefix 'v'");                        // base32hex
  expect_fail(std::string_view("\0abc", 4), errc::parse_error, "byte 0x00");
  expect_fail("\xf0\x9f\x9a\x80\xf0\x9f\x9a\x80", errc::unsupported, "unsupported");  // base256emoji
}

TEST(Multibase, RejectsBadBase58) {
  expect_fail("z0", errc::parse_error, "base58btc: invalid character '0' at position 0");
  expect_fail("zStV1DL6CwTryKyO", errc::parse_error, "invalid character 'O'");
  expect_fail("zStV1DL6CwTryKyI", errc::parse_error, "invalid character 'I'");
  expect_fail("zStV1DlCwTryKyV", errc::parse_error, "invalid character 'l'");
  expect_fail("zStV1DL6Cw+ryKyV", errc::parse_error, "invalid character '+'");
  expect_fail("zStV1 DL6CwTryKyV", errc::parse_error, "invalid character byte 0x20");
  expect_fail("zStV1DL6CwTryKyV\n", errc::parse_error, "byte 0x0a");
  expect_fail("zStV1DL6CwTryKyV\xc3\xa9", errc::parse_error, "byte 0xc3");
  expect_fail("z" + std::string(multibase::kMaxBase58Chars + 1, '2'), errc::parse_error, "too long");
  EXPECT_TRUE(multibase::decode("z" + std::string(multibase::kMaxBase58Chars, '2')).ok());
}

TEST(Multibase, RejectsBadBase32) {
  expect_fail("bnbswy3dpeb3w64tmm1", errc::parse_error, "base32: invalid character '1'");
  expect_fail("bnbswy3dpeb3w64tmm8", errc::parse_error, "invalid character '8'");
  expect_fail("bnbswy3dpeb3w64tmmq=", errc::parse_error, "invalid character '='");  // no padding
  expect_fail("bnbswy3dpeb3w64tmmq======", errc::parse_error, "invalid");
  expect_fail("bnbsw-3dpeb3w64tmmq", errc::parse_error, "invalid character '-'");
  // Impossible lengths (mod 8 = 1, 3, 6).
  expect_fail("ba", errc::parse_error, "base32: invalid length 1");
  expect_fail("baaa", errc::parse_error, "invalid length 3");
  expect_fail("baaaaaa", errc::parse_error, "invalid length 6");
  expect_fail("baaaaaaaaa", errc::parse_error, "invalid length 9");
  // Non-zero trailing bits: "hello world" ends in 'q' (...10000); 'r' sets a padding bit.
  expect_fail("bnbswy3dpeb3w64tmmr", errc::parse_error, "non-zero trailing bits");
  expect_fail("bab", errc::parse_error, "non-zero trailing bits");
  expect_fail("BAB", errc::parse_error, "non-zero trailing bits");
  EXPECT_EQ(*multibase::decode("bae"), (Bytes{0x01}));
}

TEST(Multibase, Base32PaddedRawCodec) {
  EXPECT_EQ(multibase::base32_encode(as_bytes("yes mani !"), false, true), "pfsxgidnmfxgsibb");
  using namespace std::string_view_literals;
  EXPECT_EQ(multibase::base32_encode(as_bytes("\0yes mani !"sv), true, true), "AB4WK4ZANVQW42JAEE======");
  EXPECT_TRUE(multibase::base32_decode("AB4WK4ZANVQW42JAEE======", true).ok());
  EXPECT_FALSE(multibase::base32_decode("AB4WK4ZANVQW42JAEE======", false).ok());
  EXPECT_FALSE(multibase::base32_decode("AB4WK4ZANVQW42JAE=======", true).ok());  // 7 pads
  EXPECT_FALSE(multibase::base32_decode("AB4WK4ZANVQW42JAEE=====", true).ok());   // not a multiple of 8
}

TEST(Multibase, RejectsBadBase16) {
  expect_fail("f6", errc::parse_error, "base16: odd length 1");
  expect_fail("f68656c6c6f20776f726c6", errc::parse_error, "odd length");
  expect_fail("f6g", errc::parse_error, "invalid character 'g' at position 1");
  expect_fail("f6g65", errc::parse_error, "base16: invalid character 'g' at position 1");
  expect_fail("fx8", errc::parse_error, "invalid character 'x' at position 0");
  expect_fail("f 8", errc::parse_error, "byte 0x20");
  expect_fail("F68656C6C6F20776F726C6Z", errc::parse_error, "invalid character 'Z'");
}

TEST(Multibase, RejectsBadBase64) {
  expect_fail("maGVsbG8gd29ybGQ-", errc::parse_error, "base64: invalid character '-'");
  expect_fail("maGVs_bG8gd29ybGQ", errc::parse_error, "invalid character '_'");
  expect_fail("uaGVsbG8gd29ybGQ+", errc::parse_error, "base64url: invalid character '+'");
  expect_fail("uaGVs/bG8gd29ybGQ", errc::parse_error, "base64url: invalid character '/'");
  expect_fail("uaGVs=bG8gd29ybGQ", errc::parse_error, "invalid character '='");
  expect_fail("uA", errc::parse_error, "invalid length 1");
  expect_fail("uAAAAA", errc::parse_error, "invalid length 5");
  // Wrong padding.
  expect_fail("uaGVsbG8gd29ybGQ==", errc::parse_error, "invalid padding");
  expect_fail("ueWVzIG1hbmkgIQ=", errc::parse_error, "invalid padding");
  expect_fail("uAAA===", errc::parse_error, "invalid padding");
  expect_fail("u====", errc::parse_error, "invalid padding");
  expect_fail("u=", errc::parse_error, "invalid padding");
  expect_fail("uA===", errc::parse_error, "invalid padding");
  // The *pad bases require it.
  expect_fail("UaGVsbG8gd29ybGQ", errc::parse_error, "missing padding");
  expect_fail("MeWVzIG1hbmkgIQ", errc::parse_error, "missing padding");
  // Non-zero trailing bits.
  expect_fail("maGVsbG8gd29ybGR", errc::parse_error, "non-zero trailing bits");
  expect_fail("uAB", errc::parse_error, "non-zero trailing bits");
  expect_fail("UAB==", errc::parse_error, "non-zero trailing bits");
  EXPECT_EQ(*multibase::decode("uAA"), (Bytes{0x00}));
}
