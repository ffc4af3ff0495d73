#include "capi/write_buffers.hpp"

#include <utility>

namespace weft::capi {

WriteBuffers& WriteBuffers::instance() {
  static WriteBuffers buffers;
  return buffers;
}

Bytes WriteBuffers::copy_of(const std::uint8_t* data, std::size_t len) {
  Bytes buffer = pool_.take();
  buffer.assign(data, data + len);
  return buffer;
}

void WriteBuffers::give_back(Bytes&& buffer) noexcept { pool_.give_back(std::move(buffer)); }

}  // namespace weft::capi
