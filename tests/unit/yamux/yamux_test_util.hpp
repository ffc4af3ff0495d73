// Test helpers for the yamux layer: an in-memory ByteChannel pair with
// bounded buffers (so a side that does not read applies backpressure), raw
// frame encoding/decoding, and a runner for coroutine test bodies.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include "core/byte_channel.hpp"
#include "core/wait_queue.hpp"
#include "yamux/frame.hpp"
#include "yamux/session.hpp"

namespace weft::test {

// Inside coroutine test bodies (ASSERT_* would `return`).
#define CO_ASSERT_TRUE(cond)                         \
  do {                                               \
    if (!(cond)) {                                   \
      ADD_FAILURE() << "assertion failed: " #cond;   \
      co_return;                                     \
    }                                                \
  } while (0)
#define CO_ASSERT_OK(expr)                                                  \
  do {                                                                      \
    auto&& co_assert_r_ = (expr);                                           \
    if (!co_assert_r_.ok()) {                                               \
      ADD_FAILURE() << #expr << " failed: " << co_assert_r_.error().message(); \
      co_return;                                                            \
    }                                                                       \
  } while (0)

struct PipeState {
  explicit PipeState(std::size_t cap) : capacity(cap) {}
  std::size_t capacity;
  std::deque<std::uint8_t> buf[2];  // buf[i]: bytes readable by end i
  bool write_closed[2] = {false, false};
  bool aborted = false;
  WaitQueue readable[2];
  WaitQueue writable[2];  // end i may write again (its peer read)
  std::uint64_t written[2] = {0, 0};
  std::uint64_t writes[2] = {0, 0};  // write_all calls by end i: the session's flushes
};

class PipeEnd final : public ByteChannel {
 public:
  PipeEnd(std::shared_ptr<PipeState> st, int side) : st_(std::move(st)), side_(side) {}

  Task<Status> write_all(BytesView data) override {
    auto st = st_;
    const int peer = 1 - side_;
    ++st->writes[side_];
    std::size_t done = 0;
    while (done < data.size()) {
      if (st->aborted) co_return Error{errc::reset, "pipe aborted"};
      if (st->write_closed[side_]) co_return Error{errc::closed, "pipe write side closed"};
      auto& out = st->buf[peer];
      if (out.size() >= st->capacity) {
        auto [ec] = co_await st->writable[side_].async_wait(use_tuple);
        if (ec) co_return Error{errc::canceled, "pipe write cancelled"};
        continue;
      }
      const std::size_t n = std::min(data.size() - done, st->capacity - out.size());
      out.insert(out.end(), data.begin() + done, data.begin() + done + n);
      done += n;
      st->written[side_] += n;
      st->readable[peer].notify_all();
    }
    co_return Status{};
  }

  Task<Status> close_write() override {
    st_->write_closed[side_] = true;
    st_->readable[1 - side_].notify_all();
    co_return Status{};
  }

  void abort() override {
    st_->aborted = true;
    for (int i = 0; i < 2; ++i) {
      st_->readable[i].notify_all();
      st_->writable[i].notify_all();
    }
  }

  PipeState& state() { return *st_; }

 protected:
  Task<Result<std::size_t>> read_some_impl(MutableBytesView buf) override {
    auto st = st_;
    while (true) {
      if (st->aborted) co_return Error{errc::reset, "pipe aborted"};
      auto& in = st->buf[side_];
      if (!in.empty()) {
        const std::size_t n = std::min(buf.size(), in.size());
        std::copy(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n), buf.begin());
        in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
        st->writable[1 - side_].notify_all();
        co_return n;
      }
      if (st->write_closed[1 - side_]) co_return Error{errc::eof, "pipe closed"};
      auto [ec] = co_await st->readable[side_].async_wait(use_tuple);
      if (ec) co_return Error{errc::canceled, "pipe read cancelled"};
    }
  }

 private:
  std::shared_ptr<PipeState> st_;
  int side_;
};

inline std::pair<std::unique_ptr<PipeEnd>, std::unique_ptr<PipeEnd>> make_pipe(
    std::size_t capacity = 8 << 20) {
  auto st = std::make_shared<PipeState>(capacity);
  return {std::make_unique<PipeEnd>(st, 0), std::make_unique<PipeEnd>(st, 1)};
}

inline Bytes frame(yamux::FrameType type, std::uint16_t flags, std::uint32_t id,
                   std::uint32_t length, BytesView payload = {}) {
  Bytes b(yamux::kHeaderSize);
  yamux::encode_header(yamux::make_header(type, flags, id, length), b.data());
  append(b, payload);
  return b;
}

struct RawFrame {
  yamux::FrameHeader h;
  Bytes payload;
};

// Reads one frame (with its payload for Data frames).
inline Task<Result<RawFrame>> read_frame(ByteChannel& ch) {
  std::uint8_t hdr[yamux::kHeaderSize];
  auto st = co_await ch.read_exact(hdr);
  if (!st.ok()) co_return std::move(st).error();
  RawFrame f{yamux::decode_header(hdr), {}};
  if (f.h.frame_type() == yamux::FrameType::data && f.h.length > 0) {
    f.payload.resize(f.h.length);
    auto st2 = co_await ch.read_exact(f.payload);
    if (!st2.ok()) co_return std::move(st2).error();
  }
  co_return f;
}

