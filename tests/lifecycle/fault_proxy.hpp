// A TCP proxy on loopback that forwards between a dialer and an upstream
// listener and injects the faults real networks produce: it stalls (holds
// every byte for a while), delays (forwards each chunk late), drops (a clean
// close both ways) and resets (RST both ways, SO_LINGER 0). It can also
// freeze links for good, which makes a peer that never reads (the sender's
// TCP buffers fill up), and cut a dialer's bytes after a budget, which
// leaves a real client stuck at some point of its handshake.
//
// Runs on its own thread with its own io_context; every public member is
// thread-safe. Counters tell the test which faults happened.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace lc {

class FaultProxy {
 public:
  enum Fault : int { kStall = 0, kDelay = 1, kDrop = 2, kReset = 3 };
  static constexpr int kFaultKinds = 4;
  static const char* fault_name(int fault);

  struct Options {
    // Time between two faults (each hits one random link), drawn uniformly.
    std::chrono::milliseconds min_gap{5}, max_gap{20};
    // Upper bounds of a stall, of a period of delayed forwarding, and of the
    // delay of one chunk within such a period.
    std::chrono::milliseconds max_stall{400};
    std::chrono::milliseconds max_delay_period{300};
    std::chrono::milliseconds max_chunk_delay{20};
    // SO_RCVBUF of accepted sockets (0: the system's default). A small one
    // makes a frozen link fill the dialer's send buffer quickly.
    int receive_buffer = 0;
    std::uint64_t seed = 1;
  };

  FaultProxy(std::uint16_t upstream_port, Options options);
  explicit FaultProxy(std::uint16_t upstream_port) : FaultProxy(upstream_port, Options{}) {}
  ~FaultProxy();  // closes every link and joins the thread
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::uint16_t port() const { return port_; }
  // "/ip4/127.0.0.1/tcp/<port>" plus "/p2p/<peer_id>" when given.
  std::string multiaddr(const std::string& peer_id = "") const;

  void start_faults();
  // No new faults; stalls and delay periods in progress end at once.
  void stop_faults();
  // Every current link stops reading in both directions, for good.
  void freeze_all();
  // For links accepted from now on: after pick() bytes from the dialer (a
  // negative value: no limit) that direction is held for good; the other
  // keeps forwarding.
  void set_dialer_budget(std::function<std::int64_t()> pick);

  std::array<std::uint64_t, kFaultKinds> faults() const;
  std::size_t live_links() const;
  std::uint64_t links_accepted() const;
  // Links whose upstream side ended (EOF or reset) while the proxy had not
  // closed them itself.
  std::uint64_t upstream_endings() const;
  // Links whose dialer side ended that way.
  std::uint64_t dialer_endings() const;
  std::uint64_t bytes_from_dialers() const;
  // Open links whose upstream side has not ended yet.
  std::size_t links_with_upstream_open() const;

  struct Impl;

 private:
  std::uint16_t port_ = 0;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace lc
