// noise_handshake() over loopback TCP: weft to weft, early muxer
// negotiation, identity checks, and misbehaving remotes.
#include <gtest/gtest.h>

#include "crypto/keys.hpp"
#include "noise/handshake_state.hpp"
#include "noise/noise.hpp"
#include "noise/payload.hpp"
#include "noise_test_util.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft::test::read_frame;
using weft::test::spawn;
using weft::test::tcp_pair;
using weft::test::write_frame;

namespace {

using HandshakeResult = Result<SecureConnection>;

struct Handshakes {
  std::shared_ptr<std::optional<HandshakeResult>> initiator;
  std::shared_ptr<std::optional<HandshakeResult>> responder;
};

// Both ends of a handshake over a fresh TCP pair; run(io) completes them.
Handshakes start_pair(asio::io_context& io, const Identity& a, const Identity& b,
                      const PeerId* expected, const NoiseConfig& ca, const NoiseConfig& cb) {
  auto [dialer, listener] = tcp_pair(io);
  return {spawn(io, noise_handshake(std::move(dialer), a, true, expected, ca)),
          spawn(io, noise_handshake(std::move(listener), b, false, nullptr, cb))};
}

// A hand-made responder: a correct Noise XX state machine that sends
// whatever payload `make` builds from its static key, then waits for the end.
Task<void> fake_responder(std::unique_ptr<ByteChannel> raw,
                          std::function<Bytes(const noise::Key&)> make) {
  auto s = crypto::x25519_generate();
  noise::XXHandshake hs(false, s, {});
  auto m1 = co_await read_frame(*raw);
  EXPECT_TRUE(m1.ok());
  if (!m1) co_return;
  Bytes payload, m2;
  EXPECT_TRUE(hs.read_message(*m1, payload).ok());
  EXPECT_TRUE(hs.write_message(make(s.public_key), m2).ok());
  EXPECT_TRUE((co_await write_frame(*raw, m2)).ok());
  Bytes rest(1);
  (void)co_await raw->read_some(rest);  // the initiator gives up and aborts
}

Bytes signed_payload(const Identity& id, const noise::Key& static_pub) {
  noise::HandshakePayload p;
  p.identity_key = id.public_key().encode();
  Bytes msg(noise::kStaticKeySignaturePrefix.begin(), noise::kStaticKeySignaturePrefix.end());
  append(msg, static_pub);
  auto sig = id.sign(msg);
  p.identity_sig.assign(sig.begin(), sig.end());
  return p.encode();
}

HandshakeResult handshake_against(asio::io_context& io,
                                  std::function<Bytes(const noise::Key&)> make,
                                  const PeerId* expected = nullptr, NoiseConfig cfg = {}) {
  Identity me = Identity::generate();
  auto [dialer, listener] = tcp_pair(io);
  auto done = spawn(io, fake_responder(std::move(listener), std::move(make)));
  auto r = spawn(io, noise_handshake(std::move(dialer), me, true, expected, cfg));
  weft::test::run(io);
  EXPECT_TRUE(*done);
  if (!r->has_value()) return Error{errc::timed_out, "handshake did not complete"};
  return std::move(**r);
}

}  // namespace

TEST(NoiseHandshake, WeftToWeftAuthenticatesBothSides) {
  asio::io_context io;
  Identity a = Identity::generate();
  Identity b = Identity::generate();
  PeerId expected = b.peer_id();
  auto h = start_pair(io, a, b, &expected, {}, {});
  weft::test::run(io);
  ASSERT_TRUE(h.initiator->has_value() && h.responder->has_value());
  HandshakeResult& ri = **h.initiator;
  HandshakeResult& rr = **h.responder;
  ASSERT_TRUE(ri.ok()) << ri.error().message();
  ASSERT_TRUE(rr.ok()) << rr.error().message();
  EXPECT_EQ(ri->remote_peer, b.peer_id());
  EXPECT_EQ(ri->remote_key, b.public_key());
  EXPECT_EQ(rr->remote_peer, a.peer_id());
  EXPECT_EQ(rr->remote_key, a.public_key());
  EXPECT_EQ(ri->early_muxer, "");
  EXPECT_EQ(rr->early_muxer, "");
  ASSERT_NE(ri->channel, nullptr);
  ASSERT_NE(rr->channel, nullptr);

  // One message each way over the secured channels.
  auto exchange = [&]() -> Task<void> {
    EXPECT_TRUE((co_await ri->channel->write_all(as_bytes("ping"))).ok());
    Bytes buf(4);
    EXPECT_TRUE((co_await rr->channel->read_exact(buf)).ok());
    EXPECT_EQ(as_string_view(buf), "ping");
    EXPECT_TRUE((co_await rr->channel->write_all(as_bytes("pong"))).ok());
    EXPECT_TRUE((co_await ri->channel->read_exact(buf)).ok());
    EXPECT_EQ(as_string_view(buf), "pong");
  };
  auto done = spawn(io, exchange());
  weft::test::run(io);
  EXPECT_TRUE(*done);
}

