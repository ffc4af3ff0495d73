// WriteBuffers: the storage of weft_stream_write's copies, reused.
//
// Why: a write copies the caller's bytes (the caller may reuse its buffer as
// soon as the call returns), typically 64 KiB to 1 MiB at a time. Allocating
// and freeing that much per write made glibc grow and trim its heap in turn
// when one thread did both (a node driven by weft_node_poll): two system
// calls and fresh zero-filled pages per write, and uploads at 60% of the
// rate of a node with an I/O thread. A few buffers kept process-wide, at
// most kMaxKeptBytes in all, make a steady writer allocate nothing.
#pragma once

#include <cstddef>

#include "core/bytes_pool.hpp"

namespace weft::capi {

class WriteBuffers {
 public:
  static constexpr std::size_t kMaxKeptBytes = 4u << 20;
  static constexpr std::size_t kMaxKept = 16;

  static WriteBuffers& instance();

  // A buffer holding a copy of data[0, len).
  Bytes copy_of(const std::uint8_t* data, std::size_t len);
  // Takes a buffer back for reuse (or frees it if enough are kept).
  void give_back(Bytes&& buffer) noexcept;

 private:
  BytesPool pool_{kMaxKept, kMaxKeptBytes};
};

}  // namespace weft::capi
