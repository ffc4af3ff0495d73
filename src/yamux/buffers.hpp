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
//
// A writer that produces the bytes itself (the session's reader, which has
// Noise decrypt a frame's payload straight into the queue) asks for room
// with prepare() and adds what it wrote with commit(), sparing the copy
// write() makes. It may need room for a whole Noise frame, and leave less
// than that (64 KiB) unused at the end of a chunk for it.
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
  // Room for up to `want` (> 0) more bytes at the end of the queue, for the
  // caller to fill and then add with commit(): the newest chunk's free
  // space, or a new chunk sized as write() would size it for `want` bytes
  // when that has less than min(want, at_least) (what it has then stays
  // unused). Valid until the queue is next changed.
  MutableBytesView prepare(std::size_t want, std::size_t at_least = 1);
  // Adds the first n bytes of the room prepare() returned. commit(0) gives
  // back a chunk that prepare() added, so an unused one holds no storage.
  void commit(std::size_t n) noexcept;
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
  // a copy. What `holder` held before is dropped: recycle it first. Only
  // the view says which of the holder's bytes are the data.
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
  struct Chunk {
    // Its size is how much of it was ever written (and so initialised);
    // recycled chunks keep theirs, so filling them in place again costs no
    // zero-filling.
    Bytes storage;
    std::size_t end = 0;  // [0, end) is queued data
  };
  static Bytes new_chunk(std::size_t want);
  // Copies b, which fits, to the end of `c`.
  static void append(Chunk& c, BytesView b);
  // Removes n bytes (at most what the oldest chunk has left).
  void consume(std::size_t n) noexcept;
  void pop_front() noexcept;
  // Hands out the oldest chunk's storage: trimmed to its data, or as it is
  // (all of it initialised, for reuse without zero-filling).
  Bytes release_front(bool trim) noexcept;

  std::vector<Chunk> chunks_;  // live from index first_ on
  std::size_t first_ = 0;
  std::size_t offset_ = 0;  // bytes of chunks_[first_] already read
  std::size_t size_ = 0;
};

}  // namespace weft::yamux
