#include "core/bytes.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <utility>

namespace weft {

std::string to_hex(BytesView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (std::uint8_t c : b) {
    s.push_back(kDigits[c >> 4]);
    s.push_back(kDigits[c & 15]);
  }
  return s;
}

namespace {

struct PooledStorage {
  std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

// Set once the calling thread's pool is destroyed (thread exit): buffers
// released later, by other thread-local or static destructors, are freed
// directly. A plain bool, so reading it stays valid after the pool is gone.
thread_local bool t_pool_destroyed = false;

struct Pool {
  std::array<PooledStorage, IoBuffer::kPoolBuffers> slots{};
  std::size_t count = 0;

  ~Pool() {
    for (std::size_t i = 0; i < count; ++i) ::operator delete[](slots[i].data);
    count = 0;
    t_pool_destroyed = true;
  }

  std::uint8_t* take(std::size_t size) noexcept {
    // The most recently returned buffer of the size first: it is the warmest.
    for (std::size_t i = count; i-- > 0;) {
      if (slots[i].size != size) continue;
      std::uint8_t* p = slots[i].data;
      slots[i] = slots[--count];
      return p;
    }
    return nullptr;
  }

  bool give(std::uint8_t* data, std::size_t size) noexcept {
    if (size > IoBuffer::kPoolMaxBufferSize) return false;
    if (count == slots.size()) {
      // Full: the oldest entry makes room, so the pool follows current use.
      ::operator delete[](slots[0].data);
      for (std::size_t i = 1; i < count; ++i) slots[i - 1] = slots[i];
      --count;
    }
    slots[count++] = PooledStorage{data, size};
    return true;
  }
};

Pool* this_thread_pool() noexcept {
  if (t_pool_destroyed) return nullptr;
  thread_local Pool pool;
  return &pool;
}

}  // namespace

IoBuffer::IoBuffer(std::size_t size) {
  if (size == 0) return;
  Pool* pool = this_thread_pool();
  std::uint8_t* p = pool != nullptr ? pool->take(size) : nullptr;
  data_ = p != nullptr ? p : static_cast<std::uint8_t*>(::operator new[](size));
  size_ = size;
}

IoBuffer::IoBuffer(IoBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

IoBuffer& IoBuffer::operator=(IoBuffer&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void IoBuffer::reset() noexcept {
  if (data_ == nullptr) return;
  Pool* pool = this_thread_pool();
  if (pool == nullptr || !pool->give(data_, size_)) ::operator delete[](data_);
  data_ = nullptr;
  size_ = 0;
}

std::uint8_t* OutputBuffer::extend(std::size_t n) {
  if (storage_.size() - size_ < n) {
    // Powers of two only: the few sizes a busy connection cycles through are
    // what the IoBuffer pool recycles.
    std::size_t cap = storage_.empty() ? next_capacity_ : storage_.size() * 2;
    while (cap < size_ + n) cap *= 2;
    IoBuffer bigger(cap);
    if (size_ != 0) std::memcpy(bigger.data(), storage_.data(), size_);
    storage_ = std::move(bigger);
  }
  std::uint8_t* p = storage_.data() + size_;
  size_ += n;
  return p;
}

void OutputBuffer::append(BytesView b) {
  if (b.empty()) return;
  std::memcpy(extend(b.size()), b.data(), b.size());
}

void OutputBuffer::release() noexcept {
  // The next use starts at the largest size recent content needed. Bulk
  // batches vary several-fold in size (a batch goes out whenever the socket
  // takes the previous one), and starting below the largest means regrowing
  // mid-batch: a copy of everything sealed so far, which was 3.5% of a
  // sending client's CPU. So the start comes down only after kShrinkAfter
  // batches in a row needed at most half of it, and then by half: a
  // connection that turned quiet still returns to kMinCapacity. Only the
  // size is remembered; the storage goes back either way.
  std::size_t needed = kMinCapacity;
  while (needed < size_) needed *= 2;
  if (needed * 2 > next_capacity_) {
    next_capacity_ = std::max(next_capacity_, needed);
    small_batches_ = 0;
  } else if (++small_batches_ >= kShrinkAfter) {
    next_capacity_ /= 2;
    small_batches_ = 0;
  }
  size_ = 0;
  storage_.reset();
}

void OutputBuffer::swap(OutputBuffer& other) noexcept {
  std::swap(storage_, other.storage_);
  std::swap(size_, other.size_);
  std::swap(next_capacity_, other.next_capacity_);
  std::swap(small_batches_, other.small_batches_);
}

std::size_t IoBuffer::pooled_on_this_thread() noexcept {
  Pool* pool = this_thread_pool();
  return pool != nullptr ? pool->count : 0;
}

}  // namespace weft
