// EphemeralKeys: spare Noise ephemeral keys are handed out once each, and a
// handshake that takes one makes the next.
#include <gtest/gtest.h>

#include <set>

#include "crypto/keys.hpp"
#include "noise/ephemeral_keys.hpp"
#include "noise/noise.hpp"
#include "noise_test_util.hpp"

using namespace weft;
using weft::test::ProxyChannel;
using weft::test::spawn;
using weft::test::tcp_pair;

namespace {

bool is_valid_pair(const crypto::X25519KeyPair& pair) {
  return crypto::x25519_from_private(pair.private_key).public_key == pair.public_key;
}

}  // namespace

TEST(EphemeralKeys, TakeFromAnEmptyStoreGeneratesAFreshPair) {
  noise::EphemeralKeys keys(2);
  const auto a = keys.take();
  const auto b = keys.take();
  EXPECT_TRUE(is_valid_pair(a));
  EXPECT_TRUE(is_valid_pair(b));
  EXPECT_NE(a.private_key, b.private_key);
  EXPECT_EQ(keys.spares(), 0u);
}

TEST(EphemeralKeys, SparesAreBoundedAndHandedOutOnceEach) {
  noise::EphemeralKeys keys(3);
  for (int i = 0; i < 10; ++i) keys.replenish();
  EXPECT_EQ(keys.spares(), 3u);
  std::set<std::array<std::uint8_t, 32>> seen;
  for (int i = 0; i < 3; ++i) {
    const auto pair = keys.take();
    EXPECT_TRUE(is_valid_pair(pair));
    EXPECT_TRUE(seen.insert(pair.private_key).second) << "a spare was handed out twice";
  }
  EXPECT_EQ(keys.spares(), 0u);
  EXPECT_TRUE(seen.insert(keys.take().private_key).second);  // generated, not a spare again

  noise::EphemeralKeys none(0);
  none.replenish();
  EXPECT_EQ(none.spares(), 0u);
}

// Handshakes sharing one store: each initiator sends an ephemeral key no
// other handshake used, and each handshake leaves a spare behind for the
// next one.
TEST(EphemeralKeys, HandshakesUseEachKeyOnceAndReplenish) {
  asio::io_context io;
  Identity a = Identity::generate();
  Identity b = Identity::generate();
  auto store = std::make_shared<noise::EphemeralKeys>(4);
  NoiseConfig cfg;
  cfg.ephemeral_keys = store;
  std::set<Bytes> sent_ephemerals;
  for (int round = 0; round < 6; ++round) {
    auto [dialer, listener] = tcp_pair(io);
    auto spy = std::make_unique<ProxyChannel>(std::move(dialer));
    Bytes first_write;
    spy->on_write = [&first_write](Bytes& data) {
      if (first_write.empty()) first_write = data;
    };
    const PeerId expected = b.peer_id();
    auto initiator = spawn(io, noise_handshake(std::move(spy), a, true, &expected, cfg));
    auto responder = spawn(io, noise_handshake(std::move(listener), b, false, nullptr, cfg));
    weft::test::run(io);
    ASSERT_TRUE(initiator->has_value() && (*initiator)->ok()) << "round " << round;
    ASSERT_TRUE(responder->has_value() && (*responder)->ok()) << "round " << round;
    // Message 1 is the 2-byte length and the initiator's ephemeral public key.
    ASSERT_EQ(first_write.size(), 2u + 32u);
    EXPECT_TRUE(sent_ephemerals.insert(Bytes(first_write.begin() + 2, first_write.end())).second)
        << "round " << round << " reused an ephemeral key";
    // Both sides took one and made one; the first round started empty.
    EXPECT_GE(store->spares(), 1u) << "round " << round;
  }
}
