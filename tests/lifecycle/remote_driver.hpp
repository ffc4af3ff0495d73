// weft-lifecycle-remote: the lifecycle scenarios against a remote peer of
// another implementation (tests/lifecycle/test_remote_peers.py runs it
// against the go-libp2p and js-libp2p peers of tests/interop/). Written
// against the C ABI (plus the test-only proxy).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lcr {

// --name value options after the scenario and its target.
class Options {
 public:
  std::uint64_t number(const std::string& name, std::uint64_t fallback) const;
  // An iteration count: number() divided by lc::sanitizer_divisor(), at
  // least 1 (the result reports the divisor).
  std::uint64_t count(const std::string& name, std::uint64_t fallback) const;
  std::map<std::string, std::string> values;
};

// The one JSON object a run prints: figures, and "ok"/"error" from the
// checks (the first failure is the error).
class Result {
 public:
  void set(const std::string& key, double value);
  void set(const std::string& key, std::uint64_t value);
  void set(const std::string& key, const std::string& value);
  void fail(const std::string& what);
  bool ok() const { return error_.empty(); }
  std::string json() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;  // key, JSON text
  std::string error_;
  std::uint64_t failures_ = 0;
};

std::string json_string(const std::string& text);

// The scenarios; `target` is the remote's multiaddr with /p2p/.
void stop_under_load(const std::string& target, const Options& options, Result& result);
void cancel_storm(const std::string& target, const Options& options, Result& result);
void writers(const std::string& target, const Options& options, Result& result);
void ping_faults(const std::string& target, const Options& options, Result& result);
// Listens behind a proxy that cuts each dialer's bytes at a random point of
// its handshake; prints a ready line, waits for "stop" on stdin.
void stall_listen(const Options& options, Result& result);

}  // namespace lcr
