// ByteChannel: a reliable, ordered, bidirectional byte stream, the interface
// shared by every layer that carries bytes: a TCP socket, a Noise secure
// channel, a Yamux stream. multistream-select and the protocols are written
// against it, so they run unchanged on any layer.
//
// Threading: a channel belongs to its connection's strand; call it only from
// coroutines running there. At most one read and one write may be in flight
// at a time unless the implementation says otherwise (Yamux streams allow
// any number of concurrent writers).
#pragma once

#include "core/asio.hpp"
#include "core/bytes.hpp"
#include "core/error.hpp"

namespace weft {

class ByteChannel {
 public:
  virtual ~ByteChannel() = default;

  // Reads between 1 and buf.size() bytes (buf must not be empty). Bytes given
  // back with unread() come first. errc::eof once the remote has closed its
  // write side and every byte was read.
  Task<Result<std::size_t>> read_some(MutableBytesView buf);

  // Reads exactly buf.size() bytes, or fails (errc::eof if the stream ends first).
  Task<Status> read_exact(MutableBytesView buf);

  // Writes every byte of data or fails. The data need only stay valid until
  // the returned task completes.
  virtual Task<Status> write_all(BytesView data) = 0;

  // Half-close: we send no more; reading continues until the remote closes.
  virtual Task<Status> close_write() = 0;

  // Immediate teardown (a reset where the transport has one). Idempotent;
  // pending operations complete with errors. Never blocks.
  virtual void abort() = 0;

  // Gives bytes back so the next reads return them before any new input.
  // Used by parsers that read ahead (multistream-select over a raw socket).
  void unread(BytesView data);

 protected:
  virtual Task<Result<std::size_t>> read_some_impl(MutableBytesView buf) = 0;

 private:
  Bytes pushback_;
  std::size_t pushback_pos_ = 0;
};

}  // namespace weft
