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

void ReceiveQueue::write(BytesView b, std::size_t expected) {
  while (!b.empty()) {
    if (first_ < chunks_.size()) {
      Bytes& last = chunks_.back();
      const std::size_t room = last.capacity() - last.size();
      if (room > 0) {
        const std::size_t n = std::min(room, b.size());
        last.insert(last.end(), b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        size_ += n;
        b = b.subspan(n);
        continue;
      }
    }
    chunks_.push_back(new_chunk(b.size() + expected));
  }
}

std::size_t ReceiveQueue::read(MutableBytesView out) noexcept {
  std::size_t done = 0;
  while (done < out.size() && size_ > 0) {
    const Bytes& c = chunks_[first_];
    const std::size_t n = std::min(out.size() - done, c.size() - offset_);
    std::memcpy(out.data() + done, c.data() + offset_, n);
    done += n;
    consume(n);
  }
  return done;
}

Bytes ReceiveQueue::take(std::size_t max) {
  if (size_ == 0 || max == 0) return {};
  Bytes& front = chunks_[first_];
  // A chunk mostly empty still (the start of a frame whose rest is on its
  // way) is copied from instead: handing it out would give the application
  // up to kMaxChunk bytes of storage for a few bytes of data.
  if (offset_ == 0 && front.size() <= max && front.size() * 4 >= front.capacity()) {
    Bytes out = std::move(front);
    size_ -= out.size();
    pop_front();
    return out;
  }
  const std::size_t n = std::min(max, size_);
  Bytes out;
  out.reserve(n);
  while (out.size() < n) {
    const Bytes& c = chunks_[first_];
    const std::size_t k = std::min(n - out.size(), c.size() - offset_);
    const auto from = c.begin() + static_cast<std::ptrdiff_t>(offset_);
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
  Bytes& front = chunks_[first_];
  const std::size_t start = offset_;
  const std::size_t left = front.size() - start;
  if (left <= max) {
    holder = std::move(front);
    size_ -= left;
    pop_front();  // of a moved-from chunk: nothing to recycle
    return BytesView(holder).subspan(start, left);
  }
  const auto from = front.begin() + static_cast<std::ptrdiff_t>(start);
  holder.assign(from, from + static_cast<std::ptrdiff_t>(max));
  consume(max);
  return BytesView(holder);
}

void ReceiveQueue::consume(std::size_t n) noexcept {
  offset_ += n;
  size_ -= n;
  if (offset_ == chunks_[first_].size()) pop_front();
}

void ReceiveQueue::pop_front() noexcept {
  recycle(std::move(chunks_[first_]));
  chunks_[first_] = Bytes{};  // its storage goes now, not when the slot is reused
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
  for (std::size_t i = first_; i < chunks_.size(); ++i) recycle(std::move(chunks_[i]));
  chunks_ = {};
  first_ = offset_ = size_ = 0;
}

}  // namespace weft::yamux
