// weft-peer: the interop suite's weft peer, written against the C++ core.
// Usage (the contract shared with peer-go and peer-js, see README.md):
//   weft-peer listen [--listen-addr MA]
//   weft-peer dial MA [--pings N] [--echo-bytes N] [--perf-up N] [--perf-down N]
#include <csignal>
#include <cstdio>
#include <future>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "core/log.hpp"
#include "crypto/crypto.hpp"
#include "node/node.hpp"
#include "protocols/echo.hpp"
#include "protocols/perf.hpp"

using namespace weft;
using namespace std::chrono_literals;

namespace {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_string(items[i]);
  return out + "]";
}

void emit(const std::string& line) {
  std::cout << line << std::endl;  // one JSON object per line, flushed
}

int usage() {
  std::cerr << "usage: weft-peer listen [--listen-addr MA]\n"
               "       weft-peer dial MA [--pings N] [--echo-bytes N] [--perf-up N] [--perf-down N]\n";
  return 2;
}

void enable_stderr_logging() {
  if (const char* lvl = std::getenv("WEFT_LOG"); lvl && std::string(lvl) == "debug")
    log::set_sink(log::Level::debug, [](log::Level, std::string_view m) { std::cerr << m << "\n"; });
}

std::string identify_event(const PeerId& peer, const identify::Info& info) {
  return "{\"event\":\"identified\",\"peer_id\":" + json_string(peer.to_string()) +
         ",\"agent_version\":" + json_string(info.agent_version) +
         ",\"protocols\":" + json_list(info.protocols) + "}";
}

Task<void> report_identify(Node& n, std::shared_ptr<Connection> c) {
  auto info = co_await n.identify(c);
  if (info) emit(identify_event(c->remote_peer(), *info));
}

Task<void> report_identified_peers(Node& n) {
  std::set<std::uint64_t> seen;
  asio::steady_timer tick(n.io());
  for (;;) {
    for (const auto& c : n.connections()) {
      if (c->direction() != Direction::inbound || !seen.insert(c->id()).second) continue;
      asio::co_spawn(n.io(), report_identify(n, c), asio::detached);
    }
    tick.expires_after(20ms);  // re-armed every round
    auto [ec] = co_await tick.async_wait(use_tuple);
    if (ec) co_return;
  }
}

int run_listen(const std::string& listen_addr) {
  NodeConfig config;
  config.listen_addrs = {listen_addr};
  auto node = Node::create(config);
  if (!node) {
    std::cerr << "weft-peer: " << node.error().message() << "\n";
    return 1;
  }
  auto& n = **node;
  std::promise<void> done;
  std::once_flag once;
  auto finish = [&] { std::call_once(once, [&] { done.set_value(); }); };
  asio::signal_set signals(n.io(), SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code ec, int) { if (!ec) finish(); });
  if (auto st = n.start(); !st) {
    std::cerr << "weft-peer: " << st.error().message() << "\n";
    return 1;
  }
  std::vector<std::string> addrs;
  for (const auto& a : n.listen_addrs()) addrs.push_back(a.to_string() + "/p2p/" + n.peer_id().to_string());
  emit("{\"peer_id\":" + json_string(n.peer_id().to_string()) + ",\"addrs\":" + json_list(addrs) + "}");

  // Report each inbound connection once the remote has identified itself.
  asio::co_spawn(n.io(), report_identified_peers(n), asio::detached);

  std::thread stdin_watch([&] {
    char buf[256];
    while (std::fread(buf, 1, sizeof buf, stdin) > 0) {
    }
    finish();
  });
  stdin_watch.detach();
  done.get_future().wait();
  signals.cancel();
  n.stop(3000ms);
  return 0;
}

struct DialOptions {
  std::string addr;
  int pings = 10;
  std::size_t echo_bytes = 1 << 20;
  std::uint64_t perf_up = 64ull << 20;
  std::uint64_t perf_down = 64ull << 20;
};

