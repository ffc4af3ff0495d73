#include "node/node.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "core/log.hpp"
#include "core/spawn.hpp"
#include "net/tcp_channel.hpp"
#include "protocols/echo.hpp"
#include "protocols/ping.hpp"

namespace weft {

namespace {

// Margin after the stop deadline for aborted connections to unwind.
constexpr std::chrono::milliseconds kAbortMargin{2000};

// Completion for detached coroutines: nothing may escape a node thread.
auto log_exception(const char* what) {
  return [what](std::exception_ptr e) { log_escaped_exception(what, e); };
}

}  // namespace

// Handles a pushed identify message: replaces what we know of the remote.
Task<void> receive_identify_push(Stream s) {
  auto conn = s.connection;
  auto receiving =
      identify::receive(*s.channel, identify::Config{conn->node_.config().limits.identify_max_message_size});
  auto info = co_await std::move(receiving);
  if (!info) {
    s.channel->reset();
    co_return;
  }
  conn->identify_result_ = std::move(info);
  conn->identified_.notify_all();
  // The pusher closed its side after its message; closing ours ends the
  // stream. Left half open, it would stay in the session until the
  // connection ends: two stream objects per push, per connection.
  auto closing = s.channel->close_write();
  (void)co_await std::move(closing);
}

Result<std::unique_ptr<Node>> Node::create(NodeConfig config) {
  if (config.io_threads > 64)
    return Error{errc::invalid_argument, "io_threads must be between 0 and 64"};
  if (config.io_spin.count() < 0 || config.io_spin > std::chrono::milliseconds(10))
    return Error{errc::invalid_argument, "io_spin must be between 0 and 10 ms"};
  for (const auto& a : config.listen_addrs) {
    auto ma = Multiaddr::parse(a);
    if (!ma) return Error{ma.error().code, "listen address '" + a + "': " + ma.error().detail};
    WEFT_TRY(auto target, to_tcp_target(*ma));
    if (target.is_dns) return Error{errc::invalid_argument, "cannot listen on a DNS name: " + a};
  }
  if (config.agent_version.empty()) config.agent_version = std::string("weft/") + WEFT_VERSION_STRING;
  Identity identity = config.identity ? *config.identity : Identity::generate();
  return std::unique_ptr<Node>(new Node(std::move(config), std::move(identity)));
}

Node::Node(NodeConfig config, Identity identity)
    : config_(std::move(config)),
      identity_(std::move(identity)),
      io_(std::make_unique<IoContext>(static_cast<int>(config_.io_threads))),
      connections_(config_.limits) {
  install_builtin_handlers();
}

Node::~Node() {
  discard_pending_work();
  io_.reset();
}

void Node::discard_pending_work() {
  stop(std::chrono::milliseconds(0));
  acceptors_.clear();  // I/O objects go before their io_context's services
  io_->shutdown();  // destroys any coroutine frame still pending, while the members exist
}

void Node::install_builtin_handlers() {
  handlers_[std::string(ping::kProtocol)] = [](Stream s) -> Task<void> {
    if (!co_await ping::serve(*s.channel)) s.channel->reset();
  };
  handlers_[std::string(identify::kProtocol)] = [this](Stream s) -> Task<void> {
    auto sending = identify::send(*s.channel, local_identify_info(*s.connection));
    if (!co_await std::move(sending)) s.channel->reset();
  };
  handlers_[std::string(identify::kPushProtocol)] = receive_identify_push;
  if (config_.enable_echo)
    handlers_[std::string(echo::kProtocol)] = [](Stream s) -> Task<void> {
      if (!co_await echo::serve(*s.channel)) s.channel->reset();
    };
  if (config_.enable_perf)
    handlers_[std::string(perf::kProtocol)] = [this](Stream s) -> Task<void> {
      auto serving = perf::serve(*s.channel, config_.perf);
      if (!co_await std::move(serving)) s.channel->reset();
    };
}

identify::Info Node::local_identify_info(const Connection& conn) const {
  identify::Info info;
  info.public_key = identity_.public_key().encode();
  info.listen_addrs = listen_addrs();
  info.protocols = protocols();
  info.observed_addr = conn.remote_addr();
  info.protocol_version = std::string(identify::kProtocolVersion);
  info.agent_version = config_.agent_version;
  return info;
}

Status Node::set_stream_handler(const std::string& protocol, StreamHandler handler) {
  if (protocol.empty() || protocol.size() >= config_.limits.multistream_max_message_size ||
      protocol.find('\n') != std::string::npos)
    return Error{errc::invalid_argument, "invalid protocol id '" + protocol + "'"};
  if (!handler) return Error{errc::invalid_argument, "empty stream handler"};
  {
    std::unique_lock lock(handlers_mu_);
    handlers_[protocol] = std::move(handler);
  }
  push_identify_to_peers();
  return {};
}

void Node::remove_stream_handler(const std::string& protocol) {
  {
    std::unique_lock lock(handlers_mu_);
    if (handlers_.erase(protocol) == 0) return;
  }
  push_identify_to_peers();
}

void Node::push_identify_to_peers() {
  {
    std::lock_guard lock(state_mu_);
    if (state_ != State::running) return;
  }
  if (connections_.halted()) return;
  for (auto& c : connections_.snapshot())
    spawn_detached(c->strand(), c->push_identify(), "identify push");
}

std::vector<std::string> Node::protocols() const {
  std::shared_lock lock(handlers_mu_);
  std::vector<std::string> out;
  for (const auto& [p, h] : handlers_) out.push_back(p);
  return out;
}

std::optional<Node::StreamHandler> Node::handler_for(std::string_view protocol) const {
  std::shared_lock lock(handlers_mu_);
  auto it = handlers_.find(protocol);
  if (it == handlers_.end()) return std::nullopt;
  return it->second;
}

std::vector<Multiaddr> Node::listen_addrs() const {
  std::lock_guard lock(state_mu_);
  return listen_addrs_;
}

void Node::trace(std::string what) {
  std::lock_guard lock(state_mu_);
  stop_trace_.push_back(std::move(what));
}

std::vector<std::string> Node::stop_trace() const {
  std::lock_guard lock(state_mu_);
  return stop_trace_;
}

Status Node::listen(const Multiaddr& addr) {
  WEFT_TRY(auto target, to_tcp_target(addr));
  std::error_code ec;
  auto ip = asio::ip::make_address(target.host, ec);
  if (ec) return Error{errc::invalid_argument, "bad listen address " + target.host};
  asio::ip::tcp::endpoint ep(ip, target.port);
  auto acceptor = std::make_shared<Acceptor>(asio::make_strand(*io_));
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && ip.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error::from(ec, "listening on " + addr.to_string());
  auto bound = acceptor->local_endpoint(ec);
  if (ec) return Error::from(ec, "listening on " + addr.to_string());
  std::lock_guard lock(state_mu_);
  acceptors_.push_back(std::move(acceptor));
  listen_addrs_.push_back(from_tcp_endpoint(bound));
  return {};
}

Status Node::start() {
  {
    std::lock_guard lock(state_mu_);
    if (state_ != State::created) return Error{errc::invalid_argument, "the node was already started"};
  }
  for (const auto& a : config_.listen_addrs) {
    auto st = listen(*Multiaddr::parse(a));
    if (!st) {
      std::lock_guard lock(state_mu_);
      for (auto& acc : acceptors_) {
        std::error_code ec;
        acc->close(ec);
      }
      acceptors_.clear();
      listen_addrs_.clear();
      return st;
    }
  }
  std::lock_guard lock(state_mu_);
  state_ = State::running;
  work_.emplace(io_->get_executor());
  for (auto& acc : acceptors_) {
    auto ended = std::make_shared<std::promise<void>>();
    accept_loops_.push_back(ended->get_future());
    asio::co_spawn(acc->get_executor(), accept_loop(acc), [ended](std::exception_ptr e) {
      log_exception("accept loop")(e);
      ended->set_value();
    });
  }
  drivable_.store(true, std::memory_order_release);
  // A thread is counted from its creation (so the count is exact as soon as
  // start returns) until its function ends, just before the join.
  for (std::size_t i = 0; i < config_.io_threads; ++i) {
    live_add(Live::threads);
    try {
      threads_.emplace_back([this] {
        run_io_thread();
        live_sub(Live::threads);
      });
    } catch (...) {
      live_sub(Live::threads);
      throw;
    }
  }
  return {};
}

namespace {

// At most this many threads of the process (I/O threads and drivers) spin
// at once, whatever the number of nodes: a spinner holds a CPU, and more of
// them than half the CPUs would starve the threads that have work. A thread
// that finds no slot left reports its spin as lost_cpu, and backs off.
std::atomic<int> spin_slots{std::max(1, static_cast<int>(std::thread::hardware_concurrency() / 2))};

bool take_spin_slot() noexcept {
  int free = spin_slots.load(std::memory_order_relaxed);
  while (free > 0) {
    if (spin_slots.compare_exchange_weak(free, free - 1, std::memory_order_acquire)) return true;
  }
  return false;
}

void give_spin_slot() noexcept { spin_slots.fetch_add(1, std::memory_order_release); }

}  // namespace

SpinOutcome Node::spin_for_work(std::chrono::steady_clock::time_point until) {
  using Clock = std::chrono::steady_clock;
  if (!take_spin_slot()) return SpinOutcome::lost_cpu;
  auto outcome = SpinOutcome::found_nothing;
  for (auto round_start = Clock::now(); round_start < until && !io_->stopped();) {
    if (io_->poll() > 0) {
      outcome = SpinOutcome::found_work;
      break;
    }
    // Hands the CPU to any thread waiting for it; if one took it, the CPU
    // is wanted and the spin ends.
    std::this_thread::yield();
    const auto now = Clock::now();
    if (now - round_start > SpinPolicy::kLostCpu) {
      outcome = SpinOutcome::lost_cpu;
      break;
    }
    round_start = now;
  }
  give_spin_slot();
  return outcome;
}

void Node::run_io_thread() {
  if (config_.io_spin.count() <= 0) {
    io_->run();
    return;
  }
  using Clock = std::chrono::steady_clock;
  SpinPolicy policy(config_.io_spin);
  while (!io_->stopped()) {
    if (io_->poll() > 0) continue;
    const auto idle_since = Clock::now();
    if (policy.out_of_work(idle_since)) {
      const auto outcome = spin_for_work(idle_since + policy.spin());
      policy.spun(outcome, Clock::now());
      if (outcome == SpinOutcome::found_work) continue;
    }
    if (io_->run_one() == 0) break;  // stopped
    policy.woke(Clock::now());
  }
}

std::size_t Node::drive(std::chrono::steady_clock::time_point until) {
  if (!drivable_.load(std::memory_order_acquire)) return 0;
  drivers_.fetch_add(1, std::memory_order_acq_rel);
  // Everything ready first (a burst of completions is handled in one call),
  // then, with nothing ready, a spin as an I/O thread would (see
  // SpinPolicy), then a wait in the reactor for the next.
  using Clock = std::chrono::steady_clock;
  std::size_t ran = io_->poll();
  // The policy is consulted only when spinning is on: a node that never
  // spins takes no lock and reads no clock here.
  const bool spin_on = ran == 0 && config_.io_spin.count() > 0;
  if (spin_on) {
    const auto idle_since = Clock::now();
    bool spin = false;
    {
      std::lock_guard lock(driver_spin_mutex_);
      spin = driver_spin_.out_of_work(idle_since) && until > idle_since;
    }
    if (spin) {
      // A spin cut short by the caller's deadline counts as one that found
      // nothing: a caller polling with timeouts shorter than the spin must
      // not spin through every one of them.
      const auto outcome = spin_for_work(std::min(until, idle_since + config_.io_spin));
      if (outcome == SpinOutcome::found_work) ran = 1;
      std::lock_guard lock(driver_spin_mutex_);
      driver_spin_.spun(outcome, Clock::now());
    }
  }
  if (ran == 0 && drivable_.load(std::memory_order_acquire)) {
    ran = io_->run_one_until(until);
    if (ran > 0 && spin_on) {
      std::lock_guard lock(driver_spin_mutex_);
      driver_spin_.woke(Clock::now());
    }
  }
  drivers_.fetch_sub(1, std::memory_order_acq_rel);
  return ran;
}

bool Node::wait_until(const std::function<bool()>& done,
                      std::chrono::steady_clock::time_point deadline) {
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    // Short slices: done() may also turn true in another driving thread.
    drive(std::min(deadline, now + std::chrono::milliseconds(1)));
  }
  return true;
}

