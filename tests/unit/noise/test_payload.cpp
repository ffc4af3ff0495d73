// The Noise handshake payload codec.
#include <gtest/gtest.h>

#include "core/protobuf.hpp"
#include "noise/payload.hpp"

using namespace weft;
using namespace weft::noise;

TEST(NoisePayload, RoundTrip) {
  HandshakePayload p;
  p.identity_key = Bytes{8, 1, 18, 2, 3, 4};
  p.identity_sig = Bytes(64, 0xab);
  p.stream_muxers = {"/yamux/1.0.0", "/mplex/6.7.0"};
  p.webtransport_certhashes = {Bytes{1, 2, 3}};
  auto back = HandshakePayload::decode(p.encode());
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->identity_key, p.identity_key);
  EXPECT_EQ(back->identity_sig, p.identity_sig);
  EXPECT_EQ(back->stream_muxers, p.stream_muxers);
  EXPECT_EQ(back->webtransport_certhashes, p.webtransport_certhashes);
}

TEST(NoisePayload, NoExtensionsMeansNoField4) {
  HandshakePayload p;
  p.identity_key = Bytes{1};
  p.identity_sig = Bytes{2};
  EXPECT_EQ(p.encode(), (Bytes{0x0a, 1, 1, 0x12, 1, 2}));
}

TEST(NoisePayload, UnknownAndLegacyFieldsAreIgnored) {
  pb::Writer w;
  w.bytes_field(1, Bytes{1});
  w.bytes_field(3, Bytes{9, 9, 9});  // legacy early data
  w.varint_field(7, 42);
  w.bytes_field(2, Bytes{2});
  pb::Writer ext;
  ext.string_field(2, "/yamux/1.0.0");
  ext.varint_field(9, 1);
  w.bytes_field(4, ext.bytes());
  pb::Writer ext2;  // a second extensions message merges into the first
  ext2.string_field(2, "/mplex/6.7.0");
  w.bytes_field(4, ext2.bytes());
  auto p = HandshakePayload::decode(w.bytes());
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->stream_muxers, (std::vector<std::string>{"/yamux/1.0.0", "/mplex/6.7.0"}));
}

TEST(NoisePayload, MalformedInputIsAParseError) {
  auto good_prefix = [] {
    pb::Writer w;
    w.bytes_field(1, Bytes{1});
    w.bytes_field(2, Bytes{2});
    return std::move(w).take();
  };
  std::vector<Bytes> cases;
  cases.push_back({});                                     // empty: no key, no sig
  cases.push_back({0x0a, 0x01, 0x01});                     // no sig
  cases.push_back({0x12, 0x01, 0x01});                     // no key
  cases.push_back({0x08, 0x01, 0x12, 0x01, 0x01});         // key as varint
  cases.push_back({0x0a, 0x01, 0x01, 0x10, 0x01});         // sig as varint
  cases.push_back({0x0a, 0x05, 0x01});                     // truncated key
  {
    Bytes b = good_prefix();
    b.insert(b.end(), {0x20, 0x01});  // extensions as varint
    cases.push_back(b);
  }
  {
    Bytes b = good_prefix();
    b.insert(b.end(), {0x22, 0x02, 0x10, 0x01});  // stream_muxers as varint
    cases.push_back(b);
  }
  {
    Bytes b = good_prefix();
    b.insert(b.end(), {0x22, 0x02, 0x12, 0x05});  // truncated muxer inside extensions
    cases.push_back(b);
  }
  {
    Bytes b = good_prefix();
    b.insert(b.end(), {0x22, 0x01, 0x0b});  // group wire type inside extensions
    cases.push_back(b);
  }
  for (const Bytes& c : cases) {
    auto p = HandshakePayload::decode(c);
    EXPECT_EQ(p.code(), errc::parse_error) << to_hex(c);
    if (!p.ok()) EXPECT_NE(p.error().detail.find("noise handshake payload"), std::string::npos);
  }
}
