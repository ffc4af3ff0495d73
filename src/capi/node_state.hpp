// NodeState: everything the C ABI keeps per node around the C++ weft::Node:
// its phase, the event queue, the pending-operation table (each operation
// completes exactly once), and the backlogs of registered protocols.
//
// Locks, always taken in this order (never the reverse):
//   life_ (shared by every call using the node; exclusive only to change the
//   phase) → backlog_mu_ → the registry's lock → pending_mu_ → the event queue's lock.
// lifecycle_mu_ serializes start/stop/close and is taken before life_.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "capi/events.hpp"
#include "capi/registry.hpp"
#include "node/node.hpp"

namespace weft::capi {

// One submitted asynchronous operation.
struct Op {
  Op(int type, std::uint64_t token, std::optional<Strand> executor)
      : type(type), token(token), executor(std::move(executor)), event(new weft_event) {}

  const int type;  // weft_event_type
  const std::uint64_t token;
  // Where its coroutine runs (and where cancellation is emitted); none for
  // an accept, which waits in a backlog instead.
  const std::optional<Strand> executor;
  std::string protocol;  // accept: the protocol waited for
  // Allocated at submission so that completing never allocates.
  std::unique_ptr<weft_event> event;
  // Set by whoever completes the operation first; only that one delivers.
  std::atomic<bool> done{false};
  std::atomic<bool> cancel_requested{false};
  // Emitted only on `executor`: a cancellation_signal is not thread-safe.
  asio::cancellation_signal signal;

  bool claim() noexcept { return !done.exchange(true); }
};

// What an operation produced; deliver() turns it into the event.
struct Outcome {
  Error error;
  std::shared_ptr<Connection> conn;
  std::optional<Stream> stream;
  Bytes data;
  std::uint64_t count = 0;
  std::optional<identify::Info> info;
};

class NodeState : public std::enable_shared_from_this<NodeState> {
 public:
  enum class Phase { created, running, stopped, closed };
  enum class Access {
    inspect,  // any phase but closed
    modify,   // created or running
    submit,   // running, and the event queue below its limit
  };
  using Hold = std::shared_lock<std::shared_mutex>;

  NodeState(std::unique_ptr<Node> node, const ConfigState& config);
  ~NodeState();

  void set_id(std::uint64_t id) { id_ = id; }
  std::uint64_t id() const { return id_; }
  EventQueue& events() { return events_; }

  // Takes a shared hold on the node's life for `access`; on failure returns
  // the status (last error set) and holds nothing.
  int enter(Hold& hold, Access access);
  // The same without recording a failure (for calls that succeed anyway).
  bool try_enter(Hold& hold, Access access);
  // Valid while a Hold is held.
  Node& node() { return *node_; }

  // ---- lifecycle (serialized by lifecycle_mu_) ----
  int start();
  // Stops the node, then completes every operation still pending with
  // WEFT_ESTOPPED. Idempotent.
  int stop(std::chrono::milliseconds timeout);
  // Stops if needed, unregisters the node and its conn and stream handles,
  // and frees everything.
  int close();

  // ---- operations (the caller holds a Hold from enter(submit)) ----
  std::shared_ptr<Op> new_op(int type, std::uint64_t token, std::optional<Strand> executor);
  // Registers the op as pending and runs `task` on op->executor.
  void launch(const std::shared_ptr<Op>& op, Task<Outcome> task);
  // Delivers the outcome of an op claimed by the caller. Never fails.
  void deliver(const std::shared_ptr<Op>& op, Outcome&& outcome) noexcept;
  // Requests cancellation of every pending op submitted with `token`.
  void cancel(std::uint64_t token);

  // ---- protocols and inbound streams ----
  int handle(const std::string& protocol);
  int unhandle(const std::string& protocol);
  int accept(const std::string& protocol, std::uint64_t token);  // caller holds a submit Hold
  // From the stream handler, on the stream's strand.
  void on_inbound(Stream stream);

  // ---- statistics ----
  std::size_t pending_count() const;
  std::atomic<std::uint64_t> bytes_sent{0}, bytes_received{0};

  // Conn and stream handle objects alive (see HandleLease).
  std::atomic<int> live_handles{0};

  // weft_node_poll: moves up to `max` events into `out`, waiting up to
  // timeout_ms (-1: no limit) for the first. A node without I/O threads is
  // driven by the calling thread while it waits.
  EventQueue::PopResult poll(weft_event** out, std::size_t max, int timeout_ms, std::size_t& count);

  const std::uint64_t max_read_size;
  const std::uint64_t max_pending_events;
  const std::size_t inbound_stream_backlog;

 private:
  struct Backlog {
    std::deque<Stream> streams;                 // negotiated, not accepted yet
    std::deque<std::shared_ptr<Op>> waiters;    // accept ops waiting for one
  };

  void add_pending(const std::shared_ptr<Op>& op);
  void remove_pending(const Op& op) noexcept;
  void fill_event(weft_event& ev, Outcome& outcome);
  // Completes every pending operation with `why` (after the node stopped).
  void sweep(const Error& why);
  int stop_locked(std::chrono::milliseconds timeout);  // lifecycle_mu_ held

  std::uint64_t id_ = 0;
  std::unique_ptr<Node> node_;
  EventQueue events_;
  // Threads driving the node inside poll(); close() waits for them to leave
  // before it frees the node (they leave as soon as it is stopped).
  std::atomic<int> drivers_{0};

  std::mutex lifecycle_mu_;
  mutable std::shared_mutex life_;
  Phase phase_ = Phase::created;  // written under an exclusive life_

  mutable std::mutex pending_mu_;
  std::unordered_multimap<std::uint64_t, std::shared_ptr<Op>> pending_;
  // Ops completed by stop whose coroutines still wait inside the stopped
  // io_context: kept until the node is destroyed, since those coroutines
  // still refer to the ops' cancellation signals.
  std::vector<std::shared_ptr<Op>> retired_;

  std::mutex backlog_mu_;
  std::map<std::string, Backlog, std::less<>> backlogs_;
};

// The status of `e` as a weft_status.
inline int status_of(const Error& e) { return static_cast<int>(e.code); }

}  // namespace weft::capi
