// EphemeralKeys: Noise ephemeral key pairs made ahead of the handshakes that
// use them, a few spares per node.
//
// Why: an X25519 key pair costs a scalar multiplication (about as much as a
// Diffie-Hellman operation), and each side needs its ephemeral key before it
// can write its first handshake message, on the connection's critical path.
// A handshake takes a spare there and makes the next one right after the
// message is sent, while it waits for the remote's reply and its thread
// would be idle anyway. The total work is unchanged; only its place moves.
//
// Every key pair is handed out at most once and forgotten by the store, so
// every session still gets an ephemeral key of its own. Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "crypto/crypto.hpp"

namespace weft::noise {

class EphemeralKeys {
 public:
  static constexpr std::size_t kDefaultCapacity = 4;

  // At most `capacity` spares (0: every take() generates).
  explicit EphemeralKeys(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // A spare, removed from the store, or a newly generated pair if none is left.
  crypto::X25519KeyPair take();
  // Generates one spare unless the store is full. Call it when the thread
  // would otherwise wait.
  void replenish();
  std::size_t spares() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::vector<crypto::X25519KeyPair> spares_;
};

}  // namespace weft::noise
