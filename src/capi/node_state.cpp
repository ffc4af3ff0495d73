#include "capi/node_state.hpp"

#include <algorithm>
#include <thread>

#include "capi/common.hpp"

namespace weft::capi {

namespace {

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += '\n';
    out += s;
  }
  return out;
}

Error error_from_exception(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    return Error{errc::no_memory, "out of memory"};
  } catch (const std::exception& ex) {
    return Error{errc::io_error, std::string("unexpected exception: ") + ex.what()};
  } catch (...) {
    return Error{errc::io_error, "unexpected exception"};
  }
}

// Delivers what an operation produced, unless stop completed it first.
void finish(NodeState& state, const std::shared_ptr<Op>& op, Outcome&& outcome) noexcept {
  if (!op->claim()) {
    // Completed already (by stop): what the operation made is dropped.
    if (outcome.stream) outcome.stream->channel->reset();
    return;
  }
  state.deliver(op, std::move(outcome));
}

// Runs an operation's coroutine and delivers its outcome the moment it
// finishes, on its strand. Asio posts the completion handler of a coroutine
// that never suspended but runs the handler at once for one that did, so
// delivering from the handler could queue the events of two reads of one
// stream in the opposite order of the bytes they took.
Task<void> run_op(std::shared_ptr<NodeState> state, std::shared_ptr<Op> op, Task<Outcome> task) {
  Outcome outcome = co_await std::move(task);
  finish(*state, op, std::move(outcome));
}

// The completion handler of run_op; runs on op->executor.
struct Completion {
  std::shared_ptr<NodeState> state;
  std::shared_ptr<Op> op;

  void operator()(std::exception_ptr e) {
    if (e) {
      Outcome outcome;
      try {
        outcome.error = error_from_exception(e);
      } catch (...) {
        outcome.error = Error{errc::no_memory};
      }
      finish(*state, op, std::move(outcome));
    }
    // The coroutine that ran the op may still be unwinding on this strand
    // and refer to op->signal: release the op only after it has finished.
    try {
      asio::post(*op->executor, [keep = op] {});
    } catch (...) {
    }
  }
};

// Starts an op's coroutine; posted (never run inline) so that a call made
// from inside weft's own code (the log callback) never re-enters a strand.
struct Starter {
  std::shared_ptr<NodeState> state;
  std::shared_ptr<Op> op;
  Task<Outcome> task;

  void operator()() {
    try {
      auto ex = *op->executor;
      auto completion = asio::bind_cancellation_slot(op->signal.slot(), Completion{state, op});
      asio::co_spawn(ex, run_op(state, op, std::move(task)), std::move(completion));
    } catch (...) {
      // Could not even start (out of memory): it still completes, once.
      if (!op->claim()) return;
      Outcome out;
      out.error = Error{errc::no_memory, "the operation could not be started"};
      state->deliver(op, std::move(out));
    }
  }
};

// The stream handler of every protocol registered through weft_node_handle.
Task<void> deliver_inbound(std::weak_ptr<NodeState> weak, Stream stream) {
  if (auto state = weak.lock()) {
    state->on_inbound(std::move(stream));
  } else {
    stream.channel->reset();
  }
  co_return;
}

}  // namespace

NodeState::NodeState(std::unique_ptr<Node> node, const ConfigState& config)
    : max_read_size(config.max_read_size),
      max_pending_events(config.max_pending_events),
      inbound_stream_backlog(config.inbound_stream_backlog),
      node_(std::move(node)) {}

NodeState::~NodeState() = default;

int NodeState::enter(Hold& hold, Access access) {
  Hold h(life_);
  switch (phase_) {
    case Phase::closed:
      return fail(WEFT_ENOTFOUND, "the node is closed");
    case Phase::stopped:
      if (access != Access::inspect) return fail(WEFT_ESTOPPED, "the node is stopped");
      break;
    case Phase::created:
      if (access == Access::submit) return fail(WEFT_ESTATE, "the node is not started");
      break;
    case Phase::running:
      break;
  }
  if (access == Access::submit && events_.size() >= max_pending_events)
    return fail(WEFT_ELIMIT, std::to_string(max_pending_events) +
                                 " events are queued (WEFT_LIMIT_MAX_PENDING_EVENTS): poll first");
  hold = std::move(h);
  return WEFT_OK;
}

