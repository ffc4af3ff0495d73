#include "lifecycle_util.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace lc {

// ---- size ------------------------------------------------------------------

double scale() {
  static const double value = [] {
    const char* text = std::getenv("WEFT_LIFECYCLE_SCALE");
    if (text == nullptr || *text == '\0') return 1.0;
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(v > 0) || v > 1e6) {
      std::cerr << "WEFT_LIFECYCLE_SCALE='" << text << "' is not a positive number; using 1\n";
      return 1.0;
    }
    return v;
  }();
  return value;
}

int sanitizer_divisor() {
#if defined(__SANITIZE_THREAD__)
  return 10;
#elif defined(__SANITIZE_ADDRESS__)
  return 4;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  return 10;
#elif __has_feature(address_sanitizer)
  return 4;
#else
  return 1;
#endif
#else
  return 1;
#endif
}

const char* build_kind() {
  switch (sanitizer_divisor()) {
    case 10: return "tsan";
    case 4: return "asan";
    default: return "plain";
  }
}

std::uint64_t scaled(std::uint64_t ci_count, std::uint64_t minimum) {
  const double v = static_cast<double>(ci_count) * scale() / sanitizer_divisor();
  return std::max<std::uint64_t>(minimum, static_cast<std::uint64_t>(v));
}

std::uint64_t seed(std::uint64_t fallback) {
  const char* text = std::getenv("WEFT_LIFECYCLE_SEED");
  if (text == nullptr || *text == '\0') return fallback;
  return fallback ^ (std::strtoull(text, nullptr, 10) * 0x9e3779b97f4a7c15ull);
}

std::chrono::milliseconds slow(std::chrono::milliseconds plain) {
  return plain * sanitizer_divisor();
}

std::chrono::milliseconds stop_margin() { return 2000ms + slow(500ms); }

void report(const std::string& line) { std::cerr << "[lifecycle] " << line << std::endl; }

namespace {
FailureHandler failure_handler = nullptr;
}

void set_failure_handler(FailureHandler handler) { failure_handler = handler; }

void fail(const std::string& what) {
  if (failure_handler != nullptr) {
    failure_handler(what);
  } else {
    std::cerr << "[lifecycle] check failed: " << what << std::endl;
  }
}

bool check_ok(int status, const std::string& what) {
  if (status == WEFT_OK) return true;
  fail(what + ": " + weft_strerror(status) + " (" + weft_last_error() + ")");
  return false;
}

// ---- leak accounting -------------------------------------------------------

const char* live_name(int what) {
  switch (what) {
    case kLiveNodes: return "nodes";
    case kLiveThreads: return "threads";
    case kLiveSockets: return "sockets";
    case kLiveTimers: return "timers";
    case kLiveConnections: return "connections";
    case kLiveStreams: return "streams";
    case kLiveOperations: return "operations";
    default: return "?";
  }
}

std::uint64_t live(int what) {
  std::uint64_t value = 0;
  const int st = weft_live_count(what, &value);
  check_ok(st, std::string("weft_live_count(") + live_name(what) + ")");
  return value;
}

namespace {
std::size_t count_entries(const char* path) {
  std::size_t n = 0;
  DIR* d = opendir(path);
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}
}  // namespace

// The directory stream itself holds one descriptor while it is read.
std::size_t fd_count() { return count_entries("/proc/self/fd") - 1; }
std::size_t thread_count() { return count_entries("/proc/self/task"); }

Snapshot Snapshot::take() {
  Snapshot s;
  s.fds = fd_count();
  s.threads = thread_count();
  for (int k = kLiveNodes; k <= kLiveOperations; ++k) s.live[k] = lc::live(k);
  return s;
}

