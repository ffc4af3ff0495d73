#include "noise/noise_channel.hpp"

#include <algorithm>
#include <cstring>

namespace weft::noise {
namespace {

Error aborted_error() { return Error{errc::reset, "noise channel aborted"}; }

}  // namespace

NoiseChannel::NoiseChannel(std::unique_ptr<ByteChannel> raw, CipherState send, CipherState recv)
    : raw_(std::move(raw)), send_(std::move(send)), recv_(std::move(recv)) {}

NoiseChannel::~NoiseChannel() = default;

void NoiseChannel::abort() {
  if (aborted_) return;
  aborted_ = true;
  raw_->abort();
  write_turn_.notify_all();
}

// ---- reading ----

bool NoiseChannel::decrypt_next_frame() {
  const std::size_t pending = raw_end_ - raw_pos_;
  if (pending < kFrameHeaderSize) return false;
  const std::size_t len = static_cast<std::size_t>(rbuf_[raw_pos_]) << 8 | rbuf_[raw_pos_ + 1];
  if (len < kTagLen) {
    read_error_ = Error{errc::protocol_error, "noise: frame of " + std::to_string(len) +
                                                  " bytes is shorter than its 16-byte tag"};
    return false;
  }
  if (pending < kFrameHeaderSize + len) return false;
  std::uint8_t* frame = rbuf_.data() + raw_pos_ + kFrameHeaderSize;
  // In place: the plaintext overwrites the ciphertext it came from.
  auto st =
      recv_.decrypt_with_ad({}, BytesView(frame, len), MutableBytesView(frame, len - kTagLen));
  if (!st) {
    read_error_ = Error{st.code(), "noise: received frame: " + st.error().detail};
    return false;
  }
  plain_pos_ = raw_pos_ + kFrameHeaderSize;
  plain_end_ = plain_pos_ + len - kTagLen;
  raw_pos_ += kFrameHeaderSize + len;
  return true;
}

Task<Result<std::size_t>> NoiseChannel::read_some_impl(MutableBytesView buf) {
  if (reading_) co_return Error{errc::busy, "noise: another read is already in progress"};
  if (rbuf_.empty()) rbuf_.resize(kReadBufferSize);
  // Serves as many already-received frames as fit in `buf`, but never waits
  // for more input once it has something to return.
  std::size_t copied = 0;
  for (;;) {
    if (plain_pos_ < plain_end_) {
      const std::size_t n = std::min(buf.size() - copied, plain_end_ - plain_pos_);
      std::memcpy(buf.data() + copied, rbuf_.data() + plain_pos_, n);
      plain_pos_ += n;
      copied += n;
      if (copied == buf.size()) co_return copied;
    }
    if (read_error_ || aborted_) {
      if (copied > 0) co_return copied;  // the error comes with the next read
      if (read_error_) co_return *read_error_;
      co_return aborted_error();
    }
    // Empty frames decrypt to nothing: keep going until data or a need for input.
    if (decrypt_next_frame() || read_error_) continue;
    if (copied > 0) co_return copied;

    // More input is needed. Nothing before raw_pos_ is live any more, so the
    // partial frame can move to the front when the tail is getting short.
    const std::size_t pending = raw_end_ - raw_pos_;
    if (pending == 0) {
      raw_pos_ = raw_end_ = 0;
    } else if (rbuf_.size() - raw_end_ < kMaxFrameSize) {
      std::memmove(rbuf_.data(), rbuf_.data() + raw_pos_, pending);
      raw_pos_ = 0;
      raw_end_ = pending;
    }
    plain_pos_ = plain_end_ = raw_pos_;

    reading_ = true;
    auto n = co_await raw_->read_some(MutableBytesView(rbuf_).subspan(raw_end_));
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

Task<Status> NoiseChannel::write_all(BytesView data) {
  // Uncontended writes skip the wait (and its coroutine) altogether.
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
    st = co_await write_frames(data);
  }
  release_write_turn();
  co_return st;
}

Task<Status> NoiseChannel::write_frames(BytesView data) {
  if (sbuf_.empty()) sbuf_.resize(kSendBufferSize);
  std::size_t off = 0;
  while (off < data.size()) {
    // Fill the send buffer with as many frames as fit, encrypting straight
    // from the caller's data, then hand the batch over in one write.
    std::size_t used = 0;
    while (off < data.size() && sbuf_.size() - used > kFrameHeaderSize + kTagLen) {
      const std::size_t room = sbuf_.size() - used - kFrameHeaderSize - kTagLen;
      const std::size_t chunk = std::min({data.size() - off, kMaxFramePlaintext, room});
      const std::size_t len = chunk + kTagLen;
      sbuf_[used] = static_cast<std::uint8_t>(len >> 8);
      sbuf_[used + 1] = static_cast<std::uint8_t>(len);
      const MutableBytesView dest = MutableBytesView(sbuf_).subspan(used + kFrameHeaderSize, len);
      auto st = send_.encrypt_with_ad({}, data.subspan(off, chunk), dest);
      if (!st) {
        // Nonces exhausted: what is already sealed still goes out, nothing more.
        write_error_ = Error{st.code(), "noise: " + st.error().detail};
        break;
      }
      used += kFrameHeaderSize + len;
      off += chunk;
    }
    if (used > 0) {
      auto st = co_await raw_->write_all(BytesView(sbuf_).first(used));
      if (!st) {
        if (aborted_) co_return aborted_error();
        // Part of a frame may have been sent: the stream cannot continue.
        write_error_ = Error{st.code(), "noise: an earlier write failed: " + st.error().detail};
        co_return st;
      }
    }
    if (write_error_) co_return *write_error_;
  }
  co_return Status{};
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
    write_closed_ = true;
    st = co_await raw_->close_write();
  }
  release_write_turn();
  co_return st;
}

}  // namespace weft::noise
