#include "remote.hpp"

namespace weft_cli {

NodeSetup dialer_setup(const CommandLine& line) {
  NodeSetup setup;
  setup.key_file = line.text("key");
  setup.timeout_ms = line.timeout_ms;
  return setup;
}

Connection dial(Driver& driver, const std::string& addr) {
  Connection connection;
  connection.addr = addr;
  const auto start = Clock::now();
  const std::uint64_t token = driver.submit(
      "dial " + addr,
      [&](std::uint64_t t) { return weft_dial(driver.node(), addr.c_str(), t); }, kExitUsage);
  Completion done = driver.wait(token);
  if (done.status() == WEFT_EPARSE) {
    // The multiaddr itself is wrong: the command line's fault, whichever side noticed it.
    throw Failure{kExitUsage, describe_failure(done.what, done.status(),
                                               weft_event_error(done.event.get()))};
  }
  done.require_ok();
  connection.connect_ms = milliseconds_between(start, Clock::now());
  connection.conn = weft_event_conn(done.event.get());
  connection.peer_id = weft_event_peer_id(done.event.get());
  return connection;
}

weft_stream open_stream(Driver& driver, const Connection& connection, const char* protocol) {
  const char* protocols[] = {protocol};
  const std::uint64_t token = driver.submit(
      std::string("open ") + protocol + " stream to " + connection.peer_id,
      [&](std::uint64_t t) { return weft_open_stream(connection.conn, protocols, 1, t); });
  Completion done = driver.wait(token);
  done.require_ok();
  return weft_event_stream(done.event.get());
}

double megabytes_per_second(std::uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0.0;
}

}  // namespace weft_cli
