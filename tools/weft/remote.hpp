// What the dialing commands share: a node without listen addresses, one connection to the
// multiaddr on the command line, and streams on it.
#pragma once

#include <string>

#include "cli.hpp"
#include "driver.hpp"

namespace weft_cli {

struct Connection {
  weft_conn conn{};
  std::string addr;
  std::string peer_id;  // the remote's
  double connect_ms = 0;
};

// Frees the stream handle (resetting the stream if it is not fully closed) when it goes away.
class Stream {
 public:
  explicit Stream(weft_stream stream) : stream_(stream) {}
  ~Stream() { weft_stream_free(stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  weft_stream get() const { return stream_; }

 private:
  weft_stream stream_;
};

// The node setup of ping, echo, perf and identify: no listen address, --key if given.
NodeSetup dialer_setup(const CommandLine& line);

// Dials and waits for the secured, multiplexed connection; connect_ms is measured around it.
Connection dial(Driver& driver, const std::string& addr);

// Opens a stream negotiating `protocol`.
weft_stream open_stream(Driver& driver, const Connection& connection, const char* protocol);

// Bytes per second as MB/s (10^6 bytes); 0 for an empty interval.
double megabytes_per_second(std::uint64_t bytes, double seconds);

}  // namespace weft_cli
