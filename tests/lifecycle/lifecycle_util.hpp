// Shared pieces of the lifecycle suite and its remote driver: the size
// knob, sanitizer scaling, leak accounting (weft_live_count, /proc/self/fd,
// /proc/self/task) and a lean event pump for runs with many thousands of
// operations. Free of GoogleTest: failed checks go to a handler (the test
// program makes them test failures, see gtest_glue.cpp).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "weft.h"

namespace lc {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---- size ------------------------------------------------------------------

// WEFT_LIFECYCLE_SCALE: 1 (default) is the CI size; soak runs (run.sh --long)
// multiply every iteration count and duration by it.
double scale();

// Sanitized builds run the same scenarios with iteration counts divided by
// this factor (1 in a plain build, 4 under ASan+UBSan, 10 under TSan), so the
// suite stays within CI time on 2 cores. Only the plain build carries the
// counts the issue demands; each scaled test says so in its output.
int sanitizer_divisor();
const char* build_kind();  // "plain", "asan", "tsan"

// ci_count * scale() / sanitizer_divisor(), at least `minimum`.
std::uint64_t scaled(std::uint64_t ci_count, std::uint64_t minimum = 1);
// The seed of a randomized test: `fallback`, mixed with WEFT_LIFECYCLE_SEED
// when set (run.sh --long sets a new one for every round; a failure report
// names it, so the run can be repeated).
std::uint64_t seed(std::uint64_t fallback);

// A duration that grows with sanitizer slowness (for timeouts, never counts).
std::chrono::milliseconds slow(std::chrono::milliseconds plain);

// How much longer than its deadline weft_node_stop may take: the node gives
// aborted connections 2 s to unwind (kAbortMargin in src/node/node.cpp),
// plus time to join its threads on a loaded machine.
std::chrono::milliseconds stop_margin();

// Prints a line of figures (to stderr: the driver's stdout carries JSON).
void report(const std::string& line);

// Failed checks inside these helpers go to the handler; without one they
// are printed.
using FailureHandler = void (*)(const std::string& what);
void set_failure_handler(FailureHandler handler);
void fail(const std::string& what);
// fail()s with the status and weft_last_error() unless status is WEFT_OK.
bool check_ok(int status, const std::string& what);

// ---- leak accounting -------------------------------------------------------

// The weft_live values, in the order Snapshot keeps them.
enum LiveKind : int {
  kLiveNodes = WEFT_LIVE_NODES,
  kLiveThreads = WEFT_LIVE_THREADS,
  kLiveSockets = WEFT_LIVE_SOCKETS,
  kLiveTimers = WEFT_LIVE_TIMERS,
  kLiveConnections = WEFT_LIVE_CONNECTIONS,
  kLiveStreams = WEFT_LIVE_STREAMS,
  kLiveOperations = WEFT_LIVE_OPERATIONS,
};
static_assert(kLiveNodes == 1 && kLiveOperations == 7, "Snapshot indexes live counts 1..7");
const char* live_name(int what);

// weft_live_count(what). Fails the test if the call fails.
std::uint64_t live(int what);

std::size_t fd_count();
std::size_t thread_count();

// Everything a node may hold, counted process-wide.
struct Snapshot {
  std::size_t fds = 0, threads = 0;
  std::array<std::uint64_t, 8> live{};  // indexed by weft_live

  static Snapshot take();
  // "" when equal, else what differs ("fds 12 -> 14, timers 0 -> 3").
  std::string diff(const Snapshot& now) const;
};

// A snapshot taken once the counts stopped moving (the same twice, 100 ms
// apart): short-lived streams and timers, e.g. of identify, have ended.
Snapshot quiet_snapshot(std::chrono::milliseconds limit = 10s);

// Waits (bounded) until `pred` holds; true if it did.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s);

// Waits until Snapshot::take() equals `base` (teardown finishing on other
// threads); returns the difference left after `limit` ("" when none).
std::string settle_to(const Snapshot& base, std::chrono::milliseconds limit = 10s);

// Call once before taking a baseline: runtimes that start a helper thread
// when the first thread is created (TSan does) get to do it now.
void warm_up_threads();

// ---- nodes -----------------------------------------------------------------

struct Limit {
  int limit;
  std::uint64_t value;
};

// Connection limits far above what the scenarios open (the defaults would
// refuse some of their connections), and `base` with `more` appended.
extern const std::vector<Limit> kManyConnections;
std::vector<Limit> with_limits(std::vector<Limit> base, const std::vector<Limit>& more);

// A started node listening on 127.0.0.1:0 (no listener with listen = false).
weft_node start_node(const std::vector<Limit>& limits = {}, unsigned io_threads = 1,
                     bool listen = true);
std::string listen_addr(weft_node node);  // first address, with /p2p/
std::uint16_t listen_port(weft_node node);
std::string peer_id(weft_node node);
std::uint64_t stat(weft_node node, int which);
void close_node(weft_node node);  // stop(0) + close, asserting both succeed

// A listener with the smallest backlog that never accepts: once its queue is
// full, connects to it stay in progress.
class NeverAccepting {
 public:
  NeverAccepting();
  ~NeverAccepting();
  NeverAccepting(const NeverAccepting&) = delete;
  NeverAccepting& operator=(const NeverAccepting&) = delete;
  std::string multiaddr() const { return "/ip4/127.0.0.1/tcp/" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// ---- events ----------------------------------------------------------------

// A copy of the fields of an event the suite looks at.
struct Event {
  int type = 0;
  std::uint64_t token = 0;
  int status = -1;
  std::string error;
  weft_conn conn{0};
  weft_stream stream{0};
  std::vector<std::uint8_t> data;
  std::uint64_t count = 0;
};
Event copy_event(const weft_event* e);

// Drains a node's queue into a handler and counts completions per token, so
// that "exactly once" is checked for every token the test submits.
class Pump {
 public:
  explicit Pump(weft_node node) : node_(node) {}
  // Polls once, waiting up to timeout_ms for the first event; runs `handle`
  // on each. Returns how many arrived.
  std::size_t poll(int timeout_ms, const std::function<void(const Event&)>& handle);
  // Polls until `done` holds or `limit` passes; true if it held.
  bool until(const std::function<bool()>& done, const std::function<void(const Event&)>& handle,
             std::chrono::milliseconds limit);
  // Completions seen for `token` (any type).
  int seen(std::uint64_t token) const;
  std::size_t distinct_tokens() const { return counts_.size(); }
  std::uint64_t total() const { return total_; }
  // Tokens with more than one completion.
  std::vector<std::uint64_t> duplicates() const;

 private:
  weft_node node_;
  std::unordered_map<std::uint64_t, int> counts_;
  std::uint64_t total_ = 0;
};

// Dials `addr` from `node` and waits for the connection (zero handle and a
// test failure when it fails).
weft_conn dial(weft_node node, const std::string& addr, std::chrono::milliseconds limit = 20s);
// Opens a stream for `protocol` on `conn`, waiting for it.
weft_stream open_stream(weft_node node, weft_conn conn, const char* protocol,
                        std::chrono::milliseconds limit = 20s);
// Takes the next inbound stream of `protocol` on `node`, waiting for it.
weft_stream accept_stream(weft_node node, const char* protocol,
                          std::chrono::milliseconds limit = 20s);

}  // namespace lc
