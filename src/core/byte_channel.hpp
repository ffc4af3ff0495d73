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

  // Like read_some (between 1 and max bytes, max > 0), but into storage the
  // channel owns: the view stays valid until the next read call on this
  // channel. A channel that holds its input in a buffer anyway (Noise
  // decrypts in place) hands that buffer out and spares the reader a copy.
  Task<Result<BytesView>> read_view(std::size_t max);

  // Like read_some (between 1 and max bytes, max > 0), returned in a buffer
  // of exactly the bytes read: for callers that keep what they read (the C
  // API), so a large `max` costs no large allocation.
  Task<Result<Bytes>> read_bytes(std::size_t max);

  // For a reader that knows where the next bytes go (the Yamux session: the
  // payload of a data frame, into its stream's receive buffer). Takes up to
  // buf.size() bytes that arrived already, without waiting, and returns how
  // many; 0 when none can be had that way, and never an error (the next
  // read reports it). A channel that transforms its input produces it
  // straight into buf: Noise decrypts every whole frame that fits there,
  // sparing the copy out of read_view's buffer.
  std::size_t read_ready(MutableBytesView buf);
  // read_ready takes input in pieces of at most this many bytes, each whole
  // or not at all (Noise: a frame's plaintext), so a buffer this large
  // takes the next piece. 0: read_ready takes nothing but pushed-back bytes.
  virtual std::size_t read_ready_piece() const noexcept { return 0; }
  // The room read_ready needs now to take anything: 0 when nothing has
  // arrived that it could take; the size of the next whole piece (Noise: the
  // next frame's plaintext); 1 for bytes it can take in part. A reader with
  // less room leaves the input to read_view, and prepares no room for
  // nothing.
  std::size_t ready_piece() const noexcept;

  // Waits until input has arrived that a read can take without waiting,
  // without taking it; then read_ready gets it where it fits, and the next
  // read_view or read_some where it does not. May complete early (then a
  // read waits as usual). A failure is the read's failure.
  Task<Status> wait_ready();

  // Writes every byte of data or fails. The data need only stay valid until
  // the returned task completes.
  virtual Task<Status> write_all(BytesView data) = 0;

  // Like write_all, for a writer that has more to send at once (a protocol
  // answer followed by the reply, the last bytes followed by close_write):
  // the bytes may wait for what the caller writes next in the same turn, so
  // both travel together. They go out no later than the caller's next
  // write, close_write or wait for input on this channel (a Yamux stream
  // sends them once the caller suspends). Default: write_all.
  virtual Task<Status> write_more(BytesView data) { return write_all(data); }

  // Staged writing, for one writer that batches (the Yamux session):
  // stage() takes bytes at once, already transformed as write_all would
  // transform them (Noise encrypts them, straight from `data`), and
  // flush_staged() writes everything staged before it. Bytes go out in the
  // order they were staged. `data` need not outlive the call. stage() never
  // fails: an error is reported by the next flush_staged(). At most one
  // flush_staged() at a time, and write_all() is not mixed with staging.
  // The default keeps a plain copy and writes it with write_all().
  virtual void stage(BytesView data);
  // Bytes staged and not yet taken by a flush (as they will go out).
  virtual std::size_t staged_size() const;
  // Takes what is staged (synchronously, when no other write of the channel
  // is in progress, which is the case for a single batching writer) and
  // writes it.
  virtual Task<Status> flush_staged();

  // Half-close: we send no more; reading continues until the remote closes.
  // Call it after the last flush_staged().
  virtual Task<Status> close_write() = 0;

  // Immediate teardown (a reset where the transport has one). Idempotent;
  // pending operations complete with errors. Never blocks.
  virtual void abort() = 0;

  // Gives bytes back so the next reads return them before any new input.
  // Used by parsers that read ahead (multistream-select over a raw socket).
  void unread(BytesView data);

 protected:
  virtual Task<Result<std::size_t>> read_some_impl(MutableBytesView buf) = 0;
  // Default: read_some_impl into a buffer the channel keeps for this.
  virtual Task<Result<BytesView>> read_view_impl(std::size_t max);
  // Default: a copy of what read_view_impl returns.
  virtual Task<Result<Bytes>> read_bytes_impl(std::size_t max);
  // Defaults: nothing is ready; no wait.
  virtual std::size_t read_ready_impl(MutableBytesView /*buf*/) { return 0; }
  virtual std::size_t ready_piece_impl() const noexcept { return 0; }
  virtual Task<Status> wait_ready_impl();

 private:
  // Copies the oldest pushed-back bytes into buf (some are there).
  std::size_t take_pushback(MutableBytesView buf) noexcept;

  Bytes pushback_;
  std::size_t pushback_pos_ = 0;
  IoBuffer view_buffer_;  // read_view's storage for the default and for pushed-back bytes
  // The default staging: staged_ fills while flushing_ is being written.
  OutputBuffer staged_;
  OutputBuffer flushing_;
};

}  // namespace weft
