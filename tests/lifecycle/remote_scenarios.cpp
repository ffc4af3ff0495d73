#include <atomic>
#include <iostream>
#include <memory>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "fault_proxy.hpp"
#include "lifecycle_util.hpp"
#include "records.hpp"
#include "remote_driver.hpp"
#include "scenarios.hpp"

namespace lcr {

using namespace std::chrono_literals;
using lc::Clock;
using lc::Event;

namespace {

std::string port_and_id(const std::string& target, std::uint16_t& port) {
  const auto tcp = target.find("/tcp/");
  const auto p2p = target.find("/p2p/");
  if (tcp == std::string::npos || p2p == std::string::npos) return "";
  port = static_cast<std::uint16_t>(std::stoul(target.substr(tcp + 5)));
  return target.substr(p2p + 5);
}

std::uint64_t ms(Clock::duration d) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// Closes the node and checks the process is back to `baseline`.
void close_and_compare(weft_node node, const lc::Snapshot& baseline) {
  lc::close_node(node);
  const std::string left = lc::settle_to(baseline);
  if (!left.empty()) lc::fail("left behind after close: " + left);
}

}  // namespace

// ---- seed 3 ------------------------------------------------------------------

void stop_under_load(const std::string& target, const Options& options, Result& r) {
  const auto conns = options.number("conns", 20);
  const auto streams = options.number("streams", 4);
  const auto deadline = std::chrono::milliseconds(options.number("deadline-ms", 1000));
  lc::warm_up_threads();
  const auto baseline = lc::Snapshot::take();
  // Our receive window stays at 256 KiB, so an echo we never read backs up
  // into the remote, which then stops reading what we write.
  weft_node node = lc::start_node(lc::with_limits(lc::kManyConnections,
                                                  {{WEFT_LIMIT_STREAM_RECEIVE_WINDOW_MAX, 256 * 1024},
                                                   {WEFT_LIMIT_PING_TIMEOUT_MS, 600000},
                                                   {WEFT_LIMIT_DIAL_TIMEOUT_MS, 600000},
                                                   {WEFT_LIMIT_HANDSHAKE_TIMEOUT_MS, 600000}}),
                                  2, false);
  lc::check_ok(weft_node_handle(node, "/lcr/never/1"), "weft_node_handle");
  auto stuck = std::make_unique<lc::NeverAccepting>();
  lc::Pump pump(node);
  std::unordered_map<std::uint64_t, Event> done;
  auto keep = [&](const Event& e) { done[e.token] = e; };
  std::uint64_t next = 1;
  std::vector<std::uint64_t> submitted;
  auto submit = [&](int status, const char* what) -> std::uint64_t {
    if (!lc::check_ok(status, what)) return 0;
    submitted.push_back(next - 1);
    return next - 1;
  };
  auto wait_all = [&](const std::vector<std::uint64_t>& tokens) {
    return pump.until([&] {
      for (auto t : tokens)
        if (!done.count(t)) return false;
      return true;
    }, keep, lc::slow(60s));
  };

  std::vector<std::uint64_t> dials;
  for (std::uint64_t i = 0; i < conns; ++i)
    dials.push_back(submit(weft_dial(node, target.c_str(), next++), "weft_dial"));
  if (!wait_all(dials)) lc::fail("dials to the remote did not complete");
  std::vector<weft_conn> connections;
  for (auto t : dials) {
    if (done.count(t) && done[t].status == WEFT_OK) connections.push_back(done[t].conn);
    else lc::fail("dial: " + (done.count(t) ? done[t].error : std::string("no completion")));
  }
  const char* echo[] = {"/echo/1.0.0"};
  std::vector<std::uint64_t> opens;
  for (auto c : connections)
    for (std::uint64_t s = 0; s <= streams; ++s)
      opens.push_back(submit(weft_open_stream(c, echo, 1, next++), "weft_open_stream"));
  if (!wait_all(opens)) lc::fail("streams to the remote did not open");
  std::vector<weft_stream> busy, idle;
  for (std::size_t i = 0; i < opens.size(); ++i) {
    const Event& e = done[opens[i]];
    if (e.status != WEFT_OK) {
      lc::fail("open_stream: " + e.error);
      continue;
    }
    (i % (streams + 1) == streams ? idle : busy).push_back(e.stream);
  }

  // Work left pending: writes the remote's echo stops taking, reads with
  // nothing to read, dials that never connect, accepts nobody serves.
  const std::vector<std::uint8_t> big(1 << 20, 0x42);
  std::vector<std::uint64_t> writes;
  for (auto s : busy)
    for (int k = 0; k < 2; ++k)
      writes.push_back(submit(weft_stream_write(s, big.data(), big.size(), next++), "weft_stream_write"));
  for (auto s : idle) submit(weft_stream_read(s, 4096, next++), "weft_stream_read");
  for (auto c : connections) {
    submit(weft_ping(c, next++), "weft_ping");
    submit(weft_identify(c, next++), "weft_identify");
  }
  const std::string stuck_addr = stuck->multiaddr();
  for (int i = 0; i < 10; ++i) submit(weft_dial(node, stuck_addr.c_str(), next++), "weft_dial");
  for (int i = 0; i < 10; ++i) submit(weft_accept_stream(node, "/lcr/never/1", next++), "weft_accept_stream");
  pump.until([] { return false; }, keep, 500ms);
  std::uint64_t writes_pending = 0;
  for (auto t : writes) writes_pending += done.count(t) == 0;
  r.set("connections", lc::stat(node, WEFT_STAT_CONNECTIONS));
  r.set("pending_at_stop", lc::stat(node, WEFT_STAT_PENDING_OPS));
  r.set("writes_pending_at_stop", writes_pending);

  // Submissions race the stop from another thread.
  struct Call {
    Clock::time_point started;
    std::uint64_t token;
    int status;
    std::string error;
  };
  std::vector<Call> calls;
  std::atomic<bool> racing{true};
  std::thread racer([&] {
    for (std::uint64_t round = 0; racing; ++round) {
      const auto t0 = Clock::now();
      const std::uint64_t token = (1ull << 40) + round;
      int st;
      switch (round % 3) {
        case 0: st = weft_dial(node, target.c_str(), token); break;
        case 1: st = weft_open_stream(connections[round % connections.size()], echo, 1, token); break;
        default: st = weft_accept_stream(node, "/lcr/never/1", token); break;
      }
      calls.push_back({t0, token, st, st == WEFT_OK ? "" : weft_last_error()});
      std::this_thread::sleep_for(300us);
    }
  });
  std::this_thread::sleep_for(50ms);
  const auto t_stop = Clock::now();
  lc::check_ok(weft_node_stop(node, static_cast<std::uint32_t>(deadline.count())), "weft_node_stop");
  const auto t_stopped = Clock::now();
  std::this_thread::sleep_for(50ms);
  racing = false;
  racer.join();
  r.set("stop_ms", ms(t_stopped - t_stop));
  r.set("deadline_ms", static_cast<std::uint64_t>(deadline.count()));
  if (t_stopped - t_stop > deadline + lc::stop_margin()) lc::fail("the stop overran its deadline");
  if (lc::stat(node, WEFT_STAT_PENDING_OPS) != 0) lc::fail("operations still pending after the stop");
  if (lc::stat(node, WEFT_STAT_CONNECTIONS) != 0) lc::fail("connections left after the stop");

  bool refused = false;
  std::uint64_t refused_while_stopping = 0;
  for (const auto& c : calls) {
    if (c.status == WEFT_OK) {
      submitted.push_back(c.token);
      if (refused || c.started >= t_stopped) lc::fail("a submission was accepted after the stop began refusing");
    } else {
      if (c.status != WEFT_ESTOPPED) lc::fail("a submission during the stop failed with: " + c.error);
      refused = true;
      if (c.started < t_stopped) ++refused_while_stopping;
    }
  }
  r.set("refused_while_stopping", refused_while_stopping);
  if (refused_while_stopping == 0) lc::fail("no submission was refused while the stop was in progress");
  pump.until([] { return false; }, keep, 100ms);
  for (auto t : submitted)
    if (pump.seen(t) != 1)
      lc::fail("token " + std::to_string(t) + " completed " + std::to_string(pump.seen(t)) + " times");
  r.set("operations", static_cast<std::uint64_t>(submitted.size()));
  stuck.reset();
  close_and_compare(node, baseline);
}

// ---- seed 4 ------------------------------------------------------------------

void cancel_storm(const std::string& target, const Options& options, Result& r) {
  const auto total = options.count("ops", 50000);
  lc::warm_up_threads();
  const auto baseline = lc::Snapshot::take();
  weft_node node = lc::start_node(lc::kManyConnections, 2, false);
  lc::check_ok(weft_node_handle(node, "/lcr/never/1"), "weft_node_handle");
  const weft_conn conn = lc::dial(node, target);
  const weft_stream echo = lc::open_stream(node, conn, "/echo/1.0.0");
  if (conn.id != 0 && echo.id != 0) {
    // The remote may reset streams over its own per-protocol limits.
    const auto f = lc::cancel_storm(node, conn, echo, target, "/lcr/never/1", total, 0x7e57, true);
    lc::report("cancel-storm: " + std::to_string(f.operations) + " operations in " + std::to_string(f.seconds) +
               " s" + f.table());
    r.set("operations", f.operations);
    r.set("seconds", f.seconds);
    r.set("writes", f.writes);
    r.set("echoed_bytes", f.echoed_bytes);
    std::uint64_t cancelled = 0, finished = 0;
    for (auto& kind : f.statuses)
      for (auto& moment : kind) {
        finished += moment[0];
        cancelled += moment[1];
      }
    r.set("cancelled", cancelled);
    r.set("finished", finished);
    if (lc::stat(node, WEFT_STAT_PENDING_OPS) != 0 || lc::live(lc::kLiveOperations) != 0)
      lc::fail("operations pending after the storm");
    // The node still works with this remote.
    lc::check_ok(weft_stream_free(echo), "weft_stream_free");
    lc::Pump pump(node);
    lc::check_ok(weft_ping(conn, 1), "weft_ping");
    bool pinged = false;
    pump.until([&] { return pinged; }, [&](const Event& e) {
      pinged = true;
      if (e.status != WEFT_OK) lc::fail("ping after the storm: " + e.error);
    }, lc::slow(10s));
    if (!pinged) lc::fail("no ping completion after the storm");
  }
  close_and_compare(node, baseline);
}

// ---- seed 5 ------------------------------------------------------------------

namespace {

// `writers` writers (one write pending each) on one echo stream, the echo
// read back with several reads pending and checked record by record.
double writers_run(weft_node node, weft_conn conn, std::uint32_t writers, std::uint32_t records, std::size_t size) {
  const weft_stream stream = lc::open_stream(node, conn, "/echo/1.0.0");
  if (stream.id == 0) return 0;
  lc::RecordChecker checker(writers);
  lc::Pump pump(node);
  std::vector<std::uint32_t> next(writers, 0);
  constexpr std::uint64_t kReadTag = 1ull << 62, kCloseTag = 1ull << 63;
  std::uint64_t reads = 0;
  int reads_pending = 0;
  bool eof = false;
  std::uint32_t finished = 0;
  auto submit_write = [&](std::uint32_t w) {
    const auto record = lc::make_record(w, next[w], size);
    lc::check_ok(weft_stream_write(stream, record.data(), record.size(), (std::uint64_t(w) << 32) | next[w]),
                 "weft_stream_write");
    ++next[w];
  };
  auto submit_read = [&] {
    if (lc::check_ok(weft_stream_read(stream, 65536, kReadTag | reads++), "weft_stream_read")) ++reads_pending;
  };
  const auto t0 = Clock::now();
  for (std::uint32_t w = 0; w < writers; ++w) submit_write(w);
  for (int i = 0; i < 4; ++i) submit_read();
  const bool ended = pump.until([&] { return eof && reads_pending == 0; }, [&](const Event& e) {
    if (e.token == kCloseTag) {
      if (e.status != WEFT_OK) lc::fail("close_write: " + e.error);
    } else if (e.token & kReadTag) {
      --reads_pending;
      if (e.status == WEFT_EOF) {
        eof = true;
      } else if (e.status != WEFT_OK) {
        lc::fail("read: " + e.error);
        eof = true;
      } else {
        checker.feed(e.data.data(), e.data.size());
        if (!eof) submit_read();
      }
    } else {
      const auto w = static_cast<std::uint32_t>(e.token >> 32);
      if (e.status != WEFT_OK) lc::fail("write: " + e.error);
      if (next[w] < records) submit_write(w);
      else if (++finished == writers) lc::check_ok(weft_stream_close_write(stream, kCloseTag), "close_write");
    }
  }, lc::slow(120s));
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!ended) lc::fail(std::to_string(finished) + " of " + std::to_string(writers) + " writers finished");
  const std::string wrong = checker.finish(std::vector<std::uint32_t>(writers, records));
  if (!wrong.empty()) lc::fail("echoed records: " + wrong);
  lc::check_ok(weft_stream_free(stream), "weft_stream_free");
  const double mbps = checker.bytes() / seconds / 1e6;
  lc::report("writers: " + std::to_string(writers) + " writer(s), " + std::to_string(checker.bytes() >> 20) +
             " MiB echoed in " + std::to_string(seconds) + " s = " + std::to_string(mbps) + " MB/s");
  return mbps;
}

}  // namespace

