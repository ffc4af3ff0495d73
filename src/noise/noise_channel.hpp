// NoiseChannel: the secure transport after a Noise handshake, a ByteChannel
// over the raw channel. Every frame on the wire is a 2-byte big-endian length
// and a ChaCha20-Poly1305 ciphertext of at most 65535 bytes (so at most 65519
// bytes of plaintext); nonces count from 0 in each direction.
//
// Built for throughput without per-frame allocation, and for idle
// connections that hold little memory:
//  - reads pull large chunks of the raw stream into one buffer, decrypt each
//    frame in place there, and hand out the plaintext either as a view of
//    that buffer (read_view: no copy) or copied into the caller's buffer;
//    read_ready decrypts whole frames straight into the caller's buffer
//    instead (the Yamux session's, for a stream's payload: no copy either);
//  - writes (write_all, or stage + flush_staged for the Yamux session)
//    encrypt frames straight from the caller's data into one send buffer,
//    gathering small pieces into shared frames, and hand the whole batch to
//    the raw channel in a single write;
//  - the large buffers are pooled IoBuffers, held only while bytes are in
//    flight. Each burst of input is first read into a small buffer inside
//    the channel, so an idle connection waits holding kIdleReadSize bytes
//    and small messages never touch the large buffer; a burst that fills the
//    small buffer continues in the large one.
//
// Concurrency: one read at a time (a second concurrent read fails with
// errc::busy); any number of writers, serialised: the frames of one
// write_all() go out contiguously. A read returns the plaintext of as many
// received frames as fit in its buffer, without waiting once it has some.
// A failed or interrupted raw write leaves the write side failed for good
// (a partial frame may be on the wire); a frame that fails authentication
// fails the read side for good. Cancelling a read is harmless.
#pragma once

#include <array>
#include <memory>
#include <optional>

#include "core/byte_channel.hpp"
#include "core/wait_queue.hpp"
#include "noise/handshake_state.hpp"

namespace weft::noise {

class NoiseChannel final : public ByteChannel {
 public:
  static constexpr std::size_t kFrameHeaderSize = 2;
  static constexpr std::size_t kMaxFramePlaintext = kMaxMessageSize - kTagLen;  // 65519
  static constexpr std::size_t kMaxFrameSize = kFrameHeaderSize + kMaxMessageSize;
  // Large enough for several full frames per raw read; the reads and writes
  // of a busy connection then cost a handful of system calls per MiB.
  static constexpr std::size_t kReadBufferSize = 256 * 1024 + kMaxFrameSize;
  // write_all() sends at most this much per raw write (whole frames).
  static constexpr std::size_t kSendBufferSize = 4 * kMaxFrameSize;
  static constexpr std::size_t kWriteBatchPlaintext = 4 * kMaxFramePlaintext;
  // The resident read buffer of an idle connection: a ping, a control frame
  // or a small request fits in one read.
  static constexpr std::size_t kIdleReadSize = 2048;

  NoiseChannel(std::unique_ptr<ByteChannel> raw, CipherState send, CipherState recv);
  ~NoiseChannel() override;

  Task<Status> write_all(BytesView data) override;
  void stage(BytesView data) override;
  std::size_t staged_size() const override;
  Task<Status> flush_staged() override;
  // Sends what was staged first.
  Task<Status> close_write() override;
  void abort() override;

  std::size_t read_ready_piece() const noexcept override { return kMaxFramePlaintext; }

  // The underlying (insecure) channel, e.g. for its endpoints.
  ByteChannel& raw_channel() { return *raw_; }
  // Large pooled buffers held right now (0 when idle; for tests and stats).
  std::size_t large_buffers_held() const noexcept {
    return (large_ ? 1 : 0) + (pending_.capacity() != 0 ? 1 : 0) +
           (staged_.capacity() != 0 ? 1 : 0) + (flushing_.capacity() != 0 ? 1 : 0);
  }

 protected:
  Task<Result<std::size_t>> read_some_impl(MutableBytesView buf) override;
  Task<Result<BytesView>> read_view_impl(std::size_t max) override;
  // Decrypts whole received frames straight into the caller's buffer.
  std::size_t read_ready_impl(MutableBytesView buf) override;
  std::size_t ready_piece_impl() const noexcept override;
  Task<Status> wait_ready_impl() override;

 private:
  // The ciphertext length the frame at the head of the read buffer announces,
  // once its 2-byte header is there; whether all of that frame is there.
  std::optional<std::size_t> head_frame_length() const noexcept;
  bool head_frame_arrived(std::size_t len) const noexcept;
  // The ciphertext length of the next frame once all of it is in the read
  // buffer, else 0 (read_error_ is set if its header is invalid).
  std::size_t complete_frame();
  // Decrypts that frame, of ciphertext length `len`, into `out` (in place or
  // elsewhere) and consumes it; false, with read_error_ set, if it fails
  // authentication.
  bool open_frame(std::size_t len, MutableBytesView out);
  // Decrypts the next complete frame of the read buffer in place, if there
  // is one. Returns false when more raw input is needed; sets read_error_ on
  // failure.
  bool decrypt_next_frame();
  // Reads more raw input into the read buffer, switching between the small
  // and the large buffer as described above. On failure, the error to
  // report; read_error_ is set unless it is retryable.
  Task<Status> fill();
  // Moves the undecrypted input to the start of the large buffer (taking
  // one if needed) and reads into it from then on.
  void use_large_buffer();
  std::uint8_t* buf() noexcept { return large_ ? large_.data() : small_.data(); }
  const std::uint8_t* buf() const noexcept { return large_ ? large_.data() : small_.data(); }
  std::size_t buf_size() const noexcept { return large_ ? large_.size() : small_.size(); }
  // The error a read reports now that nothing is left to hand out.
  Error read_failure() const;
  // Seals head + tail as one frame into staged_; false (write_error_ set)
  // once the nonces are exhausted.
  bool seal_frame(BytesView head, BytesView tail);
  // Seals the pending plaintext and writes everything staged; the caller
  // holds the write turn.
  Task<Status> flush_locked();
  // Waits until no write is in progress (writing_ is false on success).
  Task<Status> wait_for_write_turn();
  void release_write_turn();

  std::unique_ptr<ByteChannel> raw_;
  CipherState send_;
  CipherState recv_;

  // Read side. The read buffer (large_ when held, else small_) holds
  // [plain_pos_, plain_end_) decrypted bytes not yet handed out, then
  // [raw_pos_, raw_end_) undecrypted input.
  IoBuffer large_;
  std::array<std::uint8_t, kIdleReadSize> small_;
  std::size_t plain_pos_ = 0;
  std::size_t plain_end_ = 0;
  std::size_t raw_pos_ = 0;
  std::size_t raw_end_ = 0;
  bool reading_ = false;
  std::optional<Error> read_error_;

  // Write side: pending_ is the plaintext of the frame being gathered,
  // staged_ the sealed frames not yet written, flushing_ the batch being
  // written.
  OutputBuffer pending_;
  OutputBuffer staged_;
  OutputBuffer flushing_;
  bool writing_ = false;
  bool write_closed_ = false;
  std::optional<Error> write_error_;
  WaitQueue write_turn_;

  bool aborted_ = false;
};

}  // namespace weft::noise
