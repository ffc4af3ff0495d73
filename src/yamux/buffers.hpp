// The receive buffer of a Yamux stream. (Outgoing frames are staged on the
// connection itself: ByteChannel::stage.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/bytes.hpp"

namespace weft::yamux {

// FIFO of a stream's received, not yet read, bytes, bounded by the stream's
// receive window (which the caller enforces).
//
// Kept in chunks rather than one ring, so that a reader that keeps what it
// reads (read_bytes: the C API hands the buffer to the application) can take
// a chunk as it is instead of copying it: on a bulk download that copy was a
// quarter of the receiving client's CPU time. A chunk is sized for the data
// frame it starts (at least kMinChunk, at most kMaxChunk bytes), so a frame
// that arrives in pieces lands in one chunk; every chunk but the newest is
// full, so tiny frames share chunks and the overhead stays a few percent.
// Chunks of more than kMaxChunk / 4 bytes all get kMaxChunk of storage, and
// these are recycled (see recycle()). An emptied queue holds no storage.
class ReceiveQueue {
 public:
  static constexpr std::size_t kMinChunk = 4 * 1024;
  static constexpr std::size_t kMaxChunk = 256 * 1024;

  ReceiveQueue() = default;
  ReceiveQueue(const ReceiveQueue&) = delete;
  ReceiveQueue& operator=(const ReceiveQueue&) = delete;

  // Appends `b`. `expected`: bytes known to follow it (the rest of the data
  // frame), to size a new chunk for the whole frame.
  void write(BytesView b, std::size_t expected = 0);
  // Copies up to out.size() bytes out; returns how many.
  std::size_t read(MutableBytesView out) noexcept;
  // Removes between 1 and `max` bytes (none if empty) and returns them in a
  // buffer of their own: the oldest chunk itself when nothing of it was read
  // yet, it holds at most `max` bytes and fills a quarter of its storage or
  // more; else a copy.
  Bytes take(std::size_t max);
  // Removes between 1 and `max` bytes (none if empty) of the oldest chunk
  // and returns a view of them that `holder` keeps valid: the chunk itself,
  // moved into `holder`, when every byte left in it is taken (no copy); else
  // a copy. What `holder` held before is dropped: recycle it first.
  BytesView take_view(std::size_t max, Bytes& holder);

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  // Chunks held (for tests).
  std::size_t chunks() const noexcept { return chunks_.size() - first_; }
  // Drops the content and frees the storage.
  void release() noexcept;

  // Takes back a buffer that take() returned, once its bytes are used (the
  // C API does so when the application frees the event). Large chunks are
  // kept for reuse, at most kRecycledChunks process-wide (8 MiB): fresh
  // storage for every chunk of a bulk transfer costs a page fault and a
  // zero-filled page per 4 KiB, more than the copy the chunks avoid. Fewer
  // kept chunks measured worse: a download's queue often holds 16 or more
  // at once (the receive window grows to 16 MiB).
  static void recycle(Bytes&& chunk) noexcept;
  static constexpr std::size_t kRecycledChunks = 32;

 private:
  static Bytes new_chunk(std::size_t want);
  // Removes n bytes (at most what the oldest chunk has left).
  void consume(std::size_t n) noexcept;
  void pop_front() noexcept;

  std::vector<Bytes> chunks_;  // live from index first_ on
  std::size_t first_ = 0;
  std::size_t offset_ = 0;  // bytes of chunks_[first_] already read
  std::size_t size_ = 0;
};

}  // namespace weft::yamux
