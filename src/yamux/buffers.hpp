// The receive buffer of a Yamux stream. (Outgoing frames are staged on the
// connection itself: ByteChannel::stage.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/bytes.hpp"

namespace weft::yamux {

// FIFO byte ring for a stream's received, not yet read, bytes. It grows
// (doubling, at most to max_capacity unless a single write needs more) and is
// bounded by the stream's receive window, which the caller enforces.
class RingBuffer {
 public:
  RingBuffer() = default;
  RingBuffer(const RingBuffer&) = delete;
  RingBuffer& operator=(const RingBuffer&) = delete;

  void write(BytesView b, std::size_t max_capacity);
  // Copies up to out.size() bytes out; returns how many.
  std::size_t read(MutableBytesView out) noexcept;
  // Moves up to `max` bytes to the end of `out`, which grows without being
  // zero-filled first; returns how many.
  std::size_t read_append(Bytes& out, std::size_t max);

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  // Drops the content and frees the storage.
  void release() noexcept;

 private:
  void grow(std::size_t needed, std::size_t max_capacity);
  void consume(std::size_t n) noexcept;

  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;  // index of the oldest byte
  std::size_t size_ = 0;
};

}  // namespace weft::yamux
