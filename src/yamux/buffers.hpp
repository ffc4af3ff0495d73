// The two byte buffers of the Yamux data path. Both keep their storage
// between uses, so steady-state traffic allocates nothing per frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/bytes.hpp"

namespace weft::yamux {

// Append-only buffer of outgoing frames. Unlike std::vector it never
// zero-fills the space it grows into: on the send path every byte is written
// exactly once (header encode + payload copy), and a memset per megabyte
// would be pure overhead.
class FrameBuffer {
 public:
  FrameBuffer() = default;
  FrameBuffer(const FrameBuffer&) = delete;
  FrameBuffer& operator=(const FrameBuffer&) = delete;
  FrameBuffer(FrameBuffer&&) noexcept = default;
  FrameBuffer& operator=(FrameBuffer&&) noexcept = default;

  // Returns a pointer to n writable bytes at the end (valid until the next call).
  std::uint8_t* extend(std::size_t n);
  void append(BytesView b);

  const std::uint8_t* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  BytesView view() const noexcept { return {data_.get(), size_}; }
  void clear() noexcept { size_ = 0; }
  void swap(FrameBuffer& other) noexcept;

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

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

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  // Drops the content and frees the storage.
  void release() noexcept;

 private:
  void grow(std::size_t needed, std::size_t max_capacity);

  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;  // index of the oldest byte
  std::size_t size_ = 0;
};

}  // namespace weft::yamux
