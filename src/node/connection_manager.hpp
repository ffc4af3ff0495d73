// ConnectionManager: the registry of every connection the node has, from
// accept()/connect() to the end, with the connection limits. Stopping the
// node halts it first: from then on nothing new is admitted.
//
// Thread-safe (a mutex; touched once per connection event, never per byte).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "node/config.hpp"
#include "node/connection.hpp"

namespace weft {

class ConnectionManager {
 public:
  explicit ConnectionManager(const Limits& limits) : limits_(limits) {}

  // Registers a connection that is about to connect / was just accepted.
  // Fails with errc::stopped after halt(), errc::limit_exceeded over a limit.
  Status admit(const std::shared_ptr<Connection>& conn);
  // The handshake finished: applies the per-peer limit.
  Status upgraded(const std::shared_ptr<Connection>& conn, const PeerId& peer);
  // The connection is gone (any state).
  void remove(const std::shared_ptr<Connection>& conn);

  void halt();
  bool halted() const;
  std::vector<std::shared_ptr<Connection>> snapshot() const;
  std::vector<std::shared_ptr<Connection>> connections_to(const PeerId& peer) const;
  // Blocks the calling (non-node) thread until no connection is left or the deadline passes.
  bool wait_empty(std::chrono::steady_clock::time_point deadline);

  struct Counts {
    std::size_t total = 0, inbound = 0, outbound = 0, handshaking = 0;
  };
  Counts counts() const;

 private:
  struct Entry {
    std::shared_ptr<Connection> conn;
    bool upgraded = false;
    PeerId peer;
  };
  const Limits& limits_;
  mutable std::mutex mu_;
  std::condition_variable empty_cv_;
  bool halted_ = false;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::unordered_map<PeerId, std::size_t> per_peer_;
  Counts counts_;
};

}  // namespace weft
