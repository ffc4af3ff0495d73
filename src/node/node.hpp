// Node: a libp2p host over TCP + Noise + Yamux, the C++ core's top object.
//
// Lifecycle: create → start → stop(deadline) → destroy. All protocol state
// runs on the node's own I/O thread(s); each connection on its own strand.
//
// Threading contract of this C++ API:
//  - create/start/stop/set_stream_handler/stats/peer_id/listen_addrs are
//    thread-safe; stop() must not be called from a node I/O thread.
//  - The Task-returning operations are coroutines to run on this node's
//    io_context (co_spawn them on executor()); they hop to the connection's
//    strand themselves.
//  - A Stream's channel is used only on its connection's strand: stream
//    handlers already run there; elsewhere use run_on(conn, coroutine).
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "core/live.hpp"
#include "core/spawn.hpp"
#include "node/config.hpp"
#include "noise/ephemeral_keys.hpp"
#include "node/connection.hpp"
#include "node/connection_manager.hpp"
#include "node/spin_policy.hpp"

namespace weft {

struct NodeStats {
  std::size_t connections = 0, inbound = 0, outbound = 0, handshaking = 0;
  std::uint64_t connections_opened = 0, connections_failed = 0;
};

class Node {
 public:
  using StreamHandler = std::function<Task<void>(Stream)>;

  static Result<std::unique_ptr<Node>> create(NodeConfig config);
  ~Node();  // stops with a zero deadline if still running
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Binds every listen address and starts the I/O threads.
  Status start();

  // A node without I/O threads (io_threads 0) runs its I/O in the threads
  // that call drive(): the handlers ready now, or else the first one to
  // become ready before `until`. Returns how many handlers ran; 0 once the
  // node is stopped (drive() then returns at once) or at `until`. Several
  // threads may drive at once. Any node may be driven, but a node with I/O
  // threads never needs it.
  std::size_t drive(std::chrono::steady_clock::time_point until);
  bool driven() const { return config_.io_threads == 0; }
  // Whether the node's I/O has stopped for good (after stop()).
  bool io_stopped() const { return io_->stopped(); }
  // Halts the connection manager (no new dials, accepts or streams), closes
  // the listeners, closes connections gracefully until `deadline`, aborts
  // whatever is left, then stops the I/O threads. Idempotent; returns within
  // the deadline plus a bounded margin whatever peers do.
  void stop(std::chrono::milliseconds deadline);
  // After stop(): destroys the coroutine frames and handlers still queued in
  // the io_context, while its services live. Objects that outlive the node
  // but hold its strands (the C ABI's operations) must be released after
  // this and before the node is destroyed: a strand's destructor uses its
  // service. Idempotent; ~Node does the same.
  void discard_pending_work();

  const PeerId& peer_id() const { return identity_.peer_id(); }
  const Identity& identity() const { return identity_; }
  std::vector<Multiaddr> listen_addrs() const;
  const NodeConfig& config() const { return config_; }
  asio::io_context& io() { return *io_; }
  asio::io_context::executor_type executor() { return io_->get_executor(); }

  // Registers (or replaces) the handler for inbound streams of `protocol`.
  // The handler runs on the stream's connection strand; its std::function
  // (and so a lambda's captures) stays alive until the handler's task ends.
  // While running, peers that accept identify push are told the new set.
  Status set_stream_handler(const std::string& protocol, StreamHandler handler);
  void remove_stream_handler(const std::string& protocol);
  std::vector<std::string> protocols() const;

  // Connects to `addr` (/ip4|ip6|dns*/…/tcp/…[/p2p/<id>]) and returns the
  // open connection; the /p2p/ id, when present, is verified in Noise.
  Task<Result<std::shared_ptr<Connection>>> dial(Multiaddr addr);
  // Opens a stream and negotiates the first protocol of `protocols` the remote supports.
  Task<Result<Stream>> open_stream(std::shared_ptr<Connection> conn, std::vector<std::string> protocols);
  // One ping round trip on a new /ipfs/ping/1.0.0 stream.
  Task<Result<std::chrono::nanoseconds>> ping(std::shared_ptr<Connection> conn);
  // The remote's identify information (waits for the exchange to finish).
  Task<Result<identify::Info>> identify(std::shared_ptr<Connection> conn);

