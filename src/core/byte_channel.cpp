#include "core/byte_channel.hpp"

#include <algorithm>
#include <cstring>

namespace weft {

namespace {
// read_view's own buffer in the default implementation: one read's worth.
constexpr std::size_t kDefaultViewBufferSize = 64 * 1024;
}  // namespace

std::size_t ByteChannel::take_pushback(MutableBytesView buf) noexcept {
  const std::size_t n = std::min(buf.size(), pushback_.size() - pushback_pos_);
  std::memcpy(buf.data(), pushback_.data() + pushback_pos_, n);
  pushback_pos_ += n;
  if (pushback_pos_ == pushback_.size()) {
    pushback_.clear();
    pushback_pos_ = 0;
  }
  return n;
}

Task<Result<std::size_t>> ByteChannel::read_some(MutableBytesView buf) {
  if (buf.empty()) co_return Error{errc::invalid_argument, "read_some into an empty buffer"};
  if (pushback_pos_ < pushback_.size()) co_return take_pushback(buf);
  co_return co_await read_some_impl(buf);
}

std::size_t ByteChannel::read_ready(MutableBytesView buf) {
  if (buf.empty()) return 0;
  if (pushback_pos_ < pushback_.size()) return take_pushback(buf);
  return read_ready_impl(buf);
}

std::size_t ByteChannel::ready_piece() const noexcept {
  return pushback_pos_ < pushback_.size() ? 1 : ready_piece_impl();
}

Task<Status> ByteChannel::wait_ready() {
  if (pushback_pos_ < pushback_.size()) co_return Status{};
  co_return co_await wait_ready_impl();
}

Task<Status> ByteChannel::wait_ready_impl() { co_return Status{}; }

Task<Status> ByteChannel::read_exact(MutableBytesView buf) {
  std::size_t done = 0;
  while (done < buf.size()) {
    auto n = co_await read_some(buf.subspan(done));
    if (!n) co_return std::move(n).error();
    done += *n;
  }
  co_return Status{};
}

Task<Result<BytesView>> ByteChannel::read_view(std::size_t max) {
  if (max == 0) co_return Error{errc::invalid_argument, "read_view of 0 bytes"};
  if (pushback_pos_ < pushback_.size()) {
    // Copied out: the pushback buffer itself changes with the next unread().
    const std::size_t n = std::min(max, pushback_.size() - pushback_pos_);
    if (view_buffer_.size() < n) view_buffer_ = IoBuffer(std::max(n, kDefaultViewBufferSize));
    auto got = co_await read_some(view_buffer_.view().first(n));
    if (!got) co_return std::move(got).error();
    co_return BytesView(view_buffer_.data(), *got);
  }
  view_buffer_.reset();
  co_return co_await read_view_impl(max);
}

Task<Result<BytesView>> ByteChannel::read_view_impl(std::size_t max) {
  const std::size_t size = std::min(max, kDefaultViewBufferSize);
  IoBuffer buffer(size);
  auto n = co_await read_some_impl(buffer.view());
  if (!n) co_return std::move(n).error();
  view_buffer_ = std::move(buffer);
  co_return BytesView(view_buffer_.data(), *n);
}

Task<Result<Bytes>> ByteChannel::read_bytes(std::size_t max) {
  if (max == 0) co_return Error{errc::invalid_argument, "read_bytes of 0 bytes"};
  if (pushback_pos_ < pushback_.size()) {
    const std::size_t n = std::min(max, pushback_.size() - pushback_pos_);
    Bytes out(n);
    auto got = co_await read_some(MutableBytesView(out));
    if (!got) co_return std::move(got).error();
    co_return out;
  }
  co_return co_await read_bytes_impl(max);
}

Task<Result<Bytes>> ByteChannel::read_bytes_impl(std::size_t max) {
  auto view = co_await read_view_impl(max);
  if (!view) co_return std::move(view).error();
  co_return Bytes(view->begin(), view->end());
}

void ByteChannel::stage(BytesView data) { staged_.append(data); }

std::size_t ByteChannel::staged_size() const { return staged_.size(); }

Task<Status> ByteChannel::flush_staged() {
  if (staged_.empty()) co_return Status{};
  staged_.swap(flushing_);  // later stage() calls fill the next batch
  auto st = co_await write_all(flushing_.view());
  flushing_.release();
  co_return st;
}

void ByteChannel::unread(BytesView data) {
  if (data.empty()) return;
  // Keep the not-yet-consumed bytes after the returned ones.
  Bytes merged(data.begin(), data.end());
  merged.insert(merged.end(), pushback_.begin() + static_cast<std::ptrdiff_t>(pushback_pos_),
                pushback_.end());
  pushback_ = std::move(merged);
  pushback_pos_ = 0;
}

}  // namespace weft
