#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

using Bytes = std::vector<std::uint8_t>;
using BytesView = std::span<const std::uint8_t>;
using MutableBytesView = std::span<std::uint8_t>;

inline BytesView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_string_view(BytesView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline void append(Bytes& out, BytesView b) { out.insert(out.end(), b.begin(), b.end()); }

std::string to_hex(BytesView b);

// IoBuffer: uninitialised heap storage for I/O, recycled through a small
// per-thread pool.
//
// Why: a connection needs large buffers (Noise frames are up to 64 KiB, and
// batching several per system call is what makes bulk transfer cheap), but
// only while bytes are in flight. Connections take a buffer when they have
// bytes to hold and give it back once it is empty, so an idle connection holds
// none (thousands of idle connections then fit in a few MiB), while a busy
// thread keeps reusing the same few warm buffers instead of paying for
// malloc, page faults and zero-filling on every use.
//
// The pool of a thread keeps at most kPoolBuffers buffers of at most
// kPoolMaxBufferSize bytes each; storage beyond that is freed. A buffer may be
// released on another thread than the one that took it.
class IoBuffer {
 public:
  static constexpr std::size_t kPoolBuffers = 8;
  static constexpr std::size_t kPoolMaxBufferSize = std::size_t{2} << 20;

  IoBuffer() noexcept = default;
  // `size` bytes, not zeroed; size 0 gives an empty buffer.
  explicit IoBuffer(std::size_t size);
  IoBuffer(IoBuffer&& other) noexcept;
  IoBuffer& operator=(IoBuffer&& other) noexcept;
  IoBuffer(const IoBuffer&) = delete;
  IoBuffer& operator=(const IoBuffer&) = delete;
  ~IoBuffer() { reset(); }

  std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  explicit operator bool() const noexcept { return size_ != 0; }
  MutableBytesView view() const noexcept { return {data_, size_}; }

  // Gives the storage back (to the calling thread's pool, or frees it).
  void reset() noexcept;

  // Buffers held by the calling thread's pool right now (for tests).
  static std::size_t pooled_on_this_thread() noexcept;

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// OutputBuffer: an append-only buffer of outgoing bytes on pooled storage.
// Unlike std::vector it never zero-fills the space it grows into: on a send
// path every byte is written exactly once, and a memset per megabyte would be
// pure overhead. Its storage is an IoBuffer of a power-of-two size, so
// release() when empty costs nothing on a busy thread and leaves an idle
// connection holding nothing; the next use starts at the largest size recent
// content needed (see release()), so a stream of large batches does not
// regrow (and copy) every time.
class OutputBuffer {
 public:
  static constexpr std::size_t kMinCapacity = 16 * 1024;
  // Batches in a row that needed at most half the start before it halves.
  static constexpr unsigned kShrinkAfter = 32;

  OutputBuffer() = default;
  OutputBuffer(OutputBuffer&&) noexcept = default;
  OutputBuffer& operator=(OutputBuffer&&) noexcept = default;

  // Returns a pointer to n writable bytes at the end (valid until the next call).
  std::uint8_t* extend(std::size_t n);
  void append(BytesView b);

  const std::uint8_t* data() const noexcept { return storage_.data(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return storage_.size(); }
  bool empty() const noexcept { return size_ == 0; }
  BytesView view() const noexcept { return {storage_.data(), size_}; }
  void clear() noexcept { size_ = 0; }
  // Drops the content and gives the storage back.
  void release() noexcept;
  void swap(OutputBuffer& other) noexcept;

 private:
  IoBuffer storage_;
  std::size_t size_ = 0;
  std::size_t next_capacity_ = kMinCapacity;
  unsigned small_batches_ = 0;
};

}  // namespace weft
