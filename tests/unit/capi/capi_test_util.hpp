// Helpers for the C ABI tests: nodes on loopback, and a poller that sorts
// completion events by token and checks each token completes exactly once.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "weft.h"

namespace capi_test {

using namespace std::chrono_literals;

// A copy of an event's fields, so that the event can be freed at once.
struct Event {
  int type = 0;
  uint64_t token = 0;
  int status = -1;
  std::string error;
  weft_conn conn{0};
  weft_stream stream{0};
  std::string protocol;
  std::vector<uint8_t> data;
  uint64_t count = 0;
  std::string text, peer_id, protocols, addrs;
};

inline Event copy_event(const weft_event* e) {
  Event out;
  out.type = weft_event_type_of(e);
  out.token = weft_event_token(e);
  out.status = weft_event_status(e);
  out.error = weft_event_error(e);
  out.conn = weft_event_conn(e);
  out.stream = weft_event_stream(e);
  out.protocol = weft_event_protocol(e);
  size_t len = 0;
  const uint8_t* d = weft_event_data(e, &len);
  if (len > 0) out.data.assign(d, d + len);
  out.count = weft_event_count(e);
  out.text = weft_event_text(e);
  out.peer_id = weft_event_peer_id(e);
  out.protocols = weft_event_list(e, 0);
  out.addrs = weft_event_list(e, 1);
  return out;
}

// Drains a node's queue, keeping events by token.
class Poller {
 public:
  explicit Poller(weft_node node) : node_(node) {}

  // Polls once (waiting up to timeout_ms) and files what arrived.
  size_t poll_once(int timeout_ms) {
    weft_event* evs[64];
    size_t n = 0;
    int st = weft_node_poll(node_, evs, 64, timeout_ms, &n);
    EXPECT_EQ(st, WEFT_OK) << weft_last_error();
    for (size_t i = 0; i < n; ++i) {
      Event e = copy_event(evs[i]);
      weft_event_free(evs[i]);
      ++seen_[e.token];
      queued_.emplace(e.token, std::move(e));
    }
    return n;
  }

  // The (first) event of `token`, waiting up to `limit`.
  std::optional<Event> wait(uint64_t token, std::chrono::milliseconds limit = 20s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto it = queued_.find(token);
      if (it != queued_.end()) {
        Event e = std::move(it->second);
        queued_.erase(it);
        return e;
      }
      if (std::chrono::steady_clock::now() >= end) return std::nullopt;
      poll_once(20);
    }
  }

  // Like wait(), failing the test when nothing arrives.
  Event expect(uint64_t token, std::chrono::milliseconds limit = 20s) {
    auto e = wait(token, limit);
    EXPECT_TRUE(e.has_value()) << "no event for token " << token;
    return e.value_or(Event{});
  }

  // Polls for `d`, filing everything.
  void settle(std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) poll_once(10);
  }

  // How many events `token` has had so far (taken or not).
  int seen(uint64_t token) const {
    auto it = seen_.find(token);
    return it == seen_.end() ? 0 : it->second;
  }
  const std::map<uint64_t, int>& all_seen() const { return seen_; }

 private:
  weft_node node_;
  std::multimap<uint64_t, Event> queued_;
  std::map<uint64_t, int> seen_;
};

inline weft_node make_node(weft_config cfg = {0}, bool start = true) {
  weft_config own{0};
  if (cfg.id == 0) {
    EXPECT_EQ(weft_config_new(&own), WEFT_OK);
    EXPECT_EQ(weft_config_add_listen_addr(own, "/ip4/127.0.0.1/tcp/0"), WEFT_OK);
    cfg = own;
  }
  weft_node node{0};
  EXPECT_EQ(weft_node_new(cfg, &node), WEFT_OK) << weft_last_error();
  if (own.id != 0) EXPECT_EQ(weft_config_free(own), WEFT_OK);
  if (start) EXPECT_EQ(weft_node_start(node), WEFT_OK) << weft_last_error();
  return node;
}

inline std::string listen_addr(weft_node node) {
  char buf[1024];
  size_t needed = 0;
  EXPECT_EQ(weft_node_listen_addrs(node, buf, sizeof buf, &needed), WEFT_OK) << weft_last_error();
  std::string all(buf);
  return all.substr(0, all.find('\n'));
}

inline std::string peer_id(weft_node node) {
  char buf[128];
  EXPECT_EQ(weft_node_peer_id(node, buf, sizeof buf, nullptr), WEFT_OK);
  return buf;
}

// Dials `to` from `from`; returns the connection handle (zero on failure).
inline weft_conn dial(weft_node from, Poller& poller, weft_node to, uint64_t token = 1000) {
  EXPECT_EQ(weft_dial(from, listen_addr(to).c_str(), token), WEFT_OK) << weft_last_error();
  Event e = poller.expect(token);
  EXPECT_EQ(e.type, WEFT_EVENT_DIAL);
  EXPECT_EQ(e.status, WEFT_OK) << e.error;
  EXPECT_EQ(e.peer_id, peer_id(to));
  return e.conn;
}

inline size_t count_dir(const char* path) {
  size_t n = 0;
  DIR* d = opendir(path);
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}
inline size_t thread_count() { return count_dir("/proc/self/task"); }
inline size_t fd_count() { return count_dir("/proc/self/fd"); }
inline uint64_t live(int what) {
  uint64_t value = ~uint64_t{0};
  EXPECT_EQ(weft_live_count(what, &value), WEFT_OK);
  return value;
}

// Waits (bounded) until `pred` holds.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

inline uint64_t stat(weft_node node, int which) {
  uint64_t v = 0;
  EXPECT_EQ(weft_node_stat(node, which, &v), WEFT_OK) << weft_last_error();
  return v;
}

}  // namespace capi_test
