#include "scenarios.hpp"

#include <algorithm>
#include <random>
#include <unordered_map>
#include <vector>

namespace lc {

// ---- seed 1: pings through faults ------------------------------------------

namespace {

struct Slot {
  weft_conn conn{0};
  std::uint64_t generation = 0;  // bumped by every re-dial
  // No ping has succeeded since the failure that ended the previous
  // connection; when that was.
  bool recovering = false;
  Clock::time_point failed_at;
  std::uint64_t successes_after_faults = 0;
};

struct PendingPing {
  int type;  // WEFT_EVENT_DIAL or WEFT_EVENT_PING
  int slot;
  std::uint64_t generation;
};

}  // namespace

std::string PingFaultFigures::text() const {
  std::string faults_text;
  for (int k = 0; k < FaultProxy::kFaultKinds; ++k)
    faults_text += std::string(" ") + FaultProxy::fault_name(k) + "=" + std::to_string(faults[k]);
  return std::to_string(cycles) + " ping cycles in " + std::to_string(seconds) + " s (" + std::to_string(successes) +
         " ok, " + std::to_string(failures) + " failed), faults:" + faults_text + ", failed dials " +
         std::to_string(failed_dials) + ", recoveries " + std::to_string(recoveries) + ", longest recovery " +
         std::to_string(longest_recovery.count()) + " ms";
}

PingFaultFigures ping_through_faults(weft_node pinger, const std::string& addr, FaultProxy& proxy,
                                     std::uint64_t cycles, int connections, int in_flight,
                                     std::chrono::milliseconds resume_limit) {
  PingFaultFigures f;
  Pump pump(pinger);
  std::unordered_map<std::uint64_t, PendingPing> pending;
  std::uint64_t next_token = 1, submitted = 0;
  Clock::duration longest_recovery{};
  bool faults_on = true;
  std::vector<Slot> slots(connections);

  auto submit_dial = [&](int i) {
    const std::uint64_t token = next_token++;
    if (!check_ok(weft_dial(pinger, addr.c_str(), token), "weft_dial")) return;
    pending[token] = {WEFT_EVENT_DIAL, i, slots[i].generation};
    ++submitted;
  };
  auto submit_ping = [&](int i) {
    const std::uint64_t token = next_token++;
    if (!check_ok(weft_ping(slots[i].conn, token), "weft_ping on a live handle")) return;
    pending[token] = {WEFT_EVENT_PING, i, slots[i].generation};
    ++submitted;
  };
  // The connection of slot i failed: close it and dial again.
  auto replace = [&](int i) {
    Slot& s = slots[i];
    if (s.conn.id != 0) check_ok(weft_conn_close(s.conn), "weft_conn_close");
    s.conn = weft_conn{0};
    ++s.generation;
    if (!s.recovering) {
      s.recovering = true;
      s.failed_at = Clock::now();
    }
    submit_dial(i);
  };
  auto handle = [&](const Event& e) {
    auto it = pending.find(e.token);
    if (it == pending.end()) {
      fail("completion for unknown or completed token " + std::to_string(e.token));
      return;
    }
    const PendingPing p = it->second;
    pending.erase(it);
    Slot& s = slots[p.slot];
    if (p.type == WEFT_EVENT_DIAL) {
      if (e.status != WEFT_OK) {
        ++f.failed_dials;  // a fault hit the handshake: dial again
        submit_dial(p.slot);
        return;
      }
      s.conn = e.conn;
      for (int k = 0; k < in_flight; ++k) submit_ping(p.slot);
      return;
    }
    ++f.cycles;
    if (e.status == WEFT_OK) {
      ++f.successes;
      if (e.count == 0) fail("a successful ping measured 0 ns");
    } else {
      ++f.failures;
    }
    if (p.generation != s.generation) return;  // a ping of a connection already replaced
    if (e.status != WEFT_OK) {
      replace(p.slot);
      return;
    }
    if (s.recovering) {
      s.recovering = false;
      ++f.recoveries;
      longest_recovery = std::max(longest_recovery, Clock::now() - s.failed_at);
    }
    if (!faults_on) ++s.successes_after_faults;
    submit_ping(p.slot);
  };

  const auto started = Clock::now();
  proxy.start_faults();
  for (int i = 0; i < connections; ++i) submit_dial(i);
  bool stuck = false;
  while (f.cycles < cycles && !stuck) {
    pump.poll(10, handle);
    for (const Slot& s : slots) {
      if (s.recovering && Clock::now() - s.failed_at > resume_limit) {
        fail("a connection got no successful ping within " + std::to_string(resume_limit.count()) +
             " ms of a fault");
        stuck = true;
        break;
      }
    }
  }
  f.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  proxy.stop_faults();
  faults_on = false;
  f.faults = proxy.faults();
  if (!stuck && !pump.until([&] {
        return std::all_of(slots.begin(), slots.end(), [](const Slot& s) { return s.successes_after_faults > 0; });
      }, handle, resume_limit))
    fail("pinging did not resume on every connection once the faults stopped");

  // Close every connection and let each outstanding operation complete.
  for (Slot& s : slots) {
    if (s.conn.id != 0) check_ok(weft_conn_close(s.conn), "weft_conn_close");
    s.conn = weft_conn{0};
    ++s.generation;
  }
  auto drain = [&](const Event& e) {
    auto it = pending.find(e.token);
    if (it == pending.end()) {
      fail("completion for unknown or completed token " + std::to_string(e.token));
      return;
    }
    if (it->second.type == WEFT_EVENT_DIAL && e.status == WEFT_OK)
      check_ok(weft_conn_close(e.conn), "weft_conn_close");
    if (it->second.type == WEFT_EVENT_PING) ++f.cycles;
    pending.erase(it);
  };
  if (!pump.until([&] { return pending.empty(); }, drain, slow(20s)))
    fail(std::to_string(pending.size()) + " operations never completed");
  if (pump.total() != submitted || !pump.duplicates().empty())
    fail(std::to_string(submitted) + " operations submitted, " + std::to_string(pump.total()) + " completions, " +
         std::to_string(pump.duplicates().size()) + " tokens completed twice");
  f.longest_recovery = std::chrono::duration_cast<std::chrono::milliseconds>(longest_recovery);
  return f;
}

// ---- seed 4: cancellations ---------------------------------------------------

namespace {

enum Kind { kRead, kWrite, kPing, kOpen, kIdentify, kAccept, kDial, kKinds };
static_assert(kKinds == CancelFigures::kinds && kAccept == CancelFigures::accept_kind);
// Out of 100: mostly the cheap stream operations.
const int kWeights[kKinds] = {30, 30, 10, 10, 9, 10, 1};
enum Moment { kBefore, kDuring, kAfter, kMoments };
static_assert(kMoments == CancelFigures::moments);

constexpr std::uint8_t kMarker = 0xff;

// Write `id`'s bytes: a marker, the id in four 7-bit bytes, then a body that
// never contains the marker. A write's bytes, or any prefix of them, are
// thus told apart from the next write's in the echoed stream.
std::vector<std::uint8_t> write_bytes(std::uint32_t id, std::size_t len) {
  std::vector<std::uint8_t> out(len);
  out[0] = kMarker;
  for (int k = 0; k < 4; ++k) out[1 + k] = static_cast<std::uint8_t>((id >> (7 * k)) & 0x7f);
  for (std::size_t i = 5; i < len; ++i) out[i] = static_cast<std::uint8_t>((id * 31 + i) % 0xfe);
  return out;
}

struct Op {
  Kind kind;
  Moment moment;
  std::int64_t write = -1;  // index into the write log
  bool completed = false;
};

struct WriteRecord {
  std::uint32_t id;
  std::size_t len;
  int status = -1;
};

// "" if `echoed` is the concatenation, in submission order, of each
// completed write's bytes and a prefix (possibly empty) of each cancelled
// one's; else what is wrong.
std::string check_echo(const std::vector<std::uint8_t>& echoed, const std::vector<WriteRecord>& writes) {
  std::size_t pos = 0;
  for (const auto& w : writes) {
    const auto bytes = write_bytes(w.id, w.len);
    std::size_t seg_end = pos;
    if (pos < echoed.size() && echoed[pos] == kMarker) {
      seg_end = pos + 1;
      while (seg_end < echoed.size() && echoed[seg_end] != kMarker) ++seg_end;
    }
    const std::size_t seg_len = seg_end - pos;
    const bool is_prefix = seg_len > 0 && seg_len <= bytes.size() &&
                           std::equal(echoed.begin() + pos, echoed.begin() + seg_end, bytes.begin());
    if (w.status == WEFT_OK) {
      if (!is_prefix || seg_len != bytes.size())
        return "write " + std::to_string(w.id) + " (" + std::to_string(w.len) +
               " bytes, completed) is not at offset " + std::to_string(pos) + " of the echoed stream";
      pos = seg_end;
    } else if (is_prefix) {
      pos = seg_end;  // a cancelled write that sent some or all of its bytes
    }
  }
  if (pos != echoed.size())
    return std::to_string(echoed.size() - pos) + " echoed bytes at offset " + std::to_string(pos) +
           " belong to no write";
  return "";
}

}  // namespace

const char* CancelFigures::kind_name(int kind) {
  static const char* names[kKinds] = {"read", "write", "ping", "open_stream", "identify", "accept", "dial"};
  return kind >= 0 && kind < kKinds ? names[kind] : "?";
}

const char* CancelFigures::moment_name(int moment) {
  static const char* names[kMoments] = {"before start", "while running", "after completion"};
  return moment >= 0 && moment < kMoments ? names[moment] : "?";
}

std::string CancelFigures::table() const {
  std::string out;
  for (int k = 0; k < kKinds; ++k) {
    out += std::string("\n    ") + kind_name(k) + ":";
    for (int m = 0; m < kMoments; ++m)
      out += std::string(" ") + moment_name(m) + " " + std::to_string(statuses[k][m][1]) + " cancelled / " +
             std::to_string(statuses[k][m][0]) + " finished;";
  }
  return out;
}

CancelFigures cancel_storm(weft_node node, weft_conn conn, weft_stream echo, const std::string& dial_addr,
                           const char* accept_protocol, std::uint64_t total, std::uint64_t seed,
                           bool remote_may_refuse) {
  CancelFigures f;
  std::mt19937_64 rng(seed);
  Pump pump(node);
  std::unordered_map<std::uint64_t, Op> ops;
  std::vector<WriteRecord> writes;
  std::vector<std::uint8_t> echoed;
  std::uint64_t submitted = 0, completed = 0, next_token = 1;
  const char* echo_protocol[] = {"/echo/1.0.0"};

  auto handle = [&](const Event& e) {
    auto it = ops.find(e.token);
    if (it == ops.end()) {
      fail("completion for unknown token " + std::to_string(e.token));
      return;
    }
    Op& op = it->second;
    if (op.completed) {
      fail(std::string(CancelFigures::kind_name(op.kind)) + " token " + std::to_string(e.token) + " completed twice");
      return;
    }
    op.completed = true;
    ++completed;
    const bool cancelled = e.status == WEFT_ECANCELED;
    ++f.statuses[op.kind][op.moment][cancelled ? 1 : 0];
    const bool on_echo_stream = op.kind == kRead || op.kind == kWrite || op.kind == kAccept;
    if (!cancelled && e.status != WEFT_OK && (on_echo_stream || !remote_may_refuse))
      fail(std::string(CancelFigures::kind_name(op.kind)) + " failed: " + e.error);
    switch (op.kind) {
      case kRead:
        if (cancelled && !e.data.empty()) fail("a cancelled read returned data");
        echoed.insert(echoed.end(), e.data.begin(), e.data.end());
        break;
      case kWrite:
        writes[op.write].status = e.status;
        break;
      case kOpen:
        if (e.status == WEFT_OK) check_ok(weft_stream_free(e.stream), "weft_stream_free");
        break;
      case kDial:
        if (e.status == WEFT_OK) check_ok(weft_conn_close(e.conn), "weft_conn_close");
        break;
      case kAccept:
        if (!cancelled) fail("an accept completed though nobody opens that protocol");
        break;
      default:
        break;
    }
    // Cancelling a completed operation changes nothing and adds no event.
    if (op.moment == kAfter) check_ok(weft_cancel(node, e.token), "weft_cancel after completion");
  };

  auto submit = [&](std::uint64_t token, Kind kind) -> int {
    switch (kind) {
      case kRead: return weft_stream_read(echo, 1 + rng() % 512, token);
      case kWrite: {
        const auto id = static_cast<std::uint32_t>(writes.size());
        const auto bytes = write_bytes(id, 5 + rng() % 200);
        const int st = weft_stream_write(echo, bytes.data(), bytes.size(), token);
        if (st == WEFT_OK) {
          writes.push_back({id, bytes.size()});
          ops[token].write = id;
        }
        return st;
      }
      case kPing: return weft_ping(conn, token);
      case kOpen: return weft_open_stream(conn, echo_protocol, 1, token);
      case kIdentify: return weft_identify(conn, token);
      case kAccept: return weft_accept_stream(node, accept_protocol, token);
      case kDial: return weft_dial(node, dial_addr.c_str(), token);
      default: return WEFT_EINVAL;
    }
  };

  const auto started = Clock::now();
  constexpr std::uint64_t kBatch = 512;
  bool broken = false;
  while (submitted < total && !broken) {
    const std::uint64_t batch = std::min(kBatch, total - submitted);
    std::vector<std::uint64_t> batch_tokens, during;
    for (std::uint64_t i = 0; i < batch; ++i) {
      int pick = static_cast<int>(rng() % 100);
      int kind = kRead;
      while (pick >= kWeights[kind]) pick -= kWeights[kind++];
      const auto moment = static_cast<Moment>(rng() % kMoments);
      const std::uint64_t token = next_token++;
      ops[token] = Op{static_cast<Kind>(kind), moment};
      if (!check_ok(submit(token, static_cast<Kind>(kind)), CancelFigures::kind_name(kind))) {
        ops.erase(token);
        broken = true;
        break;
      }
      ++submitted;
      batch_tokens.push_back(token);
      if (moment == kBefore) check_ok(weft_cancel(node, token), "weft_cancel");
      if (moment == kDuring) during.push_back(token);
    }
    // While they run: cancel in random order, at random small intervals.
    std::shuffle(during.begin(), during.end(), rng);
    for (auto token : during) {
      if (rng() % 4 == 0) pump.poll(0, handle);
      const auto spin_until = Clock::now() + std::chrono::microseconds(rng() % 20);
      while (Clock::now() < spin_until) {
      }
      check_ok(weft_cancel(node, token), "weft_cancel");
    }
    // Everything that completes on its own does so; a read or an accept with
    // nothing to take is cancelled at the end of its batch.
    auto left = [&](bool include_waiting) {
      for (auto t : batch_tokens) {
        const Op& op = ops[t];
        if (!op.completed && (include_waiting || (op.kind != kRead && op.kind != kAccept))) return true;
      }
      return false;
    };
    if (!pump.until([&] { return !left(false); }, handle, slow(30s))) {
      fail("operations that cannot wait forever did not complete");
      broken = true;
    }
    pump.poll(1, handle);
    for (auto t : batch_tokens)
      if (!ops[t].completed) check_ok(weft_cancel(node, t), "weft_cancel");
    if (!pump.until([&] { return !left(true); }, handle, slow(30s))) {
      fail("cancelled operations did not complete");
      broken = true;
    }
  }
  f.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  pump.poll(50, handle);
  if (completed != submitted || pump.total() != submitted || !pump.duplicates().empty())
    fail(std::to_string(submitted) + " operations submitted, " + std::to_string(pump.total()) + " completions");

  // The echo stream carried exactly what the writes reported.
  bool eof = false;
  auto finish = [&](const Event& e) {
    if (e.type != WEFT_EVENT_READ) return;
    if (e.status == WEFT_EOF) {
      eof = true;
      return;
    }
    if (e.status != WEFT_OK) {
      fail("reading the echo's end: " + e.error);
      eof = true;
      return;
    }
    echoed.insert(echoed.end(), e.data.begin(), e.data.end());
    check_ok(weft_stream_read(echo, 65536, next_token++), "weft_stream_read");
  };
  check_ok(weft_stream_close_write(echo, next_token++), "weft_stream_close_write");
  check_ok(weft_stream_read(echo, 65536, next_token++), "weft_stream_read");
  if (!pump.until([&] { return eof; }, finish, slow(30s))) fail("the echo stream never ended");
  const std::string wrong = check_echo(echoed, writes);
  if (!wrong.empty()) fail("echo: " + wrong);
  f.operations = submitted;
  f.writes = writes.size();
  f.echoed_bytes = echoed.size();
  return f;
}

}  // namespace lc