TEST(NoiseHandshake, EarlyMuxerNegotiation) {
  struct Case {
    std::vector<std::string> initiator;
    std::vector<std::string> responder;
    std::string agreed;
  };
  const Case cases[] = {
      {{"/yamux/1.0.0"}, {"/yamux/1.0.0"}, "/yamux/1.0.0"},
      // The initiator's preference decides, whatever the responder's order.
      {{"/yamux/1.0.0", "/mplex/6.7.0"}, {"/mplex/6.7.0", "/yamux/1.0.0"}, "/yamux/1.0.0"},
      {{"/mplex/6.7.0", "/yamux/1.0.0"}, {"/yamux/1.0.0", "/mplex/6.7.0"}, "/mplex/6.7.0"},
      {{"/a", "/b", "/c"}, {"/c", "/b"}, "/b"},
      {{"/yamux/1.0.0"}, {"/mplex/6.7.0"}, ""},
      {{}, {"/yamux/1.0.0"}, ""},
      {{"/yamux/1.0.0"}, {}, ""},
      {{}, {}, ""},
  };
  for (const Case& c : cases) {
    asio::io_context io;
    Identity a = Identity::generate();
    Identity b = Identity::generate();
    NoiseConfig ca{c.initiator};
    NoiseConfig cb{c.responder};
    auto h = start_pair(io, a, b, nullptr, ca, cb);
    weft::test::run(io);
    ASSERT_TRUE(h.initiator->has_value() && h.responder->has_value());
    ASSERT_TRUE((*h.initiator)->ok());
    ASSERT_TRUE((*h.responder)->ok());
    EXPECT_EQ((**h.initiator)->early_muxer, c.agreed);
    EXPECT_EQ((**h.responder)->early_muxer, c.agreed);
  }
}

TEST(NoiseHandshake, PeerIdMismatch) {
  asio::io_context io;
  Identity a = Identity::generate();
  Identity b = Identity::generate();
  Identity someone_else = Identity::generate();
  PeerId expected = someone_else.peer_id();
  auto h = start_pair(io, a, b, &expected, {}, {});
  weft::test::run(io);
  ASSERT_TRUE(h.initiator->has_value() && h.responder->has_value());
  const HandshakeResult& ri = **h.initiator;
  ASSERT_EQ(ri.code(), errc::peer_id_mismatch);
  EXPECT_NE(ri.error().detail.find(expected.to_string()), std::string::npos) << ri.error().detail;
  EXPECT_NE(ri.error().detail.find(b.peer_id().to_string()), std::string::npos);
  // The responder never gets message 3: the initiator aborted the connection.
  EXPECT_FALSE((*h.responder)->ok());
}

TEST(NoiseHandshake, GarbagePayloadIsAParseError) {
  asio::io_context io;
  auto r = handshake_against(io, [](const noise::Key&) { return Bytes{0xff, 0xff, 0xff}; });
  EXPECT_EQ(r.code(), errc::parse_error) << (r.ok() ? "" : r.error().message());
}

TEST(NoiseHandshake, MissingSignatureIsAParseError) {
  asio::io_context io;
  Identity remote = Identity::generate();
  auto r = handshake_against(io, [&](const noise::Key&) {
    noise::HandshakePayload p;
    p.identity_key = remote.public_key().encode();
    return p.encode();
  });
  EXPECT_EQ(r.code(), errc::parse_error);
}

