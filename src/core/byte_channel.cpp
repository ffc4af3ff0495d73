#include "core/byte_channel.hpp"

#include <algorithm>
#include <cstring>

namespace weft {

Task<Result<std::size_t>> ByteChannel::read_some(MutableBytesView buf) {
  if (buf.empty()) co_return Error{errc::invalid_argument, "read_some into an empty buffer"};
  if (pushback_pos_ < pushback_.size()) {
    const std::size_t n = std::min(buf.size(), pushback_.size() - pushback_pos_);
    std::memcpy(buf.data(), pushback_.data() + pushback_pos_, n);
    pushback_pos_ += n;
    if (pushback_pos_ == pushback_.size()) {
      pushback_.clear();
      pushback_pos_ = 0;
    }
    co_return n;
  }
  co_return co_await read_some_impl(buf);
}

Task<Status> ByteChannel::read_exact(MutableBytesView buf) {
  std::size_t done = 0;
  while (done < buf.size()) {
    auto n = co_await read_some(buf.subspan(done));
    if (!n) co_return std::move(n).error();
    done += *n;
  }
  co_return Status{};
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
