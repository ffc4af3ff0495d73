// Helpers for the Noise tests: loopback TCP pairs, spawning coroutines on
// an io_context, a proxy channel that can tamper with bytes in transit, and
// raw framing for hand-made handshake peers.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "core/asio.hpp"
#include "core/byte_channel.hpp"
#include "net/tcp_channel.hpp"

namespace weft::test {

using ChannelPair = std::pair<std::unique_ptr<ByteChannel>, std::unique_ptr<ByteChannel>>;

// A connected loopback TCP pair: first is the dialler's end.
inline ChannelPair tcp_pair(asio::io_context& io) {
  asio::ip::tcp::acceptor acceptor(io,
                                   asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  asio::ip::tcp::socket server = acceptor.accept();
  return {std::make_unique<TcpChannel>(std::move(client)),
          std::make_unique<TcpChannel>(std::move(server))};
}

// Starts a task; its result lands in the returned slot when it completes.
template <typename T>
std::shared_ptr<std::optional<T>> spawn(asio::io_context& io, Task<T> task) {
  auto slot = std::make_shared<std::optional<T>>();
  asio::co_spawn(io, std::move(task), [slot](std::exception_ptr ep, T value) {
    if (ep) std::rethrow_exception(ep);
    slot->emplace(std::move(value));
  });
  return slot;
}

inline std::shared_ptr<bool> spawn(asio::io_context& io, Task<void> task) {
  auto done = std::make_shared<bool>(false);
  asio::co_spawn(io, std::move(task), [done](std::exception_ptr ep) {
    if (ep) std::rethrow_exception(ep);
    *done = true;
  });
  return done;
}

// Runs until every task finished; a test that would hang fails instead.
inline void run(asio::io_context& io, std::chrono::seconds limit = std::chrono::seconds(60)) {
  io.restart();
  io.run_for(limit);
  ASSERT_TRUE(io.stopped()) << "tasks still pending after " << limit.count() << " s";
}

// Passes everything through to an inner channel; on_write may change the
// outgoing bytes (a man in the middle flipping bits).
class ProxyChannel final : public ByteChannel {
 public:
  explicit ProxyChannel(std::unique_ptr<ByteChannel> inner) : inner_(std::move(inner)) {}

  std::function<void(Bytes&)> on_write;
  std::size_t bytes_written = 0;

  Task<Status> write_all(BytesView data) override {
    bytes_written += data.size();
    if (!on_write) co_return co_await inner_->write_all(data);
    Bytes copy(data.begin(), data.end());
    on_write(copy);
    co_return co_await inner_->write_all(copy);
  }
  Task<Status> close_write() override { co_return co_await inner_->close_write(); }
  void abort() override { inner_->abort(); }

 protected:
  Task<Result<std::size_t>> read_some_impl(MutableBytesView buf) override {
    co_return co_await inner_->read_some(buf);
  }

 private:
  std::unique_ptr<ByteChannel> inner_;
};

// 2-byte big-endian length-prefixed messages, as on the Noise wire.
inline Task<Status> write_frame(ByteChannel& ch, BytesView body) {
  Bytes frame{static_cast<std::uint8_t>(body.size() >> 8), static_cast<std::uint8_t>(body.size())};
  append(frame, body);
  co_return co_await ch.write_all(frame);
}

inline Task<Result<Bytes>> read_frame(ByteChannel& ch) {
  std::uint8_t header[2];
  if (auto st = co_await ch.read_exact(header); !st) co_return std::move(st).error();
  Bytes body(static_cast<std::size_t>(header[0]) << 8 | header[1]);
  if (auto st = co_await ch.read_exact(body); !st) co_return std::move(st).error();
  co_return body;
}

// Reads until end of stream or error; returns what was read and how it ended.
inline Task<std::pair<Bytes, errc>> read_to_end(ByteChannel& ch, std::size_t chunk = 65536) {
  Bytes all;
  Bytes buf(chunk);
  for (;;) {
    auto n = co_await ch.read_some(buf);
    if (!n) co_return std::make_pair(std::move(all), n.code());
    all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  }
}

}  // namespace weft::test