TEST(NoiseHandshake, SignatureOverAnotherStaticKeyIsACryptoError) {
  asio::io_context io;
  Identity remote = Identity::generate();
  auto r = handshake_against(io, [&](const noise::Key& s) {
    noise::Key other = s;
    other[0] ^= 1;
    return signed_payload(remote, other);
  });
  ASSERT_EQ(r.code(), errc::crypto_error);
  EXPECT_NE(r.error().detail.find("signature"), std::string::npos) << r.error().detail;
}

TEST(NoiseHandshake, BadSignatureIsRejectedAndNotRememberedWithACache) {
  asio::io_context io;
  Identity remote = Identity::generate();
  NoiseConfig cfg;
  cfg.verified_signatures = std::make_shared<noise::VerifiedSignatures>();
  for (int i = 0; i < 2; ++i) {
    auto r = handshake_against(
        io,
        [&](const noise::Key& s) {
          noise::Key other = s;
          other[0] ^= 1;
          return signed_payload(remote, other);
        },
        nullptr, cfg);
    ASSERT_EQ(r.code(), errc::crypto_error);
  }
  EXPECT_EQ(cfg.verified_signatures->size(), 0u);
}

// Nodes keep one static key per identity, so a second connection between the
// same two nodes presents the same signed key: with a memory of verified
// signatures, it is found there (the memory does not grow), and the
// handshake still authenticates both sides.
TEST(NoiseHandshake, RepeatedHandshakesReuseTheStaticKeyAndTheVerifiedSignature) {
  asio::io_context io;
  Identity a = Identity::generate();
  Identity b = Identity::generate();
  NoiseConfig ca, cb;
  ca.verified_signatures = std::make_shared<noise::VerifiedSignatures>();
  cb.verified_signatures = std::make_shared<noise::VerifiedSignatures>();
  for (int i = 0; i < 3; ++i) {
    PeerId expected = b.peer_id();
    auto h = start_pair(io, a, b, &expected, ca, cb);
    weft::test::run(io);
    ASSERT_TRUE(h.initiator->has_value() && h.responder->has_value());
    ASSERT_TRUE((*h.initiator)->ok()) << (*h.initiator)->error().message();
    ASSERT_TRUE((*h.responder)->ok()) << (*h.responder)->error().message();
    EXPECT_EQ((**h.initiator)->remote_peer, b.peer_id());
    EXPECT_EQ((**h.responder)->remote_peer, a.peer_id());
    EXPECT_EQ(ca.verified_signatures->size(), 1u);
    EXPECT_EQ(cb.verified_signatures->size(), 1u);
  }
  // A third identity is verified and remembered separately.
  Identity c = Identity::generate();
  auto h = start_pair(io, c, b, nullptr, {}, cb);
  weft::test::run(io);
  ASSERT_TRUE((*h.responder)->ok());
  EXPECT_EQ(cb.verified_signatures->size(), 2u);
}

TEST(VerifiedSignatures, RemembersExactTriplesUpToItsCapacity) {
  const Bytes key1 = {1, 2, 3}, key2 = {1, 2}, st = {4, 5}, sig = {6};
  noise::VerifiedSignatures v(2);
  EXPECT_FALSE(v.contains(key1, st, sig));
  v.insert(key1, st, sig);
  EXPECT_TRUE(v.contains(key1, st, sig));
  // The same bytes split differently are another triple.
  const Bytes st2 = {3, 4, 5};
  EXPECT_FALSE(v.contains(key2, st2, sig));
  v.insert(key1, st, sig);  // again: no duplicate
  EXPECT_EQ(v.size(), 1u);
  v.insert(key2, st2, sig);
  v.insert(key2, st, sig);  // over capacity: the oldest goes
  EXPECT_EQ(v.size(), 2u);
  EXPECT_FALSE(v.contains(key1, st, sig));
  EXPECT_TRUE(v.contains(key2, st2, sig));
  EXPECT_TRUE(v.contains(key2, st, sig));

  noise::VerifiedSignatures off(0);
  off.insert(key1, st, sig);
  EXPECT_FALSE(off.contains(key1, st, sig));
  EXPECT_EQ(off.size(), 0u);
}

