#include "noise/ephemeral_keys.hpp"

namespace weft::noise {

crypto::X25519KeyPair EphemeralKeys::take() {
  {
    std::lock_guard lock(mu_);
    if (!spares_.empty()) {
      crypto::X25519KeyPair pair = spares_.back();
      spares_.pop_back();
      return pair;
    }
  }
  return crypto::x25519_generate();
}

void EphemeralKeys::replenish() {
  {
    std::lock_guard lock(mu_);
    if (spares_.size() >= capacity_) return;
  }
  // Generated outside the lock, the slow part; a pair made while another
  // thread filled the last place is dropped.
  crypto::X25519KeyPair pair = crypto::x25519_generate();
  std::lock_guard lock(mu_);
  if (spares_.size() < capacity_) spares_.push_back(pair);
}

std::size_t EphemeralKeys::spares() const {
  std::lock_guard lock(mu_);
  return spares_.size();
}

}  // namespace weft::noise
