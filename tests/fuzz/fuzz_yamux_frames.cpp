// Fuzzes YamuxSession's receive path: arbitrary bytes as the remote's side of
// the connection, delivered in chunks of fuzzer-chosen sizes, while the local
// application accepts, reads, writes, half-closes and resets streams. The
// session must fail cleanly (or survive), never crash, read out of bounds,
// grow without bound, or leave anything running: io_context::run() must
// return, and every coroutine must have completed.
//
// Input layout: byte 0 = options (bit 0: we are the client; bit 1: open a
// stream of our own and write to it; bit 2: reset accepted streams instead of
// echoing; bit 3: the channel also hands out whole chunks through read_ready,
// as Noise does with frames, so payloads go straight into their streams),
// byte 1 = delivery chunk size, the rest = the remote's bytes.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/asio.hpp"
#include "yamux/yamux.hpp"

namespace {

using weft::Bytes;
using weft::BytesView;
using weft::MutableBytesView;

// Replays a fixed byte stream in chunks, then end of stream. Writes succeed
// and are dropped (as a remote that reads everything would).
class ScriptedChannel final : public weft::ByteChannel {
 public:
  ScriptedChannel(const std::uint8_t* data, std::size_t size, std::size_t chunk, bool pieces)
      : data_(data), size_(size), chunk_(chunk), pieces_(pieces) {}

  std::size_t read_ready_piece() const noexcept override { return pieces_ ? chunk_ : 0; }

  weft::Task<weft::Status> write_all(BytesView) override {
    if (aborted_) co_return weft::Error{weft::errc::reset, "aborted"};
    co_return weft::Status{};
  }
  weft::Task<weft::Status> close_write() override { co_return weft::Status{}; }
  void abort() override { aborted_ = true; }

 protected:
  weft::Task<weft::Result<std::size_t>> read_some_impl(MutableBytesView buf) override {
    if (aborted_) co_return weft::Error{weft::errc::reset, "aborted"};
    if (pos_ == size_) co_return weft::Error{weft::errc::eof, "end of input"};
    const std::size_t n = std::min({buf.size(), chunk_, size_ - pos_});
    std::copy(data_ + pos_, data_ + pos_ + n, buf.begin());
    pos_ += n;
    co_return n;
  }
  std::size_t read_ready_impl(MutableBytesView buf) override {
    const std::size_t n = std::min(chunk_, size_ - pos_);
    if (!pieces_ || aborted_ || n == 0 || n > buf.size()) return 0;
    std::copy(data_ + pos_, data_ + pos_ + n, buf.begin());
    pos_ += n;
    return n;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t chunk_;
  bool pieces_;
  std::size_t pos_ = 0;
  bool aborted_ = false;
};

weft::Task<void> serve(std::shared_ptr<weft::YamuxStream> s, bool reset, int* running) {
  Bytes buf(1000);
  std::size_t total = 0;
  while (true) {
    auto n = co_await s->read_some(buf);
    if (!n) break;
    total += *n;
    if (reset && total > 100) {
      s->reset();
      break;
    }
  }
  static const std::uint8_t reply[] = {'o', 'k'};
  (void)co_await s->write_all(reply);
  (void)co_await s->close_write();
  --*running;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool is_client = (data[0] & 1) != 0;
  const bool open_own = (data[0] & 2) != 0;
  const bool reset = (data[0] & 4) != 0;
  const bool pieces = (data[0] & 8) != 0;
  const std::size_t chunk = 1 + data[1] * 61u;

  asio::io_context io;
  auto strand = asio::make_strand(io);
  weft::YamuxConfig cfg;
  cfg.initial_ping = false;
  cfg.keepalive_interval = std::chrono::milliseconds{0};
  cfg.max_streams = 8;
  cfg.accept_backlog = 4;
  cfg.max_unacked_inbound = 4;
  cfg.read_buffer_size = 4096;  // frames straddle reads
  cfg.max_window = 1 << 20;
  cfg.close_timeout = std::chrono::milliseconds{100};
  auto session = weft::YamuxSession::create(
      strand, std::make_unique<ScriptedChannel>(data + 2, size - 2, chunk, pieces), is_client, cfg);
  session->start();

  int running = 0;
  asio::co_spawn(strand, [&]() -> weft::Task<void> {
    ++running;
    if (open_own) {
      auto s = co_await session->open_stream();
      if (s.ok()) {
        Bytes payload(300 * 1024, 0x5a);  // more than the initial window
        (void)co_await (*s)->write_all(payload);
        (void)co_await (*s)->close_write();
      }
    }
    while (true) {
      auto s = co_await session->accept_stream();
      if (!s.ok()) break;
      ++running;
      asio::co_spawn(strand, serve(*s, reset, &running), asio::detached);
    }
    co_await session->wait_closed();
    --running;
  }, asio::detached);

  io.run();
  // Everything completed: the session is down and no coroutine is stuck.
  if (running != 0 || session->is_open()) __builtin_trap();
  return 0;
}