TEST(NoiseHandshake, KeyOfAnotherIdentityIsACryptoError) {
  asio::io_context io;
  Identity remote = Identity::generate();
  Identity impostor = Identity::generate();
  auto r = handshake_against(io, [&](const noise::Key& s) {
    auto payload = noise::HandshakePayload::decode(signed_payload(impostor, s));
    payload->identity_key = remote.public_key().encode();  // claims remote, signed by impostor
    return payload->encode();
  });
  EXPECT_EQ(r.code(), errc::crypto_error);
}

TEST(NoiseHandshake, UnsupportedRemoteKeyType) {
  asio::io_context io;
  auto r = handshake_against(io, [](const noise::Key&) {
    noise::HandshakePayload p;
    p.identity_key = PublicKey(KeyType::secp256k1, Bytes(33, 2)).encode();
    p.identity_sig = Bytes(70, 1);
    return p.encode();
  });
  ASSERT_EQ(r.code(), errc::unsupported);
  EXPECT_NE(r.error().detail.find("Secp256k1"), std::string::npos) << r.error().detail;
}

TEST(NoiseHandshake, MalformedRemoteKey) {
  asio::io_context io;
  auto r = handshake_against(io, [](const noise::Key&) {
    noise::HandshakePayload p;
    p.identity_key = PublicKey(KeyType::ed25519, Bytes(31, 2)).encode();
    p.identity_sig = Bytes(64, 1);
    return p.encode();
  });
  EXPECT_EQ(r.code(), errc::parse_error);
}

TEST(NoiseHandshake, ValidHandMadePeerIsAccepted) {
  // The fake responder itself is sound: with a proper payload the initiator
  // completes (and then gets no message 3 answer, which is fine).
  asio::io_context io;
  Identity remote = Identity::generate();
  PeerId expected = remote.peer_id();
  auto r = handshake_against(io, [&](const noise::Key& s) { return signed_payload(remote, s); },
                             &expected);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->remote_peer, expected);
  r->channel->abort();
}

TEST(NoiseHandshake, OversizedPayloadIsRefusedBeforeReading) {
  asio::io_context io;
  Identity remote = Identity::generate();
  auto r = handshake_against(io, [&](const noise::Key& s) {
    auto p = noise::HandshakePayload::decode(signed_payload(remote, s));
    p->stream_muxers.assign(100, std::string(100, 'm'));  // ~10 KB > 8192
    return p->encode();
  });
  ASSERT_EQ(r.code(), errc::limit_exceeded);
  EXPECT_NE(r.error().detail.find("8192"), std::string::npos) << r.error().detail;
}

TEST(NoiseHandshake, ResponderRejectsOversizedAndShortFirstMessages) {
  struct Case {
    Bytes header_and_body;
    errc expected;
  };
  std::vector<Case> cases;
  cases.push_back({Bytes{0xff, 0xff}, errc::limit_exceeded});  // 65535 bytes announced
  {
    Bytes short_msg{0x00, 0x10};
    short_msg.resize(2 + 16, 7);
    cases.push_back({short_msg, errc::protocol_error});  // shorter than e
  }
  {
    Bytes truncated{0x00, 0x20};
    truncated.resize(2 + 10, 7);  // 10 of 32 bytes, then the dialler closes
    cases.push_back({truncated, errc::eof});
  }
  cases.push_back({Bytes{0x00}, errc::eof});  // half a length prefix
  cases.push_back({Bytes{}, errc::eof});      // nothing at all
  for (const Case& c : cases) {
    asio::io_context io;
    Identity b = Identity::generate();
    auto [dialer, listener] = tcp_pair(io);
    auto r = spawn(io, noise_handshake(std::move(listener), b, false, nullptr, NoiseConfig{}));
    auto peer = [&, raw = std::move(dialer)]() mutable -> Task<void> {
      if (!c.header_and_body.empty())
        EXPECT_TRUE((co_await raw->write_all(c.header_and_body)).ok());
      EXPECT_TRUE((co_await raw->close_write()).ok());
      Bytes rest(1);
      (void)co_await raw->read_some(rest);
    };
    auto done = spawn(io, peer());
    weft::test::run(io);
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->code(), c.expected) << to_hex(c.header_and_body) << " "
                                        << ((*r)->ok() ? "" : (*r)->error().message());
  }
}

