// Process-wide counts of the resources weft holds right now: nodes, I/O
// threads, sockets, timers, connections, streams and pending C operations.
//
// They exist for leak accounting: after every node is closed each count is
// back where it started, and the lifecycle tests assert exactly that instead
// of guessing from timing. A resource is counted by embedding a LiveToken in
// the object that owns it, so the count follows the object's lifetime
// whatever path destroys it (error, cancellation, stop).
#pragma once

#include <atomic>
#include <cstdint>

#include "core/asio.hpp"

namespace weft {

// Stable values, shared with the C ABI's weft_live.
enum class Live : int {
  nodes = 1,
  threads = 2,
  sockets = 3,
  timers = 4,
  connections = 5,
  streams = 6,
  operations = 7,
};
inline constexpr int kLiveKinds = 7;

namespace detail {
std::atomic<std::int64_t>& live_counter(Live kind) noexcept;
}

// The current count; 0 for an unknown kind.
std::uint64_t live_count(Live kind) noexcept;

inline void live_add(Live kind, std::int64_t n = 1) noexcept {
  detail::live_counter(kind).fetch_add(n, std::memory_order_relaxed);
}
inline void live_sub(Live kind, std::int64_t n = 1) noexcept {
  detail::live_counter(kind).fetch_sub(n, std::memory_order_relaxed);
}

// Counts one live object of `kind` for as long as the object holding the
// token exists. Copying the holder counts the copy too.
template <Live kind>
class LiveToken {
 public:
  LiveToken() noexcept { live_add(kind); }
  LiveToken(const LiveToken&) noexcept { live_add(kind); }
  LiveToken& operator=(const LiveToken&) noexcept { return *this; }
  ~LiveToken() { live_sub(kind); }
};

// The only timer type weft uses: a steady timer that is counted.
class Timer : public asio::steady_timer {
 public:
  using asio::steady_timer::steady_timer;

 private:
  LiveToken<Live::timers> live_;
};

// A TCP socket being connected, counted until it is handed to a TcpChannel
// (which counts it from then on) or closed.
class Socket : public asio::ip::tcp::socket {
 public:
  using asio::ip::tcp::socket::socket;

 private:
  LiveToken<Live::sockets> live_;
};

// A listening socket, counted like a connected one.
class Acceptor : public asio::ip::tcp::acceptor {
 public:
  using asio::ip::tcp::acceptor::acceptor;

 private:
  LiveToken<Live::sockets> live_;
};

}  // namespace weft