std::string Snapshot::diff(const Snapshot& now) const {
  std::string out;
  auto add = [&](const char* what, std::uint64_t before, std::uint64_t after) {
    if (before == after) return;
    if (!out.empty()) out += ", ";
    out += std::string(what) + " " + std::to_string(before) + " -> " + std::to_string(after);
  };
  add("fds", fds, now.fds);
  add("threads", threads, now.threads);
  for (int k = kLiveNodes; k <= kLiveOperations; ++k)
    add((std::string("live ") + live_name(k)).c_str(), live[k], now.live[k]);
  return out;
}

Snapshot quiet_snapshot(std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  Snapshot last = Snapshot::take();
  for (;;) {
    std::this_thread::sleep_for(100ms);
    Snapshot now = Snapshot::take();
    if (now.diff(last).empty() || Clock::now() >= end) return now;
    last = now;
  }
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

std::string settle_to(const Snapshot& base, std::chrono::milliseconds limit) {
  std::string left;
  eventually([&] {
    left = base.diff(Snapshot::take());
    return left.empty();
  }, limit);
  return left;
}

void warm_up_threads() {
  const std::size_t before = thread_count();
  std::thread([] {}).join();
  // join() returns once the thread has finished, which can be a moment before
  // the kernel drops it from /proc/self/task: a baseline taken at once would
  // count it, and a check against that baseline would fail later.
  eventually([&] { return thread_count() <= before; }, 2s);
}

// ---- nodes -----------------------------------------------------------------

const std::vector<Limit> kManyConnections = {{WEFT_LIMIT_MAX_INBOUND_CONNECTIONS, 1024},
                                             {WEFT_LIMIT_MAX_OUTBOUND_CONNECTIONS, 1024},
                                             {WEFT_LIMIT_MAX_CONNECTIONS_PER_PEER, 1024},
                                             {WEFT_LIMIT_MAX_PENDING_HANDSHAKES, 1024}};

std::vector<Limit> with_limits(std::vector<Limit> base, const std::vector<Limit>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

weft_node start_node(const std::vector<Limit>& limits, unsigned io_threads, bool listen) {
  weft_config cfg{0};
  check_ok(weft_config_new(&cfg), "weft_config_new");
  if (listen) {
    check_ok(weft_config_add_listen_addr(cfg, "/ip4/127.0.0.1/tcp/0"), "weft_config_add_listen_addr");
  }
  check_ok(weft_config_set_io_threads(cfg, io_threads), "weft_config_set_io_threads");
  for (const auto& l : limits)
    check_ok(weft_config_set_limit(cfg, l.limit, l.value), "weft_config_set_limit");
  weft_node node{0};
  check_ok(weft_node_new(cfg, &node), "weft_node_new");
  check_ok(weft_config_free(cfg), "weft_config_free");
  check_ok(weft_node_start(node), "weft_node_start");
  return node;
}

std::string listen_addr(weft_node node) {
  char buf[2048];
  buf[0] = '\0';
  check_ok(weft_node_listen_addrs(node, buf, sizeof buf, nullptr), "weft_node_listen_addrs");
  std::string all(buf);
  return all.substr(0, all.find('\n'));
}

std::uint16_t listen_port(weft_node node) {
  const std::string addr = listen_addr(node);
  const auto at = addr.find("/tcp/");
  if (at == std::string::npos) return 0;
  return static_cast<std::uint16_t>(std::stoul(addr.substr(at + 5)));
}

std::string peer_id(weft_node node) {
  char buf[256];
  buf[0] = '\0';
  check_ok(weft_node_peer_id(node, buf, sizeof buf, nullptr), "weft_node_peer_id");
  return buf;
}

std::uint64_t stat(weft_node node, int which) {
  std::uint64_t v = 0;
  check_ok(weft_node_stat(node, which, &v), "weft_node_stat");
  return v;
}

void close_node(weft_node node) {
  check_ok(weft_node_stop(node, 0), "weft_node_stop");
  check_ok(weft_node_close(node), "weft_node_close");
}

NeverAccepting::NeverAccepting() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 0) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    fail("a never-accepting listener could not be set up");
  port_ = ntohs(addr.sin_port);
}