  // Runs `task` on the connection's strand and returns its result to the
  // caller's executor. Pass a coroutine whose inputs are its parameters (a
  // member or free coroutine function), not a capturing lambda: GCC 12 does
  // not keep a lambda coroutine's captures alive reliably.
  // Cancelling the caller cancels `task`, on the connection's strand, and it
  // then completes with errc::canceled. A cancellation that arrives before
  // `task` started makes Asio refuse to start it (it throws operation_aborted
  // in the spawned coroutine's entry): that, too, is reported as
  // errc::canceled, and the caller knows `task` never ran. T is a Result.
  template <typename T>
  Task<T> run_on(std::shared_ptr<Connection> conn, Task<T> task) {
    auto caller = co_await asio::this_coro::cancellation_state;
    if (caller.cancelled() != asio::cancellation_type::none)
      co_return Error{errc::canceled, "cancelled before it started"};
    auto relay = std::make_shared<StrandCancelRelay>(conn->strand());
    auto caller_slot = caller.slot();
    if (caller_slot.is_connected()) caller_slot.template emplace<StrandCancelRelay::Forward>(relay);
    auto spawned = asio::co_spawn(conn->strand(), without_cancel_exceptions(std::move(task)),
                                  asio::bind_cancellation_slot(relay->slot(), use_tuple));
    auto [failure, result] = co_await std::move(spawned);
    if (caller_slot.is_connected()) caller_slot.clear();
    // The spawned coroutine may still be unwinding on the strand, with its
    // cancellation state inside the relay's signal: release it there, after.
    asio::post(conn->strand(), [keep = std::move(relay)] {});
    if (failure) {
      if (!is_operation_aborted(failure)) std::rethrow_exception(failure);
      co_return Error{errc::canceled, "cancelled before it started"};
    }
    co_return std::move(result);
  }

  // Every connection the node has right now, in any state.
  std::vector<std::shared_ptr<Connection>> connections() const { return connections_.snapshot(); }

  NodeStats stats() const;
  // The order in which components were stopped (for tests of the stop contract).
  std::vector<std::string> stop_trace() const;

 private:
  friend class Connection;
  explicit Node(NodeConfig config, Identity identity);

  Status listen(const Multiaddr& addr);
  Task<void> accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acceptor);
  // Runs the connection's coroutine: inbound with its accepted socket, or
  // outbound (raw null) connecting to dial_addr first.
  void launch(const std::shared_ptr<Connection>& conn, std::unique_ptr<TcpChannel> raw,
              Multiaddr dial_addr);
  std::optional<StreamHandler> handler_for(std::string_view protocol) const;
  identify::Info local_identify_info(const Connection& conn) const;
  void install_builtin_handlers();
  // An I/O thread's loop: runs handlers until the io_context stops; when
  // its SpinPolicy says so, it polls config_.io_spin for more before
  // sleeping in the kernel.
  void run_io_thread();
  // Polls for work until some ran, `until`, or another thread needs the
  // CPU; lost_cpu at once when the process already has its share of
  // spinning threads.
  SpinOutcome spin_for_work(std::chrono::steady_clock::time_point until);
  // Waits until done() or `deadline`; a driven node drives meanwhile.
  bool wait_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline);
  void push_identify_to_peers();
  void trace(std::string what);

  LiveToken<Live::nodes> live_;
  NodeConfig config_;
  Identity identity_;
  // Spare Noise ephemeral keys, shared by this node's handshakes.
  std::shared_ptr<noise::EphemeralKeys> ephemeral_keys_ = std::make_shared<noise::EphemeralKeys>();
  // Makes io_context's shutdown (destroy every queued handler, keep the
  // services) callable before its destruction.
  class IoContext : public asio::io_context {
   public:
    using asio::io_context::io_context;
    using asio::io_context::shutdown;
  };
  // A pointer so that it is destroyed first, explicitly, in ~Node: pending
  // coroutine frames it destroys may still refer to the members below.
  std::unique_ptr<IoContext> io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::atomic<int> drivers_{0};  // threads inside drive()
  // Whether a driving thread that ran out of work spins; shared by the
  // drivers (usually one thread).
  std::mutex driver_spin_mutex_;
  SpinPolicy driver_spin_{config_.io_spin};
  // Between start() and the end of stop(): run_one() on an io_context with
  // no work (before start) would stop it for good.
  std::atomic<bool> drivable_{false};
  ConnectionManager connections_;
  std::atomic<std::uint64_t> next_connection_id_{1};
  std::atomic<std::uint64_t> connections_opened_{0}, connections_failed_{0};

  mutable std::mutex state_mu_;
  enum class State { created, running, stopped } state_ = State::created;
  std::vector<std::shared_ptr<asio::ip::tcp::acceptor>> acceptors_;
  std::vector<std::future<void>> accept_loops_;  // ready once each accept loop has ended
  std::vector<Multiaddr> listen_addrs_;
  std::vector<std::string> stop_trace_;

  mutable std::shared_mutex handlers_mu_;
  std::map<std::string, StreamHandler, std::less<>> handlers_;
};

}  // namespace weft