void writers(const std::string& target, const Options& options, Result& r) {
  const auto count = static_cast<std::uint32_t>(options.number("writers", 64));
  const auto records = static_cast<std::uint32_t>(options.number("records", 32));
  const auto size = static_cast<std::size_t>(options.number("size", 8192));
  lc::warm_up_threads();
  const auto baseline = lc::Snapshot::take();
  weft_node node = lc::start_node({{WEFT_LIMIT_STREAM_RECEIVE_WINDOW_MAX, 256 * 1024}}, 1, false);
  const weft_conn conn = lc::dial(node, target);
  if (conn.id != 0) {
    const double one = writers_run(node, conn, 1, records * count, size);
    const double many = writers_run(node, conn, count, records, size);
    r.set("one_writer_mbps", one);
    r.set("many_writers_mbps", many);
    r.set("writers", static_cast<std::uint64_t>(count));
    r.set("ratio", one > 0 ? many / one : 0.0);
  }
  close_and_compare(node, baseline);
}

// ---- seed 1 ------------------------------------------------------------------

void ping_faults(const std::string& target, const Options& options, Result& r) {
  std::uint16_t port = 0;
  const std::string remote_id = port_and_id(target, port);
  if (remote_id.empty()) {
    lc::fail("ping-faults needs /tcp/<port>/p2p/<id> in the target");
    return;
  }
  lc::warm_up_threads();
  const auto baseline = lc::Snapshot::take();
  const auto ping_timeout = lc::slow(200ms);
  const std::vector<lc::Limit> limits = {{WEFT_LIMIT_PING_TIMEOUT_MS, std::uint64_t(ping_timeout.count())},
                                         {WEFT_LIMIT_DIAL_TIMEOUT_MS, 5000},
                                         {WEFT_LIMIT_HANDSHAKE_TIMEOUT_MS, 5000}};
  weft_node pinger = lc::start_node(lc::with_limits(lc::kManyConnections, limits), 1, false);
  const std::uint64_t idle_timers = lc::quiet_snapshot().live[lc::kLiveTimers];
  lc::FaultProxy::Options proxy_options;
  proxy_options.min_gap = std::chrono::milliseconds(options.number("min-gap-ms", 10));
  proxy_options.max_gap = std::chrono::milliseconds(options.number("max-gap-ms", 40));
  proxy_options.max_stall = 2 * ping_timeout;
  proxy_options.max_delay_period = 2 * ping_timeout;
  proxy_options.max_chunk_delay = ping_timeout / 4;
  {
    lc::FaultProxy proxy(port, proxy_options);
    const auto f = lc::ping_through_faults(pinger, proxy.multiaddr(remote_id), proxy, options.count("cycles", 20000),
                                           static_cast<int>(options.number("conns", 16)),
                                           static_cast<int>(options.number("in-flight", 2)), lc::slow(20s));
    lc::report("ping-faults: " + f.text());
    r.set("cycles", f.cycles);
    r.set("successes", f.successes);
    r.set("failures", f.failures);
    r.set("recoveries", f.recoveries);
    r.set("longest_recovery_ms", static_cast<std::uint64_t>(f.longest_recovery.count()));
    for (int k = 0; k < lc::FaultProxy::kFaultKinds; ++k) {
      r.set(std::string("faults_") + lc::FaultProxy::fault_name(k), f.faults[k]);
      if (f.faults[k] == 0) lc::fail(std::string("no ") + lc::FaultProxy::fault_name(k) + " fault was injected");
    }
    if (f.failures == 0) lc::fail("no ping failed: the faults did not reach the pings");
    if (!lc::eventually([&] { return lc::stat(pinger, WEFT_STAT_CONNECTIONS) == 0; }, lc::slow(15s)))
      lc::fail("connections left after closing them all");
    if (!lc::eventually([&] { return lc::live(lc::kLiveTimers) == idle_timers; }, 5s))
      lc::fail("timers: " + std::to_string(lc::live(lc::kLiveTimers)) + ", an idle node holds " +
               std::to_string(idle_timers));
  }
  close_and_compare(pinger, baseline);
}