NeverAccepting::~NeverAccepting() {
  if (fd_ >= 0) ::close(fd_);
}

// ---- events ----------------------------------------------------------------

Event copy_event(const weft_event* e) {
  Event out;
  out.type = weft_event_type_of(e);
  out.token = weft_event_token(e);
  out.status = weft_event_status(e);
  out.error = weft_event_error(e);
  out.conn = weft_event_conn(e);
  out.stream = weft_event_stream(e);
  std::size_t len = 0;
  const std::uint8_t* d = weft_event_data(e, &len);
  if (len > 0) out.data.assign(d, d + len);
  out.count = weft_event_count(e);
  return out;
}

std::size_t Pump::poll(int timeout_ms, const std::function<void(const Event&)>& handle) {
  weft_event* evs[256];
  std::size_t n = 0;
  const int st = weft_node_poll(node_, evs, 256, timeout_ms, &n);
  check_ok(st, "weft_node_poll");
  for (std::size_t i = 0; i < n; ++i) {
    Event e = copy_event(evs[i]);
    weft_event_free(evs[i]);
    ++counts_[e.token];
    ++total_;
    handle(e);
  }
  return n;
}

bool Pump::until(const std::function<bool()>& done, const std::function<void(const Event&)>& handle,
                 std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= end) return false;
    poll(10, handle);
  }
  return true;
}

int Pump::seen(std::uint64_t token) const {
  auto it = counts_.find(token);
  return it == counts_.end() ? 0 : it->second;
}

std::vector<std::uint64_t> Pump::duplicates() const {
  std::vector<std::uint64_t> out;
  for (const auto& [token, n] : counts_)
    if (n > 1) out.push_back(token);
  return out;
}

namespace {

// Waits for the one event of `token` on a node with nothing else pending.
Event wait_one(weft_node node, std::uint64_t token, std::chrono::milliseconds limit) {
  Pump pump(node);
  Event got;
  bool have = false;
  pump.until([&] { return have; },
             [&](const Event& e) {
               if (e.token != token)
                 fail("unexpected event (token " + std::to_string(e.token) + ") while waiting for " +
                      std::to_string(token));
               if (e.token == token) {
                 got = e;
                 have = true;
               }
             },
             limit);
  if (!have)
    fail("no completion for token " + std::to_string(token) + " within " + std::to_string(limit.count()) + " ms");
  return got;
}

constexpr std::uint64_t kHelperToken = 0x7e57000000000000ull;

}  // namespace

weft_conn dial(weft_node node, const std::string& addr, std::chrono::milliseconds limit) {
  if (!check_ok(weft_dial(node, addr.c_str(), kHelperToken), "weft_dial")) return weft_conn{0};
  Event e = wait_one(node, kHelperToken, limit);
  if (e.status != WEFT_OK) fail("dial " + addr + ": " + e.error);
  return e.conn;
}

weft_stream open_stream(weft_node node, weft_conn conn, const char* protocol,
                        std::chrono::milliseconds limit) {
  const char* protos[] = {protocol};
  if (!check_ok(weft_open_stream(conn, protos, 1, kHelperToken + 1), "weft_open_stream")) return weft_stream{0};
  Event e = wait_one(node, kHelperToken + 1, limit);
  if (e.status != WEFT_OK) fail(std::string("open ") + protocol + ": " + e.error);
  return e.stream;
}

weft_stream accept_stream(weft_node node, const char* protocol, std::chrono::milliseconds limit) {
  if (!check_ok(weft_accept_stream(node, protocol, kHelperToken + 2), "weft_accept_stream")) return weft_stream{0};
  Event e = wait_one(node, kHelperToken + 2, limit);
  if (e.status != WEFT_OK) fail(std::string("accept ") + protocol + ": " + e.error);
  return e.stream;
}

}  // namespace lc