bool NodeState::try_enter(Hold& hold, Access access) {
  Hold h(life_);
  const bool ok = phase_ == Phase::running ||
                  (phase_ == Phase::created && access != Access::submit) ||
                  (phase_ == Phase::stopped && access == Access::inspect);
  if (ok) hold = std::move(h);
  return ok;
}

int NodeState::start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  {
    Hold h(life_);
    if (phase_ == Phase::closed) return fail(WEFT_ENOTFOUND, "the node is closed");
    if (phase_ == Phase::stopped) return fail(WEFT_ESTOPPED, "the node is stopped");
    if (phase_ == Phase::running) return fail(WEFT_ESTATE, "the node is already started");
  }
  auto st = node_->start();
  if (!st) return fail(st.error());
  std::unique_lock lock(life_);
  phase_ = Phase::running;
  return WEFT_OK;
}

int NodeState::stop(std::chrono::milliseconds timeout) {
  std::lock_guard lifecycle(lifecycle_mu_);
  return stop_locked(timeout);
}

int NodeState::stop_locked(std::chrono::milliseconds timeout) {
  {
    std::unique_lock lock(life_);
    if (phase_ == Phase::closed) return fail(WEFT_ENOTFOUND, "the node is closed");
    if (phase_ == Phase::stopped) return WEFT_OK;
    // From here every submission fails with WEFT_ESTOPPED; those that got
    // in before hold `life_` and are already in the pending table.
    phase_ = Phase::stopped;
  }
  node_->stop(timeout);
  // The node's threads are joined: nothing else completes operations now.
  sweep(Error{errc::stopped, "the node stopped before the operation finished"});
  return WEFT_OK;
}

int NodeState::close() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (int st = stop_locked(std::chrono::milliseconds(0))) return st;
  std::map<std::string, Backlog, std::less<>> backlogs;
  {
    std::unique_lock lock(life_);
    if (phase_ == Phase::closed) return fail(WEFT_ENOTFOUND, "the node is closed");
    phase_ = Phase::closed;
    std::lock_guard backlog_lock(backlog_mu_);
    backlogs.swap(backlogs_);
  }
  Registry::instance().remove_node(id_);  // the returned handles are released here
  // Calls that looked a handle up just before hold a copy for a moment (they
  // fail now that the node is closed); the connections and streams handles
  // refer to must be gone before the io_context is.
  while (live_handles.load() > 0 || drivers_.load() > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  events_.close();
  backlogs.clear();
  // Coroutine frames still waiting in the io_context go first (they refer
  // to the ops' cancellation signals), then the ops, whose strands need the
  // io_context's services, then the node.
  node_->discard_pending_work();
  {
    std::lock_guard lock(pending_mu_);
    retired_.clear();
    live_sub(Live::operations, static_cast<std::int64_t>(pending_.size()));
    pending_.clear();
  }
  node_.reset();
  return WEFT_OK;
}

EventQueue::PopResult NodeState::poll(weft_event** out, std::size_t max, int timeout_ms,
                                      std::size_t& count) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto until = timeout_ms < 0 ? Clock::time_point::max()
                                    : start + std::chrono::milliseconds(timeout_ms);
  {
    // The hold only admits the driver; it is not kept while waiting, so
    // stop and close never wait for a poller (they stop the node's I/O,
    // which sends drivers back here at once).
    Hold hold;
    const bool drive = try_enter(hold, Access::submit) && node_->driven();
    if (!drive) {
      hold = Hold();
      return events_.pop(out, max, timeout_ms, count);
    }
    drivers_.fetch_add(1);
  }
  EventQueue::PopResult result = EventQueue::PopResult::ok;
  bool stopped = false;
  for (bool drove = false;;) {
    result = events_.pop(out, max, 0, count);
    if (result == EventQueue::PopResult::closed || count > 0) break;
    if (drove && Clock::now() >= until) break;
    if (node_->drive(until) == 0 && node_->io_stopped()) {
      stopped = true;
      break;
    }
    drove = true;
  }
  drivers_.fetch_sub(1);
  if (stopped) {
    // Stopped while waiting: the operations' last events may still come.
    int left_ms = -1;
    if (timeout_ms >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      left_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
    }
    result = events_.pop(out, max, left_ms, count);
  }
  return result;
}

std::shared_ptr<Op> NodeState::new_op(int type, std::uint64_t token,
                                      std::optional<Strand> executor) {
  return std::make_shared<Op>(type, token, std::move(executor));
}

