// NoiseChannel: the secure transport after a Noise handshake, a ByteChannel
// over the raw channel. Every frame on the wire is a 2-byte big-endian length
// and a ChaCha20-Poly1305 ciphertext of at most 65535 bytes (so at most 65519
// bytes of plaintext); nonces count from 0 in each direction.
//
// Built for throughput without per-frame allocation:
//  - reads pull large chunks of the raw stream into one reusable buffer,
//    decrypt each frame in place there, and copy plaintext out only into the
//    caller's buffer;
//  - writes encrypt a batch of frames (headers and ciphertexts) straight
//    from the caller's data into one reusable send buffer and hand the whole
//    batch to the raw channel in a single write.
//
// Concurrency: one read at a time (a second concurrent read fails with
// errc::busy); any number of writers, serialised: the frames of one
// write_all() go out contiguously. A read returns the plaintext of as many
// received frames as fit in its buffer, without waiting once it has some.
// A failed or interrupted raw write leaves the write side failed for good
// (a partial frame may be on the wire); a frame that fails authentication
// fails the read side for good. Cancelling a read is harmless.
#pragma once

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
  static constexpr std::size_t kSendBufferSize = 4 * kMaxFrameSize;

  NoiseChannel(std::unique_ptr<ByteChannel> raw, CipherState send, CipherState recv);
  ~NoiseChannel() override;

  Task<Status> write_all(BytesView data) override;
  Task<Status> close_write() override;
  void abort() override;

  // The underlying (insecure) channel, e.g. for its endpoints.
  ByteChannel& raw_channel() { return *raw_; }

 protected:
  Task<Result<std::size_t>> read_some_impl(MutableBytesView buf) override;

 private:
  // Decrypts the next complete frame of the read buffer, if there is one.
  // Returns false when more raw input is needed; sets read_error_ on failure.
  bool decrypt_next_frame();
  Task<Status> write_frames(BytesView data);
  // Waits until no write is in progress (writing_ is false on success).
  Task<Status> wait_for_write_turn();
  void release_write_turn();

  std::unique_ptr<ByteChannel> raw_;
  CipherState send_;
  CipherState recv_;

  // Read side. rbuf_ holds [plain_pos_, plain_end_) decrypted bytes not yet
  // handed out, then [raw_pos_, raw_end_) undecrypted input.
  Bytes rbuf_;
  std::size_t plain_pos_ = 0;
  std::size_t plain_end_ = 0;
  std::size_t raw_pos_ = 0;
  std::size_t raw_end_ = 0;
  bool reading_ = false;
  std::optional<Error> read_error_;

  // Write side.
  Bytes sbuf_;
  bool writing_ = false;
  bool write_closed_ = false;
  std::optional<Error> write_error_;
  WaitQueue write_turn_;

  bool aborted_ = false;
};

}  // namespace weft::noise
