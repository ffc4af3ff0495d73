#include "core/bytes_pool.hpp"

#include <utility>

namespace weft {

BytesPool::BytesPool(std::size_t max_kept, std::size_t max_kept_bytes)
    : max_kept_(max_kept), max_kept_bytes_(max_kept_bytes) {
  kept_.reserve(max_kept_);
}

Bytes BytesPool::take() {
  Bytes buffer;
  std::lock_guard lock(mu_);
  if (!kept_.empty()) {
    buffer = std::move(kept_.back());
    kept_.pop_back();
    kept_bytes_ -= buffer.capacity();
  }
  return buffer;
}

void BytesPool::give_back(Bytes&& buffer) noexcept {
  Bytes dropped;  // freed outside the lock
  std::lock_guard lock(mu_);
  if (kept_.size() < max_kept_ && kept_bytes_ + buffer.capacity() <= max_kept_bytes_) {
    kept_bytes_ += buffer.capacity();
    kept_.push_back(std::move(buffer));  // within the reserved capacity: no allocation
    return;
  }
  dropped = std::move(buffer);
}

}  // namespace weft