Task<void> Node::accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acceptor) {
  for (;;) {
    auto strand = asio::make_strand(*io_);
    auto [ec, socket] = co_await acceptor->async_accept(strand, use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      WEFT_LOG(warn, "accept failed: " + ec.message());
      // Resource exhaustion (EMFILE...): back off briefly with a fresh timer.
      Timer pause(acceptor->get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    auto conn = std::make_shared<Connection>(*this, strand, Direction::inbound, next_connection_id_++);
    auto raw = std::make_unique<TcpChannel>(std::move(socket));
    if (auto st = connections_.admit(conn); !st) {
      WEFT_LOG(debug, "inbound connection refused: " + st.error().message());
      raw->abort();
      continue;
    }
    launch(conn, std::move(raw), Multiaddr{});
  }
}

void Node::launch(const std::shared_ptr<Connection>& conn, std::unique_ptr<TcpChannel> raw,
                  Multiaddr dial_addr) {
  asio::co_spawn(conn->strand(), conn->run(std::move(raw), std::move(dial_addr)),
                 [this, conn](std::exception_ptr e) {
                   log_exception("connection")(e);
                   if (e) connections_.remove(conn);  // never leave it registered
                 });
}

Task<Result<std::shared_ptr<Connection>>> Node::dial(Multiaddr addr) {
  WEFT_CO_TRY(auto target, to_tcp_target(addr));
  (void)target;
  auto conn = std::make_shared<Connection>(*this, asio::make_strand(*io_), Direction::outbound,
                                           next_connection_id_++);
  WEFT_CO_CHECK(connections_.admit(conn));
  launch(conn, nullptr, std::move(addr));
  auto opening = run_on(conn, conn->opened());
  auto opened = co_await std::move(opening);
  if (!opened && opened.code() == errc::canceled) {
    // opened() aborts a connection whose dial was cancelled, but a dial
    // cancelled before opened() started never reached it: nobody will take
    // this connection, so it is not left behind.
    asio::post(conn->strand(), [conn] { conn->abort(Error{errc::canceled, "the dial was cancelled"}); });
  }
  co_return std::move(opened);
}

Task<Result<Stream>> Node::open_stream(std::shared_ptr<Connection> conn, std::vector<std::string> protocols) {
  if (!conn) co_return Error{errc::invalid_argument, "no connection"};
  if (protocols.empty()) co_return Error{errc::invalid_argument, "no protocol given"};
  co_return co_await run_on(conn, conn->open_stream(std::move(protocols)));
}

Task<Result<std::chrono::nanoseconds>> Node::ping(std::shared_ptr<Connection> conn) {
  if (!conn) co_return Error{errc::invalid_argument, "no connection"};
  co_return co_await run_on(conn, conn->ping(config_.limits.ping_timeout));
}

Task<Result<identify::Info>> Node::identify(std::shared_ptr<Connection> conn) {
  if (!conn) co_return Error{errc::invalid_argument, "no connection"};
  co_return co_await run_on(conn, conn->wait_identified());
}

NodeStats Node::stats() const {
  auto c = connections_.counts();
  NodeStats s;
  s.connections = c.total;
  s.inbound = c.inbound;
  s.outbound = c.outbound;
  s.handshaking = c.handshaking;
  s.connections_opened = connections_opened_;
  s.connections_failed = connections_failed_;
  return s;
}

void Node::stop(std::chrono::milliseconds deadline) {
  {
    std::lock_guard lock(state_mu_);
    if (state_ != State::running) {
      state_ = State::stopped;
      return;
    }
    state_ = State::stopped;
  }
  for (auto& t : threads_)
    if (t.get_id() == std::this_thread::get_id()) {
      // Stopping from a node thread would wait for itself: refuse loudly.
      WEFT_LOG(error, "Node::stop called from a node I/O thread; ignored");
      return;
    }
  const auto t_end = std::chrono::steady_clock::now() + deadline;

  // 1. The connection manager: nothing new from now on.
  connections_.halt();
  trace("connection manager");

  // 2. The transport's listeners, closed on their strands. Their accept
  //    loops are waited for: io_->stop() below discards handlers still
  //    queued, and a queued close or accepted socket would stay open (the
  //    kernel completing connections nobody serves) until ~Node.
  std::vector<std::future<void>> accept_loops;
  {
    std::lock_guard lock(state_mu_);
    accept_loops.swap(accept_loops_);
    for (auto& acc : acceptors_)
      asio::post(acc->get_executor(), [acc] {
        std::error_code ec;
        acc->close(ec);
      });
  }
  if (driven()) {
    wait_until(
        [&] {
          return std::all_of(accept_loops.begin(), accept_loops.end(), [](const auto& f) {
            return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
          });
        },
        std::chrono::steady_clock::now() + kAbortMargin);
  } else {
    for (auto& f : accept_loops) f.wait_for(kAbortMargin);
  }
  trace("listeners");

  // 3. Connections: graceful until the deadline (handshaking ones are
  //    aborted at once), then aborted.
  for (auto& c : connections_.snapshot())
    asio::post(c->strand(), [c] { c->shutdown(Error{errc::stopped, "the node is stopping"}); });
  // Without I/O threads, this thread drives the node while it waits.
  auto no_connections = [this] { return connections_.wait_empty({}); };
  auto wait_for_connections = [&](std::chrono::steady_clock::time_point until) {
    return driven() ? wait_until(no_connections, until) : connections_.wait_empty(until);
  };
  if (!wait_for_connections(t_end)) {
    for (auto& c : connections_.snapshot())
      asio::post(c->strand(), [c] { c->abort(Error{errc::stopped, "stop deadline passed"}); });
    wait_for_connections(std::chrono::steady_clock::now() + kAbortMargin);
  }
  trace("connections");

  // 4. Protocol handlers, in reverse order of installation.
  {
    std::unique_lock lock(handlers_mu_);
    handlers_.clear();
  }
  trace("protocol handlers");

  // 5. The I/O threads: let what remains drain, then stop the loop.
  work_.reset();
  drivable_.store(false, std::memory_order_release);
  io_->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Threads driving the node finish the handler they are running; drive()
  // runs none from now on.
  while (drivers_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
  {
    // No thread touches the listeners any more: one whose close never ran
    // (its thread was stuck past the margin) is closed here, and a stopped
    // node holds no socket.
    std::lock_guard lock(state_mu_);
    for (auto& acc : acceptors_) {
      std::error_code ec;
      acc->close(ec);
    }
    acceptors_.clear();
  }
  trace("io threads");
}

}  // namespace weft