void NodeState::add_pending(const std::shared_ptr<Op>& op) {
  std::lock_guard lock(pending_mu_);
  pending_.emplace(op->token, op);
  live_add(Live::operations);
}

void NodeState::remove_pending(const Op& op) noexcept {
  std::lock_guard lock(pending_mu_);
  auto [begin, end] = pending_.equal_range(op.token);
  for (auto it = begin; it != end; ++it) {
    if (it->second.get() == &op) {
      pending_.erase(it);
      live_sub(Live::operations);
      return;
    }
  }
}

std::size_t NodeState::pending_count() const {
  std::lock_guard lock(pending_mu_);
  return pending_.size();
}

void NodeState::launch(const std::shared_ptr<Op>& op, Task<Outcome> task) {
  add_pending(op);
  try {
    asio::post(*op->executor, Starter{shared_from_this(), op, std::move(task)});
  } catch (...) {
    remove_pending(*op);
    throw;
  }
}

void NodeState::fill_event(weft_event& ev, Outcome& out) {
  ev.status = status_of(out.error);
  if (ev.type == WEFT_EVENT_WRITE) {  // failed writes too: what of it was sent
    bytes_sent += out.count;
    ev.count = out.count;
  }
  if (out.error.code != errc::ok) {
    ev.error = out.error.message();
    return;
  }
  auto& registry = Registry::instance();
  auto self = shared_from_this();
  switch (ev.type) {
    case WEFT_EVENT_DIAL:
      ev.peer_id = out.conn->remote_peer().to_base58();
      ev.conn = registry.conn_handle(self, out.conn);
      break;
    case WEFT_EVENT_ACCEPT_STREAM:
      ev.peer_id = out.stream->connection->remote_peer().to_base58();
      ev.conn = registry.conn_handle(self, out.stream->connection);
      [[fallthrough]];
    case WEFT_EVENT_OPEN_STREAM:
      ev.protocol = out.stream->protocol;
      ev.stream = registry.add_stream(self, *out.stream);
      break;
    case WEFT_EVENT_READ:
      bytes_received += out.data.size();
      ev.data = std::move(out.data);
      break;
    case WEFT_EVENT_PING:
      ev.count = out.count;
      break;
    case WEFT_EVENT_IDENTIFY: {
      ev.text = out.info->agent_version;
      ev.list[0] = join_lines(out.info->protocols);
      std::vector<std::string> addrs;
      for (const auto& a : out.info->listen_addrs) addrs.push_back(a.to_string());
      ev.list[1] = join_lines(addrs);
      break;
    }
    default:
      break;
  }
}

void NodeState::deliver(const std::shared_ptr<Op>& op, Outcome&& outcome) noexcept {
  weft_event* ev = op->event.release();
  if (ev == nullptr) return;  // cannot happen: an op is claimed once
  ev->type = op->type;
  ev->token = op->token;
  try {
    fill_event(*ev, outcome);
  } catch (...) {
    const int type = ev->type;
    const std::uint64_t token = ev->token;
    *ev = weft_event{};
    ev->type = type;
    ev->token = token;
    ev->status = WEFT_ENOMEM;
  }
  remove_pending(*op);
  events_.push(ev);
}

void NodeState::cancel(std::uint64_t token) {
  std::vector<std::shared_ptr<Op>> ops;
  {
    std::lock_guard lock(pending_mu_);
    auto [begin, end] = pending_.equal_range(token);
    for (auto it = begin; it != end; ++it) ops.push_back(it->second);
  }
  for (auto& op : ops) {
    op->cancel_requested = true;
    if (op->executor) {
      asio::post(*op->executor, [op] {
        if (!op->done) op->signal.emit(asio::cancellation_type::terminal);
      });
      continue;
    }
    std::lock_guard lock(backlog_mu_);
    auto it = backlogs_.find(op->protocol);
    if (it == backlogs_.end()) continue;
    auto& waiters = it->second.waiters;
    auto pos = std::find(waiters.begin(), waiters.end(), op);
    if (pos == waiters.end()) continue;  // served meanwhile
    waiters.erase(pos);
    if (op->claim()) {
      Outcome out;
      out.error = Error{errc::canceled, "the accept was cancelled"};
      deliver(op, std::move(out));
    }
  }
}

