#include "noise/noise_channel.hpp"

#include <algorithm>
#include <cstring>

namespace weft::noise {
namespace {

Error aborted_error() { return Error{errc::reset, "noise channel aborted"}; }

}  // namespace

NoiseChannel::NoiseChannel(std::unique_ptr<ByteChannel> raw, CipherState send, CipherState recv)
    : raw_(std::move(raw)), send_(std::move(send)), recv_(std::move(recv)) {}

NoiseChannel::~NoiseChannel() {
  // The raw channel goes first: its socket may still have a read pending
  // into large_, whose storage returns to the pool (and so possibly to
  // another connection) when the members below are destroyed.
  raw_.reset();
}

void NoiseChannel::abort() {
  if (aborted_) return;
  aborted_ = true;
  raw_->abort();
  write_turn_.notify_all();
}

// ---- reading ----

std::optional<std::size_t> NoiseChannel::head_frame_length() const noexcept {
  if (raw_end_ - raw_pos_ < kFrameHeaderSize) return std::nullopt;
  const std::uint8_t* header = buf() + raw_pos_;
  return static_cast<std::size_t>(header[0]) << 8 | header[1];
}

bool NoiseChannel::head_frame_arrived(std::size_t len) const noexcept {
  return raw_end_ - raw_pos_ >= kFrameHeaderSize + len;
}

std::size_t NoiseChannel::complete_frame() {
  const auto len = head_frame_length();
  if (!len) return 0;
  if (*len < kTagLen) {
    read_error_ = Error{errc::protocol_error, "noise: frame of " + std::to_string(*len) +
                                                  " bytes is shorter than its 16-byte tag"};
    return 0;
  }
  return head_frame_arrived(*len) ? *len : 0;
}

bool NoiseChannel::open_frame(std::size_t len, MutableBytesView out) {
  const std::uint8_t* frame = buf() + raw_pos_ + kFrameHeaderSize;
  auto st = recv_.decrypt_with_ad({}, BytesView(frame, len), out);
  if (!st) {
    read_error_ = Error{st.code(), "noise: received frame: " + st.error().detail};
    return false;
  }
  raw_pos_ += kFrameHeaderSize + len;
  return true;
}

bool NoiseChannel::decrypt_next_frame() {
  const std::size_t len = complete_frame();
  if (len == 0) return false;
  const std::size_t start = raw_pos_ + kFrameHeaderSize;
  // In place: the plaintext overwrites the ciphertext it came from.
  if (!open_frame(len, MutableBytesView(buf() + start, len - kTagLen))) return false;
  plain_pos_ = start;
  plain_end_ = start + len - kTagLen;
  return true;
}

Error NoiseChannel::read_failure() const {
  if (read_error_) return *read_error_;
  return aborted_error();
}

void NoiseChannel::use_large_buffer() {
  const std::size_t pending = raw_end_ - raw_pos_;
  if (!large_) {
    large_ = IoBuffer(kReadBufferSize);
    std::memcpy(large_.data(), small_.data() + raw_pos_, pending);
  } else if (raw_pos_ != 0) {
    std::memmove(large_.data(), large_.data() + raw_pos_, pending);
  }
  raw_pos_ = 0;
  raw_end_ = pending;
}

Task<Status> NoiseChannel::fill() {
  // Nothing before raw_pos_ is live any more (views handed out are dead once
  // the next read starts), so the buffer can be rearranged.
  const std::size_t pending = raw_end_ - raw_pos_;
  if (pending == 0) {
    // Every burst of input starts in the small buffer, so a read that waits
    // (an idle connection) never holds the large one; a burst that fills
    // the small buffer moves on to the large one at the next read.
    raw_pos_ = raw_end_ = 0;
    large_.reset();
  } else if (!large_ || buf_size() - raw_end_ < kMaxFrameSize) {
    use_large_buffer();  // a frame is cut: it may need all of the large buffer
  }
  plain_pos_ = plain_end_ = raw_pos_;

  const MutableBytesView space(buf() + raw_end_, buf_size() - raw_end_);
  reading_ = true;
  auto n = co_await raw_->read_some(space);
  reading_ = false;
  if (!n) {
    if (aborted_) co_return aborted_error();
    Error e = std::move(n).error();
    if (e.code == errc::canceled) co_return e;  // nothing consumed: the read may be retried
    if (e.code == errc::eof && pending > 0) {
      e = Error{errc::protocol_error, "noise: connection closed in the middle of a frame (" +
                                          std::to_string(pending) + " bytes of it received)"};
    }
    read_error_ = e;
    co_return e;
  }
  raw_end_ += *n;
  co_return Status{};
}

Task<Result<std::size_t>> NoiseChannel::read_some_impl(MutableBytesView buf) {
  if (reading_) co_return Error{errc::busy, "noise: another read is already in progress"};
  // Serves as many already-received frames as fit in `buf`, but never waits
  // for more input once it has something to return.
  std::size_t copied = 0;
  for (;;) {
    if (plain_pos_ < plain_end_) {
      const std::size_t n = std::min(buf.size() - copied, plain_end_ - plain_pos_);
      std::memcpy(buf.data() + copied, this->buf() + plain_pos_, n);
      plain_pos_ += n;
      copied += n;
      if (copied == buf.size()) co_return copied;
    }
    if (read_error_ || aborted_) {
      if (copied > 0) co_return copied;  // the error comes with the next read
      co_return read_failure();
    }
    // Empty frames decrypt to nothing: keep going until data or a need for input.
    if (decrypt_next_frame() || read_error_) continue;
    if (copied > 0) co_return copied;
    if (auto st = co_await fill(); !st) co_return std::move(st).error();
  }
}

Task<Result<BytesView>> NoiseChannel::read_view_impl(std::size_t max) {
  if (reading_) co_return Error{errc::busy, "noise: another read is already in progress"};
  for (;;) {
    if (plain_pos_ < plain_end_) {
      const std::size_t n = std::min(max, plain_end_ - plain_pos_);
      const BytesView view(buf() + plain_pos_, n);
      plain_pos_ += n;
      co_return view;
    }
    if (read_error_ || aborted_) co_return read_failure();
    if (decrypt_next_frame() || read_error_) continue;
    if (auto st = co_await fill(); !st) co_return std::move(st).error();
  }
}

std::size_t NoiseChannel::read_ready_impl(MutableBytesView out) {
  if (reading_) return 0;
  if (plain_pos_ < plain_end_) {  // the rest of a frame decrypted for an earlier read
    const std::size_t n = std::min(out.size(), plain_end_ - plain_pos_);
    std::memcpy(out.data(), buf() + plain_pos_, n);
    plain_pos_ += n;
    return n;
  }
  // Whole frames, decrypted from the read buffer straight into `out`; a
  // frame that does not fit is left for the next read.
  std::size_t done = 0;
  while (!read_error_ && !aborted_) {
    const std::size_t len = complete_frame();
    if (len == 0 || len - kTagLen > out.size() - done) break;
    if (!open_frame(len, out.subspan(done, len - kTagLen))) break;
    done += len - kTagLen;
  }
  return done;
}

std::size_t NoiseChannel::ready_piece_impl() const noexcept {
  if (reading_ || read_error_ || aborted_) return 0;
  if (plain_pos_ < plain_end_) return 1;
  const auto len = head_frame_length();
  if (!len || !head_frame_arrived(*len)) return 0;
  // An invalid (too short) or empty frame needs no room: read_ready takes
  // or reports it with whatever room it is given.
  return *len <= kTagLen ? 1 : *len - kTagLen;
}

Task<Status> NoiseChannel::wait_ready_impl() {
  if (reading_) co_return Error{errc::busy, "noise: another read is already in progress"};
  for (;;) {
    // Input that fails is ready too: the read reports it.
    if (plain_pos_ < plain_end_ || read_error_ || aborted_) co_return Status{};
    if (complete_frame() != 0 || read_error_) co_return Status{};
    WEFT_CO_CHECK(co_await fill());
  }
}

// ---- writing ----

Task<Status> NoiseChannel::wait_for_write_turn() {
  while (writing_) {
    if (aborted_) co_return aborted_error();
    if (auto ec = co_await write_turn_.wait())
      co_return Error{errc::canceled, "noise: write cancelled while waiting for its turn"};
  }
  co_return Status{};
}

void NoiseChannel::release_write_turn() {
  writing_ = false;
  write_turn_.notify_all();
}

// Staging seals frames at once. Small pieces (Yamux headers, control frames,
// small payloads) are gathered as plaintext in pending_ and sealed together,
// so a batch of them costs one frame and one AEAD operation; a piece that
// completes a frame is sealed straight from the caller's memory together
// with the gathered head, so bulk data is encrypted where it lies and never
// copied on its way to the socket.
void NoiseChannel::stage(BytesView data) {
  if (aborted_ || write_error_ || write_closed_) return;  // the next flush reports it
  while (!data.empty()) {
    const std::size_t room = kMaxFramePlaintext - pending_.size();
    if (data.size() < room) {
      pending_.append(data);
      return;
    }
    if (!seal_frame(pending_.view(), data.first(room))) return;
    pending_.clear();
    data = data.subspan(room);
  }
}

std::size_t NoiseChannel::staged_size() const { return staged_.size() + pending_.size(); }

bool NoiseChannel::seal_frame(BytesView head, BytesView tail) {
  if (send_.nonce() == CipherState::kReservedNonce) {
    // What is already sealed still goes out, nothing more.
    write_error_ = Error{errc::crypto_error, "noise: send nonces exhausted (2^64-1 messages)"};
    return false;
  }
  const std::size_t len = head.size() + tail.size() + kTagLen;
  std::uint8_t* out = staged_.extend(kFrameHeaderSize + len);
  out[0] = static_cast<std::uint8_t>(len >> 8);
  out[1] = static_cast<std::uint8_t>(len);
  auto st = send_.encrypt_parts_with_ad({}, head, tail, MutableBytesView(out + kFrameHeaderSize, len));
  if (!st) {  // cannot happen once the nonce was checked; kept failing closed
    write_error_ = Error{st.code(), "noise: " + st.error().detail};
    return false;
  }
  return true;
}

Task<Status> NoiseChannel::flush_locked() {
  if (aborted_) co_return aborted_error();
  if (!write_error_ && !pending_.empty()) seal_frame(pending_.view(), {});
  // Given back at every flush: a connection with nothing to send holds no
  // send buffer (the pool keeps them warm while it is busy).
  pending_.release();
  if (!staged_.empty()) {
    staged_.swap(flushing_);  // stage() fills the next batch meanwhile
    auto st = co_await raw_->write_all(flushing_.view());
    flushing_.release();
    if (!st) {
      if (aborted_) co_return aborted_error();
      // Part of a frame may have been sent: the stream cannot continue.
      write_error_ = Error{st.code(), "noise: an earlier write failed: " + st.error().detail};
      co_return st;
    }
  }
  if (write_error_) co_return *write_error_;
  co_return Status{};
}

Task<Status> NoiseChannel::flush_staged() {
  // Uncontended flushes skip the wait (and its coroutine) altogether.
  if (writing_) WEFT_CO_CHECK(co_await wait_for_write_turn());
  writing_ = true;
  Status st = co_await flush_locked();
  release_write_turn();
  co_return st;
}

Task<Status> NoiseChannel::write_all(BytesView data) {
  if (writing_) WEFT_CO_CHECK(co_await wait_for_write_turn());
  writing_ = true;
  Status st;
  if (aborted_) {
    st = aborted_error();
  } else if (write_error_) {
    st = *write_error_;
  } else if (write_closed_) {
    st = Error{errc::closed, "noise: write side already closed"};
  } else {
    // In batches of whole frames, so one raw write holds at most
    // kSendBufferSize bytes.
    std::size_t off = 0;
    do {
      const std::size_t n = std::min(data.size() - off, kWriteBatchPlaintext);
      stage(data.subspan(off, n));
      off += n;
      st = co_await flush_locked();
    } while (st.ok() && off < data.size());
  }
  release_write_turn();
  co_return st;
}

Task<Status> NoiseChannel::close_write() {
  if (writing_) WEFT_CO_CHECK(co_await wait_for_write_turn());
  writing_ = true;
  Status st;
  if (aborted_) {
    st = aborted_error();
  } else if (write_error_) {
    st = *write_error_;
  } else if (!write_closed_) {
    st = co_await flush_locked();  // what was staged goes first
    if (st.ok()) {
      write_closed_ = true;
      st = co_await raw_->close_write();
    }
  }
  release_write_turn();
  co_return st;
}

}  // namespace weft::noise
