// The driver: one weft node and its event queue, turned into straight-line code.
//
// Every asynchronous call is submitted through the driver with a fresh token. wait(token) polls
// the node until that operation completes; completions of other operations that arrive first are
// kept for whoever waits for them (wait or wait_any). The command's deadline (--timeout) is
// checked on every wait: when it passes, every pending operation is cancelled with weft_cancel
// and the command fails with a message naming what it was waiting for.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "weft.h"

namespace weft_cli {

using Clock = std::chrono::steady_clock;

struct EventFree {
  void operator()(weft_event* event) const { weft_event_free(event); }
};
using EventPtr = std::unique_ptr<weft_event, EventFree>;

// One finished operation: its event and the description given when it was submitted.
struct Completion {
  std::uint64_t token = 0;
  std::string what;
  EventPtr event;

  int type() const { return weft_event_type_of(event.get()); }
  int status() const { return weft_event_status(event.get()); }
  bool ok() const { return status() == WEFT_OK; }
  // Fails the command ("<what>: <reason>: <detail>") unless the operation succeeded.
  void require_ok() const;
};

struct NodeSetup {
  std::vector<std::string> listen_addrs;
  std::string key_file;  // empty: a fresh identity
  // The whole command's limit; 0: none. Reported in the timeout message.
  int timeout_ms = 0;
};

class Driver {
 public:
  // Creates and starts the node; fails the command if that is not possible.
  explicit Driver(const NodeSetup& setup);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  weft_node node() const { return node_; }
  std::string peer_id() const;
  std::vector<std::string> listen_addrs() const;
  // When the command must be done; nullopt without a limit.
  std::optional<Clock::time_point> deadline() const { return deadline_; }

  // Submits one asynchronous operation: `call` receives the token and returns the status of the
  // submission. A refused submission fails the command with weft_last_error's detail; if it was
  // refused as malformed (WEFT_EPARSE, WEFT_EINVAL), with exit status `parse_exit`.
  std::uint64_t submit(std::string what, const std::function<int(std::uint64_t token)>& call,
                       int parse_exit = 1);

  // The completion of `token`, waiting as long as the deadline allows.
  Completion wait(std::uint64_t token);
  // The next completion of any operation not yet claimed, in completion order.
  Completion wait_any();
  // Lets `duration` pass; completions arriving meanwhile are kept. `what` names the pause in
  // the timeout message.
  void sleep_for(Clock::duration duration, const std::string& what);
  std::size_t pending() const { return pending_.size(); }
  // Takes the events already queued without waiting (for callers that watch the event fd).
  void poll_ready() { poll_once(0); }

  // Stops the node (graceful until `timeout_ms`) and closes it; idempotent. The destructor does
  // this with a short timeout.
  void shut_down(std::uint32_t timeout_ms);

 private:
  // Moves whatever events arrive within `timeout_ms` into completed_.
  void poll_once(int timeout_ms);
  // Milliseconds poll may wait until `until` (and the deadline); -1 = no limit.
  int poll_timeout(std::optional<Clock::time_point> until) const;
  [[noreturn]] void time_out(const std::string& waiting_for);

  weft_node node_{};
  int timeout_ms_ = 0;
  std::optional<Clock::time_point> deadline_;
  std::uint64_t next_token_ = 1;
  std::map<std::uint64_t, std::string> pending_;  // submitted, not completed yet: token -> what
  std::deque<Completion> completed_;               // completed, not claimed yet, in order
};

// "<what>: <status text>: <detail>", without repeating the status text if the detail has it.
std::string describe_failure(const std::string& what, int status, const std::string& detail);

// Reads a text value through one of the API's (buf, buflen, needed) functions.
std::string read_text(const std::function<int(char* buf, std::size_t len, std::size_t* needed)>& fn,
                      const std::string& what);

// Lines of a '\n'-separated list, without empty ones.
std::vector<std::string> split_lines(const char* text);

// Creates the key file if it does not exist; true if it was created.
bool ensure_identity_file(const std::string& path);

double milliseconds_between(Clock::time_point from, Clock::time_point to);

}  // namespace weft_cli
