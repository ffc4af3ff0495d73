#include "driver.hpp"

#include <algorithm>
#include <cctype>
#include <climits>

#include "cli.hpp"

namespace weft_cli {

namespace {

constexpr std::uint32_t kDefaultStopTimeoutMs = 2000;
constexpr std::size_t kPollBatch = 64;

bool starts_with_ignoring_case(const std::string& text, const std::string& prefix) {
  if (text.size() < prefix.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
}

// A refused synchronous call: its status and weft_last_error's detail. A value the user typed
// that is malformed or names something unsupported is a usage error (`parse_exit`); a malformed
// file is not.
[[noreturn]] void fail_call(const std::string& what, int status, int parse_exit = kExitFailure) {
  std::string message = describe_failure(what, status, weft_last_error());
  const bool malformed =
      status == WEFT_EPARSE || status == WEFT_EINVAL || status == WEFT_EUNSUPPORTED;
  throw Failure{malformed ? parse_exit : kExitFailure, std::move(message)};
}

}  // namespace

std::string describe_failure(const std::string& what, int status, const std::string& detail) {
  const std::string reason = weft_strerror(status);
  if (detail.empty() || detail == reason) return what + ": " + reason;
  if (starts_with_ignoring_case(detail, reason)) return what + ": " + detail;
  return what + ": " + reason + ": " + detail;
}

void Completion::require_ok() const {
  if (!ok()) fail(describe_failure(what, status(), weft_event_error(event.get())));
}

std::string read_text(const std::function<int(char*, std::size_t, std::size_t*)>& fn,
                      const std::string& what) {
  std::string buffer(256, '\0');
  for (;;) {
    std::size_t needed = 0;
    const int status = fn(buffer.data(), buffer.size(), &needed);
    if (status == WEFT_OK) {
      buffer.resize(std::min(buffer.size(), needed ? needed - 1 : buffer.find('\0')));
      return buffer;
    }
    if (status != WEFT_ELIMIT || needed <= buffer.size()) fail_call(what, status);
    buffer.assign(needed, '\0');
  }
}

std::vector<std::string> split_lines(const char* text) {
  std::vector<std::string> lines;
  std::string current;
  for (const char* p = text ? text : ""; *p; ++p) {
    if (*p == '\n') {
      if (!current.empty()) lines.push_back(current);
      current.clear();
    } else {
      current += *p;
    }
  }
  if (!current.empty()) lines.push_back(current);
  return lines;
}

bool ensure_identity_file(const std::string& path) {
  const int status = weft_identity_generate_file(path.c_str());
  if (status == WEFT_OK) return true;
  if (status == WEFT_EBUSY) return false;  // it exists: use it as it is
  fail_call("create key file " + path, status);
}

double milliseconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

Driver::Driver(const NodeSetup& setup) : timeout_ms_(setup.timeout_ms) {
  if (timeout_ms_ > 0) deadline_ = Clock::now() + std::chrono::milliseconds(timeout_ms_);

  weft_config config{};
  if (int status = weft_config_new(&config); status != WEFT_OK)
    fail_call("create node configuration", status);
  try {
    for (const std::string& addr : setup.listen_addrs) {
      if (int status = weft_config_add_listen_addr(config, addr.c_str()); status != WEFT_OK)
        fail_call("listen address " + addr, status, kExitUsage);
    }
    if (!setup.key_file.empty()) {
      ensure_identity_file(setup.key_file);
      if (int status = weft_config_set_identity_file(config, setup.key_file.c_str());
          status != WEFT_OK)
        fail_call("key file " + setup.key_file, status);
    }
    if (int status = weft_node_new(config, &node_); status != WEFT_OK)
      fail_call("create node", status);
    weft_config_free(config);
    config = {};
    if (int status = weft_node_start(node_); status != WEFT_OK) {
      std::string what = "start node";
      for (std::size_t i = 0; i < setup.listen_addrs.size(); ++i)
        what += (i == 0 ? " listening on " : ", ") + setup.listen_addrs[i];
      fail_call(what, status);
    }
  } catch (...) {
    if (config.id) weft_config_free(config);
    shut_down(0);
    throw;
  }
}

Driver::~Driver() { shut_down(kDefaultStopTimeoutMs); }

void Driver::shut_down(std::uint32_t timeout_ms) {
  if (!node_.id) return;
  weft_node_stop(node_, timeout_ms);
  completed_.clear();
  pending_.clear();
  weft_node_close(node_);
  node_ = {};
}

std::string Driver::peer_id() const {
  return read_text([&](char* buf, std::size_t len, std::size_t* needed) {
    return weft_node_peer_id(node_, buf, len, needed);
  }, "read own peer id");
}

std::vector<std::string> Driver::listen_addrs() const {
  const std::string text = read_text([&](char* buf, std::size_t len, std::size_t* needed) {
    return weft_node_listen_addrs(node_, buf, len, needed);
  }, "read listen addresses");
  return split_lines(text.c_str());
}

std::uint64_t Driver::submit(std::string what, const std::function<int(std::uint64_t)>& call,
                             int parse_exit) {
  const std::uint64_t token = next_token_++;
  if (int status = call(token); status != WEFT_OK) fail_call(what, status, parse_exit);
  pending_.emplace(token, std::move(what));
  return token;
}

Completion Driver::wait(std::uint64_t token) {
  for (;;) {
    auto it = std::find_if(completed_.begin(), completed_.end(),
                           [&](const Completion& c) { return c.token == token; });
    if (it != completed_.end()) {
      Completion done = std::move(*it);
      completed_.erase(it);
      return done;
    }
    auto pending = pending_.find(token);
    if (pending == pending_.end()) fail("internal error: waiting for an operation never submitted");
    if (deadline_ && Clock::now() >= *deadline_) time_out(pending->second);
    poll_once(poll_timeout(std::nullopt));
  }
}

Completion Driver::wait_any() {
  for (;;) {
    if (!completed_.empty()) {
      Completion done = std::move(completed_.front());
      completed_.pop_front();
      return done;
    }
    if (pending_.empty()) fail("internal error: waiting with no operation pending");
    if (deadline_ && Clock::now() >= *deadline_) time_out(pending_.begin()->second);
    poll_once(poll_timeout(std::nullopt));
  }
}

void Driver::sleep_for(Clock::duration duration, const std::string& what) {
  const auto until = Clock::now() + duration;
  while (Clock::now() < until) {
    if (deadline_ && Clock::now() >= *deadline_) time_out(what);
    poll_once(poll_timeout(until));
  }
}

int Driver::poll_timeout(std::optional<Clock::time_point> until) const {
  std::optional<Clock::time_point> limit = deadline_;
  if (until && (!limit || *until < *limit)) limit = until;
  if (!limit) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*limit - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
}

void Driver::poll_once(int timeout_ms) {
  weft_event* events[kPollBatch];
  std::size_t count = 0;
  if (int status = weft_node_poll(node_, events, kPollBatch, timeout_ms, &count); status != WEFT_OK)
    fail_call("poll the node's events", status);
  for (std::size_t i = 0; i < count; ++i) {
    EventPtr event(events[i]);
    auto pending = pending_.find(weft_event_token(event.get()));
    if (pending == pending_.end()) continue;  // not ours to report: freed here
    completed_.push_back(Completion{pending->first, std::move(pending->second), std::move(event)});
    pending_.erase(pending);
  }
}

void Driver::time_out(const std::string& waiting_for) {
  // Cancellation is a request: the cancelled operations still complete, and shut_down collects
  // their events.
  for (const auto& [token, what] : pending_) weft_cancel(node_, token);
  fail(waiting_for + ": timed out after " + std::to_string(timeout_ms_) + " ms (--timeout)");
}

}  // namespace weft_cli