double ms(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

Task<std::string> dial_session(Node& n, DialOptions opt) {
  std::ostringstream js;
  auto fail = [&](const std::string& step, const Error& e) {
    return "{\"ok\":false,\"error\":" + json_string(step + ": " + e.message()) + "}";
  };
  auto ma = Multiaddr::parse(opt.addr);
  if (!ma) co_return fail("address", ma.error());
  const auto t0 = std::chrono::steady_clock::now();
  auto conn = co_await n.dial(*ma);
  if (!conn) co_return fail("dial", conn.error());
  const double connect_ms = ms(std::chrono::steady_clock::now() - t0);
  // The first ping goes out at once: dial → first ping reply is the
  // connection setup time weft reports (setup_ms).
  std::vector<std::string> rtts;
  double setup_ms = 0;
  if (opt.pings > 0) {
    auto rtt = co_await n.ping(*conn);
    if (!rtt) co_return fail("ping", rtt.error());
    setup_ms = ms(std::chrono::steady_clock::now() - t0);
    std::ostringstream v;
    v << ms(*rtt);
    rtts.push_back(v.str());
  }
  auto info = co_await n.identify(*conn);
  if (!info) co_return fail("identify", info.error());
  const PeerId remote = (*conn)->remote_peer();

  for (int i = 1; i < opt.pings; ++i) {
    auto rtt = co_await n.ping(*conn);
    if (!rtt) co_return fail("ping", rtt.error());
    std::ostringstream v;
    v << ms(*rtt);
    rtts.push_back(v.str());
  }

  Bytes data(opt.echo_bytes);
  crypto::random_bytes(data);
  std::vector<std::string> echo_proto{std::string(echo::kProtocol)};
  auto echo_stream = co_await n.open_stream(*conn, echo_proto);
  if (!echo_stream) co_return fail("echo", echo_stream.error());
  auto reply = co_await n.run_on(*conn, echo::round_trip(*echo_stream->channel, data, data.size() + 1));
  if (!reply) co_return fail("echo", reply.error());
  const bool echo_match = *reply == data;

  std::vector<std::string> perf_proto{std::string(perf::kProtocol)};
  auto perf_stream = co_await n.open_stream(*conn, perf_proto);
  if (!perf_stream) co_return fail("perf", perf_stream.error());
  auto measured =
      co_await n.run_on(*conn, perf::run_client(*perf_stream->channel, opt.perf_up, opt.perf_down));
  if (!measured) co_return fail("perf", measured.error());

  js << "{\"ok\":" << (echo_match ? "true" : "false") << ",\"peer_id\":" << json_string(n.peer_id().to_string());
  if (!echo_match) js << ",\"error\":\"echo mismatch\"";
  js << ",\"remote_peer_id\":" << json_string(remote.to_string())
     << ",\"agent_version\":" << json_string(info->agent_version)
     << ",\"protocols\":" << json_list(info->protocols) << ",\"connect_ms\":" << connect_ms
     << ",\"setup_ms\":" << setup_ms
     << ",\"ping_rtts_ms\":[";
  for (std::size_t i = 0; i < rtts.size(); ++i) js << (i ? "," : "") << rtts[i];
  js << "],\"echo_bytes\":" << reply->size() << ",\"echo_match\":" << (echo_match ? "true" : "false")
     << ",\"perf\":{\"upload_bytes\":" << measured->uploaded
     << ",\"upload_seconds\":" << std::chrono::duration<double>(measured->upload_time).count()
     << ",\"download_bytes\":" << measured->downloaded
     << ",\"download_seconds\":" << std::chrono::duration<double>(measured->download_time).count()
     << "}}";
  co_return js.str();
}

int run_dial(const DialOptions& opt) {
  auto node = Node::create(NodeConfig{});
  if (!node) {
    std::cerr << "weft-peer: " << node.error().message() << "\n";
    return 1;
  }
  auto& n = **node;
  if (auto st = n.start(); !st) {
    std::cerr << "weft-peer: " << st.error().message() << "\n";
    return 1;
  }
  std::promise<std::string> result;
  asio::co_spawn(n.io(), dial_session(n, opt), [&](std::exception_ptr e, std::string line) {
    result.set_value(e ? std::string("{\"ok\":false,\"error\":\"unexpected exception\"}") : line);
  });
  auto fut = result.get_future();
  if (fut.wait_for(120s) != std::future_status::ready) {
    emit("{\"ok\":false,\"error\":\"timed out after 120 s\"}");
    n.stop(1000ms);
    std::_Exit(1);
  }
  std::string line = fut.get();
  emit(line);
  n.stop(2000ms);
  return line.rfind("{\"ok\":true", 0) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  enable_stderr_logging();
  if (argc < 2) return usage();
  const std::string cmd = argv[1];
  if (cmd == "listen") {
    std::string addr = "/ip4/127.0.0.1/tcp/0";
    for (int i = 2; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--listen-addr" && i + 1 < argc) addr = argv[++i];
      else return usage();
    }
    return run_listen(addr);
  }
  if (cmd == "dial" && argc >= 3) {
    DialOptions opt;
    opt.addr = argv[2];
    for (int i = 3; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) return usage();
      const std::string v = argv[++i];
      if (a == "--pings") opt.pings = std::stoi(v);
      else if (a == "--echo-bytes") opt.echo_bytes = std::stoull(v);
      else if (a == "--perf-up") opt.perf_up = std::stoull(v);
      else if (a == "--perf-down") opt.perf_down = std::stoull(v);
      else return usage();
    }
    return run_dial(opt);
  }
  return usage();
}
