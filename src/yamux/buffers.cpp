#include "yamux/buffers.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/bytes_pool.hpp"

namespace weft::yamux {
namespace {

BytesPool& chunk_pool() {
  // Never destroyed: usable during static destruction.
  static BytesPool* pool = new BytesPool(ReceiveQueue::kRecycledChunks,
                                         ReceiveQueue::kRecycledChunks * ReceiveQueue::kMaxChunk);
  return *pool;
}

}  // namespace

Bytes ReceiveQueue::new_chunk(std::size_t want) {
  Bytes chunk;
  if (want <= kMaxChunk / 4) {
    chunk.reserve(std::max(want, kMinChunk));
    return chunk;
  }
  chunk = chunk_pool().take();  // only chunks of kMaxChunk are kept
  if (chunk.capacity() == 0) chunk.reserve(kMaxChunk);
  return chunk;
}

void ReceiveQueue::recycle(Bytes&& chunk) noexcept {
  if (chunk.capacity() == kMaxChunk) chunk_pool().give_back(std::move(chunk));
}

void ReceiveQueue::append(Chunk& c, BytesView b) {
  // Over what was written to the chunk before (a recycled chunk's old bytes,
  // unused room from prepare()), then appended.
  const std::size_t over = std::min(b.size(), c.storage.size() - c.end);
  if (over > 0) std::memcpy(c.storage.data() + c.end, b.data(), over);
  c.storage.insert(c.storage.end(), b.begin() + static_cast<std::ptrdiff_t>(over), b.end());
  c.end += b.size();
}

void ReceiveQueue::write(BytesView b, std::size_t expected) {
  while (!b.empty()) {
    if (first_ < chunks_.size()) {
      Chunk& last = chunks_.back();
      const std::size_t room = last.storage.capacity() - last.end;
      if (room > 0) {
        const std::size_t n = std::min(room, b.size());
        append(last, b.first(n));
        size_ += n;
        b = b.subspan(n);
        continue;
      }
    }
    chunks_.push_back(Chunk{new_chunk(b.size() + expected), 0});
  }
}

MutableBytesView ReceiveQueue::prepare(std::size_t want, std::size_t at_least) {
  const std::size_t enough = std::max<std::size_t>(1, std::min(want, at_least));
  if (first_ == chunks_.size() ||
      chunks_.back().storage.capacity() - chunks_.back().end < enough) {
    chunks_.push_back(Chunk{new_chunk(want), 0});
  }
  Chunk& last = chunks_.back();
  const std::size_t n = std::min(want, last.storage.capacity() - last.end);
  // All of it at once: zero-filled once, a recycled chunk is never again.
  if (last.storage.size() < last.end + n) last.storage.resize(last.storage.capacity());
  return MutableBytesView(last.storage.data() + last.end, n);
}

void ReceiveQueue::commit(std::size_t n) noexcept {
  if (first_ == chunks_.size()) return;
  Chunk& last = chunks_.back();
  if (n > 0) {
    last.end += n;
    size_ += n;
    return;
  }
  if (last.end != 0) return;
  recycle(std::move(last.storage));
  chunks_.pop_back();
  if (first_ == chunks_.size()) {
    chunks_.clear();
    first_ = offset_ = 0;
  }
}

std::size_t ReceiveQueue::read(MutableBytesView out) noexcept {
  std::size_t done = 0;
  while (done < out.size() && size_ > 0) {
    const Chunk& c = chunks_[first_];
    const std::size_t n = std::min(out.size() - done, c.end - offset_);
    std::memcpy(out.data() + done, c.storage.data() + offset_, n);
    done += n;
    consume(n);
  }
  return done;
}

Bytes ReceiveQueue::release_front(bool trim) noexcept {
  Chunk& front = chunks_[first_];
  Bytes out = std::move(front.storage);
  if (trim) out.resize(front.end);  // never grows: nothing is filled
  size_ -= front.end - offset_;
  pop_front();  // of a moved-from chunk: nothing to recycle
  return out;
}

Bytes ReceiveQueue::take(std::size_t max) {
  if (size_ == 0 || max == 0) return {};
  const Chunk& front = chunks_[first_];
  // A chunk mostly empty still (the start of a frame whose rest is on its
  // way) is copied from instead: handing it out would give the application
  // up to kMaxChunk bytes of storage for a few bytes of data.
  if (offset_ == 0 && front.end <= max && front.end * 4 >= front.storage.capacity()) {
    return release_front(true);
  }
  const std::size_t n = std::min(max, size_);
  Bytes out;
  out.reserve(n);
  while (out.size() < n) {
    const Chunk& c = chunks_[first_];
    const std::size_t k = std::min(n - out.size(), c.end - offset_);
    const auto from = c.storage.begin() + static_cast<std::ptrdiff_t>(offset_);
    out.insert(out.end(), from, from + static_cast<std::ptrdiff_t>(k));
    consume(k);
  }
  return out;
}

BytesView ReceiveQueue::take_view(std::size_t max, Bytes& holder) {
  if (size_ == 0 || max == 0) {
    holder.clear();
    return {};
  }
  const Chunk& front = chunks_[first_];
  const std::size_t start = offset_;
  const std::size_t left = front.end - start;
  if (left <= max) {
    holder = release_front(false);  // the view has the length
    return BytesView(holder).subspan(start, left);
  }
  const auto from = front.storage.begin() + static_cast<std::ptrdiff_t>(start);
  holder.assign(from, from + static_cast<std::ptrdiff_t>(max));
  consume(max);
  return BytesView(holder);
}

void ReceiveQueue::consume(std::size_t n) noexcept {
  offset_ += n;
  size_ -= n;
  if (offset_ == chunks_[first_].end) pop_front();
}

void ReceiveQueue::pop_front() noexcept {
  recycle(std::move(chunks_[first_].storage));
  chunks_[first_] = Chunk{};  // its storage goes now, not when the slot is reused
  ++first_;
  offset_ = 0;
  if (first_ == chunks_.size()) {
    chunks_.clear();
    first_ = 0;
  } else if (first_ >= 16 && first_ * 2 >= chunks_.size()) {
    chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(first_));
    first_ = 0;
  }
}

void ReceiveQueue::release() noexcept {
  for (std::size_t i = first_; i < chunks_.size(); ++i) recycle(std::move(chunks_[i].storage));
  chunks_ = {};
  first_ = offset_ = size_ = 0;
}

}  // namespace weft::yamux
