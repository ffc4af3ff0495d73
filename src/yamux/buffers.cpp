#include "yamux/buffers.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace weft::yamux {

void RingBuffer::grow(std::size_t needed, std::size_t max_capacity) {
  std::size_t cap = std::max<std::size_t>(capacity_ * 2, 16 * 1024);
  cap = std::min(cap, std::max(max_capacity, needed));
  cap = std::max(cap, needed);
  auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(cap);
  // Linearise: the oldest byte moves to index 0.
  const std::size_t first = std::min(size_, capacity_ - head_);
  if (first != 0) std::memcpy(bigger.get(), data_.get() + head_, first);
  if (size_ > first) std::memcpy(bigger.get() + first, data_.get(), size_ - first);
  data_ = std::move(bigger);
  capacity_ = cap;
  head_ = 0;
}

void RingBuffer::write(BytesView b, std::size_t max_capacity) {
  if (b.empty()) return;
  if (capacity_ - size_ < b.size()) grow(size_ + b.size(), max_capacity);
  std::size_t tail = head_ + size_;
  if (tail >= capacity_) tail -= capacity_;
  const std::size_t first = std::min(b.size(), capacity_ - tail);
  std::memcpy(data_.get() + tail, b.data(), first);
  if (b.size() > first) std::memcpy(data_.get(), b.data() + first, b.size() - first);
  size_ += b.size();
}

std::size_t RingBuffer::read(MutableBytesView out) noexcept {
  const std::size_t n = std::min(out.size(), size_);
  if (n == 0) return 0;
  const std::size_t first = std::min(n, capacity_ - head_);
  std::memcpy(out.data(), data_.get() + head_, first);
  if (n > first) std::memcpy(out.data() + first, data_.get(), n - first);
  consume(n);
  return n;
}

std::size_t RingBuffer::read_append(Bytes& out, std::size_t max) {
  const std::size_t n = std::min(max, size_);
  if (n == 0) return 0;
  const std::size_t first = std::min(n, capacity_ - head_);
  out.reserve(out.size() + n);
  out.insert(out.end(), data_.get() + head_, data_.get() + head_ + first);
  out.insert(out.end(), data_.get(), data_.get() + (n - first));
  consume(n);
  return n;
}

void RingBuffer::consume(std::size_t n) noexcept {
  head_ += n;
  if (head_ >= capacity_) head_ -= capacity_;
  size_ -= n;
  if (size_ == 0) head_ = 0;  // keeps later writes contiguous
}

void RingBuffer::release() noexcept {
  data_.reset();
  capacity_ = head_ = size_ = 0;
}

}  // namespace weft::yamux
