// Scenarios run both by the test program (weft on both ends) and by the
// remote driver (a go-libp2p or js-libp2p peer on the other end). They check
// what holds whoever the remote is, through fail(), and return their
// figures; each caller adds the checks that need to know the remote.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "fault_proxy.hpp"
#include "lifecycle_util.hpp"

namespace lc {

// ---- seed 1: pings through faults ------------------------------------------

struct PingFaultFigures {
  std::uint64_t cycles = 0, successes = 0, failures = 0;
  std::uint64_t failed_dials = 0, recoveries = 0;
  std::chrono::milliseconds longest_recovery{0};
  double seconds = 0;
  std::array<std::uint64_t, FaultProxy::kFaultKinds> faults{};
  std::string text() const;
};

// `pinger` pings the peer behind `proxy` (`addr` is the proxy's address with
// the peer's /p2p/ id) on `connections` connections at once, back to back
// with `in_flight` pings pending on each, with faults on, until `cycles`
// pings completed. A failed ping closes its
// connection and dials again. Checks: pinging resumes on every connection
// within `resume_limit` of each failure and once the faults stop; every
// operation completes exactly once; all connections of `pinger` are gone at
// the end (closed by this function).
PingFaultFigures ping_through_faults(weft_node pinger, const std::string& addr, FaultProxy& proxy,
                                     std::uint64_t cycles, int connections, int in_flight,
                                     std::chrono::milliseconds resume_limit);

// ---- seed 4: cancellations ---------------------------------------------------

struct CancelFigures {
  std::uint64_t operations = 0, writes = 0, echoed_bytes = 0;
  double seconds = 0;
  static constexpr int kinds = 7, moments = 3;
  static constexpr int accept_kind = 5;  // nobody opens the streams it waits for
  // [kind][moment][0: finished with its own result, 1: WEFT_ECANCELED]
  std::uint64_t statuses[kinds][moments][2] = {};
  static const char* kind_name(int kind);
  static const char* moment_name(int moment);
  std::string table() const;
};

// `total` operations on `conn` and its echo stream `echo` (reads, writes,
// pings, stream opens, identify, accepts of `accept_protocol` that nobody
// opens, dials of `dial_addr`), in batches, each cancelled at a random
// moment: before it starts, while it runs, or after it completed. Checks:
// each completes exactly once, with its own result or WEFT_ECANCELED; a
// cancelled read returns no data (with `remote_may_refuse`, pings, opens,
// identify and dials may also fail: a remote with per-protocol stream limits
// resets what is over them); then closes the echo stream's write side,
// reads it to the end, and checks it carried each completed write whole and
// a prefix (possibly empty) of each cancelled one, in submission order.
CancelFigures cancel_storm(weft_node node, weft_conn conn, weft_stream echo, const std::string& dial_addr,
                           const char* accept_protocol, std::uint64_t total, std::uint64_t seed,
                           bool remote_may_refuse = false);

}  // namespace lc