// ---- seed 2 ------------------------------------------------------------------

void stall_listen(const Options& options, Result& r) {
  const auto deadline = std::chrono::milliseconds(options.number("deadline-ms", 1000));
  lc::warm_up_threads();
  const auto baseline = lc::Snapshot::take();
  // Nothing times out by itself: only the stop ends these handshakes.
  weft_node node = lc::start_node(lc::with_limits(lc::kManyConnections,
                                                  {{WEFT_LIMIT_HANDSHAKE_TIMEOUT_MS, 600000},
                                                   {WEFT_LIMIT_NEGOTIATION_TIMEOUT_MS, 600000}}));
  {
    lc::FaultProxy proxy(lc::listen_port(node));
    // Each dialer's bytes stop somewhere in multistream, Noise or the first
    // Yamux frames.
    proxy.set_dialer_budget([rng = std::mt19937(7)]() mutable { return std::int64_t(rng() % 400); });
    std::cout << "{\"ready\": true, \"addr\": " << json_string(proxy.multiaddr(lc::peer_id(node))) << "}"
              << std::endl;
    std::string line;
    while (std::getline(std::cin, line) && line != "stop") {
    }
    const auto links = proxy.links_accepted();
    r.set("links", links);
    r.set("connections", lc::stat(node, WEFT_STAT_CONNECTIONS));
    r.set("handshaking", lc::stat(node, WEFT_STAT_HANDSHAKING));
    const auto t0 = Clock::now();
    lc::check_ok(weft_node_stop(node, static_cast<std::uint32_t>(deadline.count())), "weft_node_stop");
    const auto took = Clock::now() - t0;
    r.set("stop_ms", ms(took));
    if (took > deadline + lc::stop_margin()) lc::fail("the stop overran its deadline");
    // Every link's node side ended (the proxy saw EOF or a reset from it).
    if (!lc::eventually([&] { return proxy.links_with_upstream_open() == 0; }, 3s))
      lc::fail(std::to_string(proxy.links_with_upstream_open()) + " of " + std::to_string(links) +
               " connections were still open on the node's side after its stop");
    r.set("ended_by_node", proxy.upstream_endings());
    r.set("ended_by_dialer", proxy.dialer_endings());
  }
  close_and_compare(node, baseline);
}

}  // namespace lcr