void NodeState::sweep(const Error& why) {
  std::vector<std::shared_ptr<Op>> ops;
  {
    std::lock_guard lock(pending_mu_);
    ops.reserve(pending_.size());
    for (auto& [token, op] : pending_) ops.push_back(op);
  }
  {
    std::lock_guard lock(backlog_mu_);
    for (auto& [protocol, backlog] : backlogs_) backlog.waiters.clear();
  }
  for (auto& op : ops) {
    if (!op->claim()) continue;
    Outcome out;
    out.error = why;
    deliver(op, std::move(out));
  }
  std::lock_guard lock(pending_mu_);
  retired_.insert(retired_.end(), ops.begin(), ops.end());
}

int NodeState::handle(const std::string& protocol) {
  Hold hold;
  if (int st = enter(hold, Access::modify)) return st;
  Error err;
  {
    std::lock_guard lock(backlog_mu_);
    if (backlogs_.count(protocol) != 0) return WEFT_OK;
    const auto served = node_->protocols();
    if (std::find(served.begin(), served.end(), protocol) != served.end()) {
      err = Error{errc::busy, "protocol '" + protocol + "' is served by weft itself"};
    } else {
      auto [it, added] = backlogs_.try_emplace(protocol);
      std::weak_ptr<NodeState> weak = weak_from_this();
      auto st = node_->set_stream_handler(
          protocol, [weak](Stream s) -> Task<void> { return deliver_inbound(weak, std::move(s)); });
      if (!st) {
        backlogs_.erase(it);
        err = std::move(st).error();
      }
    }
  }
  // Reported after the locks are released (the failure may be logged).
  if (err.code != errc::ok) return fail(err);
  return WEFT_OK;
}

int NodeState::unhandle(const std::string& protocol) {
  Hold hold;
  if (int st = enter(hold, Access::modify)) return st;
  Backlog removed;
  bool found = false;
  {
    std::lock_guard lock(backlog_mu_);
    auto it = backlogs_.find(protocol);
    if (it != backlogs_.end()) {
      found = true;
      removed = std::move(it->second);
      backlogs_.erase(it);
      node_->remove_stream_handler(protocol);
    }
  }
  if (!found) return fail(WEFT_ENOTFOUND, "protocol '" + protocol + "' is not registered");
  for (auto& s : removed.streams) {
    auto strand = s.connection->strand();
    asio::post(strand, [channel = std::move(s.channel)] { channel->reset(); });
  }
  for (auto& op : removed.waiters) {
    if (!op->claim()) continue;
    Outcome out;
    out.error = Error{errc::closed, "protocol '" + protocol + "' was unregistered"};
    deliver(op, std::move(out));
  }
  return WEFT_OK;
}

int NodeState::accept(const std::string& protocol, std::uint64_t token) {
  auto op = new_op(WEFT_EVENT_ACCEPT_STREAM, token, std::nullopt);
  op->protocol = protocol;
  {
    std::lock_guard lock(backlog_mu_);
    auto it = backlogs_.find(protocol);
    if (it != backlogs_.end()) {
      auto& backlog = it->second;
      add_pending(op);
      if (!backlog.streams.empty()) {
        Outcome out;
        out.stream = std::move(backlog.streams.front());
        backlog.streams.pop_front();
        op->claim();
        deliver(op, std::move(out));
        return WEFT_OK;
      }
      try {
        backlog.waiters.push_back(op);
      } catch (...) {
        remove_pending(*op);
        throw;
      }
      return WEFT_OK;
    }
  }
  return fail(WEFT_ENOTFOUND,
              "protocol '" + protocol + "' is not registered (see weft_node_handle)");
}

void NodeState::on_inbound(Stream stream) {
  Hold hold(life_);
  if (phase_ == Phase::stopped || phase_ == Phase::closed) {
    stream.channel->reset();
    return;
  }
  std::lock_guard lock(backlog_mu_);
  auto it = backlogs_.find(stream.protocol);
  if (it == backlogs_.end()) {
    stream.channel->reset();
    return;
  }
  auto& backlog = it->second;
  while (!backlog.waiters.empty()) {
    auto op = std::move(backlog.waiters.front());
    backlog.waiters.pop_front();
    if (!op->claim()) continue;
    Outcome out;
    out.stream = std::move(stream);
    deliver(op, std::move(out));
    return;
  }
  if (backlog.streams.size() >= inbound_stream_backlog) {
    stream.channel->reset();  // WEFT_LIMIT_INBOUND_STREAM_BACKLOG
    return;
  }
  backlog.streams.push_back(std::move(stream));
}

}  // namespace weft::capi
