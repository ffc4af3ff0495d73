// Node configuration: every limit weft enforces has a default here and can be
// changed by the user (and through the C ABI's config setters).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/keys.hpp"
#include "noise/noise.hpp"
#include "yamux/yamux.hpp"
#include "mss/multistream.hpp"
#include "protocols/identify.hpp"
#include "protocols/perf.hpp"

namespace weft {

struct Limits {
  std::size_t max_inbound_connections = 256;
  std::size_t max_outbound_connections = 256;
  std::size_t max_connections_per_peer = 8;
  std::size_t max_pending_handshakes = 64;   // accepted or dialled, not yet upgraded
  std::chrono::milliseconds handshake_timeout{15000};   // TCP connect → muxer ready
  std::chrono::milliseconds negotiation_timeout{10000};  // multistream-select on a stream
  std::chrono::milliseconds dial_timeout{10000};         // DNS + TCP connect
  std::chrono::milliseconds ping_timeout{10000};
  std::chrono::milliseconds identify_timeout{10000};
  std::size_t max_streams_per_connection = 1024;         // overrides yamux.max_streams
  std::size_t identify_max_message_size = 8 * 1024;
  std::size_t multistream_max_message_size = 1024;
};

struct NodeConfig {
  std::optional<Identity> identity;         // generated when empty
  std::vector<std::string> listen_addrs;    // multiaddrs; "/ip4/127.0.0.1/tcp/0" etc.
  std::string agent_version;                // default "weft/<version>"
  // Threads that run the node's I/O. Zero: none; the application drives
  // the node from its own thread through Node::drive() (weft_node_poll in the
  // C ABI), which saves the two thread hand-offs of every request/response
  // round trip. I/O then progresses only while some thread drives.
  std::size_t io_threads = 1;
  // How long a thread that ran out of work (an I/O thread, or one in
  // Node::drive) keeps polling for more before it sleeps in the kernel; zero
  // (the default) sleeps at once. A wake-up from the kernel costs tens of
  // microseconds on many virtual machines, more than a small message's round
  // trip on one host, so spinning cuts such round trips by three quarters
  // there. The spin is adaptive (SpinPolicy): only while waits stay short,
  // the thread waits more than it works, and spins find work and keep their
  // CPU, with a back-off when they do not, so an idle or slow-paced node
  // never spins. At most half the process's CPUs (at least one) spin at
  // once, across all nodes. Not the default: where both ends share a
  // two-core machine, bulk uploads fell by a fifth and stream churn by a
  // tenth in the benchmark, as spinners hold CPUs the other end needs.
  std::chrono::microseconds io_spin{0};
  Limits limits;
  YamuxConfig yamux;
  perf::Config perf;
  bool enable_echo = true;                  // serve /echo/1.0.0
  bool enable_perf = true;                  // serve /perf/1.0.0
  // Noise handshake signatures of remotes already verified, so reconnecting
  // peers skip the costliest step of the handshake (noise/verified_signatures.hpp
  // says why that is sound). Null: verify every time. Copies of a
  // configuration share one memory, which is harmless: its entries are facts
  // about public keys, true for any node.
  std::shared_ptr<noise::VerifiedSignatures> noise_verified_signatures =
      std::make_shared<noise::VerifiedSignatures>();
};

}  // namespace weft
