// BytesPool: a few large byte buffers kept for reuse, shared by threads.
//
// Why: buffers of hundreds of KiB that are allocated and freed over and over
// (the C API's write copies, a stream's receive chunks handed to the
// application and back) make glibc map or grow and trim its heap in turn:
// page faults and fresh zero-filled pages every time, which cost more than
// the bytes' one use. Keeping a bounded number of them makes a steady flow
// allocate nothing. A buffer may be given back on another thread than the
// one that took it.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "core/bytes.hpp"

namespace weft {

class BytesPool {
 public:
  // Keeps at most `max_kept` buffers of `max_kept_bytes` of capacity in all.
  BytesPool(std::size_t max_kept, std::size_t max_kept_bytes);
  BytesPool(const BytesPool&) = delete;
  BytesPool& operator=(const BytesPool&) = delete;

  // A kept buffer, with its capacity and the size it was given back with
  // (callers assign or resize it; bytes already there need no zero-filling
  // again), or an empty one with no storage when none is kept.
  Bytes take();
  // Keeps `buffer` for reuse if the limits allow, else frees it.
  void give_back(Bytes&& buffer) noexcept;

 private:
  const std::size_t max_kept_;
  const std::size_t max_kept_bytes_;
  std::mutex mu_;
  std::vector<Bytes> kept_;  // reserved for max_kept_: keeping never allocates
  std::size_t kept_bytes_ = 0;
};

}  // namespace weft
