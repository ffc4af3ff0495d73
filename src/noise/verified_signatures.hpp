// VerifiedSignatures: a bounded, thread-safe memory of handshake signatures
// that were verified and found valid.
//
// Why: verifying the remote's Ed25519 signature over its Noise static key is
// the most expensive step of a Noise handshake (about as much as the three
// Diffie-Hellman operations together). libp2p nodes keep one static key for
// their lifetime (weft, go-libp2p and js-libp2p all do), so every connection
// from the same node presents the very same (identity key, static key,
// signature) bytes. Remembering the triples that verified lets those
// connections skip the repeated verification. This changes nothing about
// what is accepted: an entry matches only byte-identical input whose
// verification already succeeded, and the handshake still proves that the
// remote holds the static private key through its Diffie-Hellman operations.
// Failed verifications are never remembered.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>

#include "core/bytes.hpp"

namespace weft::noise {

class VerifiedSignatures {
 public:
  static constexpr std::size_t kDefaultCapacity = 1024;

  // At most `capacity` entries (0: nothing is remembered); the oldest go first.
  explicit VerifiedSignatures(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  bool contains(BytesView identity_key, BytesView static_key, BytesView signature) const;
  void insert(BytesView identity_key, BytesView static_key, BytesView signature);
  std::size_t size() const;

 private:
  static std::string make_key(BytesView identity_key, BytesView static_key, BytesView signature);

  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> entries_;
  std::deque<std::string> order_;  // insertion order, for eviction
};

}  // namespace weft::noise