TEST(NoiseHandshake, RemoteClosingMidHandshakeFails) {
  // The responder reads message 1, then closes (cleanly, or with a reset).
  for (bool reset : {false, true}) {
    asio::io_context io;
    Identity a = Identity::generate();
    auto [dialer, listener] = tcp_pair(io);
    auto r = spawn(io, noise_handshake(std::move(dialer), a, true, nullptr, NoiseConfig{}));
    auto peer = [&, raw = std::move(listener)]() mutable -> Task<void> {
      auto m1 = co_await read_frame(*raw);
      EXPECT_TRUE(m1.ok());
      if (reset) {
        raw->abort();
      } else {
        EXPECT_TRUE((co_await raw->close_write()).ok());
        Bytes rest(1);
        (void)co_await raw->read_some(rest);
      }
    };
    auto done = spawn(io, peer());
    weft::test::run(io);
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->code(), reset ? errc::reset : errc::eof)
        << ((*r)->ok() ? "" : (*r)->error().message());
  }
}

TEST(NoiseHandshake, TamperedHandshakeMessages) {
  // A man in the middle flips one byte of message 2 (to the initiator) or of
  // message 3 (to the responder): the receiving side fails with crypto_error.
  for (bool tamper_msg3 : {false, true}) {
    asio::io_context io;
    Identity a = Identity::generate();
    Identity b = Identity::generate();
    auto [dialer, listener] = tcp_pair(io);
    auto proxy_owner = std::make_unique<weft::test::ProxyChannel>(
        tamper_msg3 ? std::move(dialer) : std::move(listener));
    auto* proxy = proxy_owner.get();
    int writes = 0;
    proxy->on_write = [&](Bytes& b) {
      // Message 2 is the responder's first write; message 3 the initiator's second.
      if (++writes == (tamper_msg3 ? 2 : 1)) b[b.size() / 2] ^= 0x04;
    };
    std::unique_ptr<ByteChannel> ini = tamper_msg3 ? std::move(proxy_owner) : std::move(dialer);
    std::unique_ptr<ByteChannel> res = tamper_msg3 ? std::move(listener) : std::move(proxy_owner);
    auto ri = spawn(io, noise_handshake(std::move(ini), a, true, nullptr, NoiseConfig{}));
    auto rr = spawn(io, noise_handshake(std::move(res), b, false, nullptr, NoiseConfig{}));
    weft::test::run(io);
    ASSERT_TRUE(ri->has_value() && rr->has_value());
    const HandshakeResult& victim = tamper_msg3 ? **rr : **ri;
    EXPECT_EQ(victim.code(), errc::crypto_error)
        << (victim.ok() ? "" : victim.error().message());
    if (!tamper_msg3) EXPECT_FALSE((*rr)->ok());  // the initiator gave up: no message 3
  }
}

TEST(NoiseHandshake, CancellationEndsAHandshakeWithASilentPeer) {
  asio::io_context io;
  Identity a = Identity::generate();
  auto [dialer, listener] = tcp_pair(io);
  auto body = [&, raw = std::move(dialer)]() mutable -> Task<Result<SecureConnection>> {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
    auto v = co_await (noise_handshake(std::move(raw), a, true, nullptr, NoiseConfig{}) ||
                       timer.async_wait(asio::use_awaitable));
    if (v.index() == 1) co_return Error{errc::timed_out, "deadline"};
    co_return std::move(std::get<0>(v));
  };
  auto r = spawn(io, body());
  weft::test::run(io, 10s);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->code(), errc::timed_out);
  // The listener side observes the aborted connection.
  auto check = [&]() -> Task<void> {
    auto m1 = co_await read_frame(*listener);
    EXPECT_TRUE(m1.ok());  // message 1 was sent before the deadline
    Bytes rest(1);
    auto n = co_await listener->read_some(rest);
    EXPECT_FALSE(n.ok());
  };
  auto done = spawn(io, check());
  weft::test::run(io, 10s);
  EXPECT_TRUE(*done);
}