inline YamuxConfig quiet_config() {
  YamuxConfig c;
  c.initial_ping = false;
  c.keepalive_interval = std::chrono::milliseconds{0};
  return c;
}

// Drives io until `done` or the time limit; returns done.
inline bool run_until(asio::io_context& io, const bool& done,
                      std::chrono::milliseconds limit = std::chrono::seconds{30}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds{20});
    if (io.stopped()) io.restart();
  }
  return done;
}

// Suspends the calling coroutine for d.
inline Task<void> delay(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_tuple);
}

// Lets other ready coroutines on the strand run.
inline Task<void> yield_now() {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

// Polls pred every millisecond until it holds (true) or limit passes (false).
inline Task<bool> eventually(std::function<bool()> pred,
                             std::chrono::milliseconds limit = std::chrono::seconds{10}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    co_await delay(std::chrono::milliseconds{1});
  }
  co_return true;
}

// io_context + strand, plus running a coroutine body to completion.
class Harness {
 public:
  Harness() : strand_(asio::make_strand(io_)) {}
  asio::io_context& io() { return io_; }
  Executor strand() { return strand_; }

  // Runs body on the strand; fails the test if it does not finish in time.
  void run(std::function<Task<void>()> body,
           std::chrono::milliseconds limit = std::chrono::seconds{30}) {
    bool done = false;
    asio::co_spawn(strand_, std::move(body), [&](std::exception_ptr e) {
      done = true;
      if (e) std::rethrow_exception(e);
    });
    EXPECT_TRUE(run_until(io_, done, limit)) << "test body did not finish";
  }

  // Aborts the sessions and waits until they are down.
  void shutdown(std::initializer_list<std::shared_ptr<YamuxSession>> sessions) {
    for (auto& s : sessions) {
      if (s) s->abort(Error{errc::stopped, "test over"});
    }
    run([&]() -> Task<void> {
      for (auto& s : sessions) {
        if (s) co_await s->wait_closed();
      }
    }, std::chrono::seconds{10});
  }

 private:
  asio::io_context io_;
  Executor strand_;
};

// Two sessions over one in-memory pipe.
struct SessionPair {
  SessionPair(Harness& h, YamuxConfig client_cfg = {}, YamuxConfig server_cfg = {},
              std::size_t pipe_capacity = 8 << 20)
      : harness(h) {
    auto [a, b] = make_pipe(pipe_capacity);
    client = YamuxSession::create(h.strand(), std::move(a), true, client_cfg);
    server = YamuxSession::create(h.strand(), std::move(b), false, server_cfg);
    client->start();
    server->start();
  }
  ~SessionPair() { harness.shutdown({client, server}); }

  Harness& harness;
  std::shared_ptr<YamuxSession> client;
  std::shared_ptr<YamuxSession> server;
};

// A session against a peer driven by hand with raw frames.
struct RawPeer {
  RawPeer(Harness& h, bool session_is_client, YamuxConfig cfg = quiet_config(),
          std::size_t capacity = 8 << 20)
      : harness(h) {
    auto [a, b] = make_pipe(capacity);
    raw = std::move(b);
    session = YamuxSession::create(h.strand(), std::move(a), session_is_client, cfg);
    session->start();
  }
  ~RawPeer() { harness.shutdown({session}); }

  Task<void> send(const Bytes& b) {
    auto st = co_await raw->write_all(b);
    EXPECT_TRUE(st.ok()) << st.error().message();
  }
  // Bytes the session wrote that the raw side has not read.
  std::size_t unread() { return raw->state().buf[1].size(); }
  // How many times the session wrote to the connection (one per flush).
  std::uint64_t session_writes() { return raw->state().writes[0]; }

  Harness& harness;
  std::unique_ptr<PipeEnd> raw;
  std::shared_ptr<YamuxSession> session;
};

// Variadic rather than an initializer_list: GCC 12 rejects braced lists
// inside coroutine lambdas.
template <typename... Parts>
inline Bytes cat(const Parts&... parts) {
  Bytes all;
  (append(all, parts), ...);
  return all;
}

inline Bytes syn(std::uint32_t id, std::uint32_t delta = 0) {
  return frame(yamux::FrameType::window_update, yamux::flag::syn, id, delta);
}
inline Bytes data(std::uint32_t id, std::string_view s, std::uint16_t flags = 0) {
  return frame(yamux::FrameType::data, flags, id, static_cast<std::uint32_t>(s.size()), as_bytes(s));
}

inline Bytes pattern(std::size_t n, std::uint32_t seed) {
  Bytes b(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : b) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<std::uint8_t>(x >> 24);
  }
  return b;
}

inline Task<Result<Bytes>> read_to_end(ByteChannel& ch, std::size_t chunk = 64 * 1024) {
  Bytes all;
  Bytes buf(chunk);
  while (true) {
    auto n = co_await ch.read_some(buf);
    if (!n) {
      if (n.code() == errc::eof) co_return all;
      co_return std::move(n).error();
    }
    all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  }
}

}  // namespace weft::test
