#include "capi/write_buffers.hpp"

#include <utility>

namespace weft::capi {

WriteBuffers& WriteBuffers::instance() {
  static WriteBuffers buffers;
  return buffers;
}

Bytes WriteBuffers::copy_of(const std::uint8_t* data, std::size_t len) {
  Bytes buffer;
  {
    std::lock_guard lock(mu_);
    if (!kept_.empty()) {
      buffer = std::move(kept_.back());
      kept_.pop_back();
      kept_bytes_ -= buffer.capacity();
    }
  }
  buffer.assign(data, data + len);
  return buffer;
}

void WriteBuffers::give_back(Bytes&& buffer) noexcept {
  Bytes dropped;  // freed outside the lock
  {
    std::lock_guard lock(mu_);
    if (kept_.size() < kMaxKept && kept_bytes_ + buffer.capacity() <= kMaxKeptBytes) {
      kept_bytes_ += buffer.capacity();
      kept_.push_back(std::move(buffer));
      return;
    }
    dropped = std::move(buffer);
  }
}

}  // namespace weft::capi
