// An in-memory duplex ByteChannel pair for tests: what one end writes the
// other reads. Single-threaded (use on one io_context thread).
#pragma once

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <utility>

#include "core/byte_channel.hpp"
#include "core/wait_queue.hpp"

namespace weft::test {

struct PipeBuffer {
  std::deque<std::uint8_t> data;
  bool write_closed = false;  // FIN
  bool aborted = false;
  WaitQueue readable;
};

class MemoryPipeEnd final : public ByteChannel {
 public:
  MemoryPipeEnd(std::shared_ptr<PipeBuffer> in, std::shared_ptr<PipeBuffer> out)
      : in_(std::move(in)), out_(std::move(out)) {}

  Task<Status> write_all(BytesView data) override {
    if (out_->aborted || in_->aborted) co_return Error{errc::reset, "pipe aborted"};
    if (out_->write_closed) co_return Error{errc::closed, "pipe write side closed"};
    out_->data.insert(out_->data.end(), data.begin(), data.end());
    out_->readable.notify_all();
    co_return Status{};
  }
  Task<Status> close_write() override {
    out_->write_closed = true;
    out_->readable.notify_all();
    co_return Status{};
  }
  void abort() override {
    in_->aborted = out_->aborted = true;
    in_->readable.notify_all();
    out_->readable.notify_all();
  }

 protected:
  Task<Result<std::size_t>> read_some_impl(MutableBytesView buf) override {
    for (;;) {
      if (in_->aborted) co_return Error{errc::reset, "pipe aborted"};
      if (!in_->data.empty()) {
        const std::size_t n = std::min(buf.size(), in_->data.size());
        std::copy_n(in_->data.begin(), n, buf.begin());
        in_->data.erase(in_->data.begin(), in_->data.begin() + static_cast<std::ptrdiff_t>(n));
        co_return n;
      }
      if (in_->write_closed) co_return Error{errc::eof, "pipe closed"};
      auto ec = co_await in_->readable.wait();
      if (ec) co_return Error{errc::canceled, "pipe read cancelled"};
    }
  }

 private:
  std::shared_ptr<PipeBuffer> in_, out_;
};

inline std::pair<std::unique_ptr<MemoryPipeEnd>, std::unique_ptr<MemoryPipeEnd>> memory_pipe() {
  auto a = std::make_shared<PipeBuffer>();
  auto b = std::make_shared<PipeBuffer>();
  return {std::make_unique<MemoryPipeEnd>(a, b), std::make_unique<MemoryPipeEnd>(b, a)};
}

// Runs a coroutine to completion on a fresh io_context and returns its value.
template <typename T>
T run_task(asio::io_context& io, Task<T> task) {
  std::optional<T> out;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(v));
  });
  io.run();
  io.restart();
  return std::move(*out);
}

}  // namespace weft::test
