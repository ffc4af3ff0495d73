// Nodes: lifecycle, information, the event queue, protocol registration.
#include "capi/lookup.hpp"
#include "core/live.hpp"

static_assert(static_cast<int>(weft::Live::nodes) == WEFT_LIVE_NODES);
static_assert(static_cast<int>(weft::Live::threads) == WEFT_LIVE_THREADS);
static_assert(static_cast<int>(weft::Live::sockets) == WEFT_LIVE_SOCKETS);
static_assert(static_cast<int>(weft::Live::timers) == WEFT_LIVE_TIMERS);
static_assert(static_cast<int>(weft::Live::connections) == WEFT_LIVE_CONNECTIONS);
static_assert(static_cast<int>(weft::Live::streams) == WEFT_LIVE_STREAMS);
static_assert(static_cast<int>(weft::Live::operations) == WEFT_LIVE_OPERATIONS);
static_assert(weft::kLiveKinds == WEFT_LIVE_OPERATIONS);

using namespace weft;
using namespace weft::capi;

namespace {

constexpr std::size_t kMaxProtocolLength = 1024;

std::string join_listen_addrs(Node& node) {
  std::string out;
  const std::string suffix = "/p2p/" + node.peer_id().to_base58();
  for (const auto& a : node.listen_addrs()) {
    if (!out.empty()) out += '\n';
    out += a.to_string() + suffix;
  }
  return out;
}

}  // namespace

extern "C" {

WEFT_API int weft_node_new(weft_config config, weft_node* out) {
  return guarded("weft_node_new", [&]() -> int {
    if (out == nullptr) return fail(WEFT_EINVAL, "out is NULL");
    out->id = 0;
    auto cfg = Registry::instance().config(config.id);
    if (!cfg) return fail(WEFT_ENOTFOUND, "unknown config handle " + std::to_string(config.id));
    NodeConfig node_config;
    ConfigState limits;
    {
      std::lock_guard lock(cfg->mu);
      node_config = cfg->node;
      limits.inbound_stream_backlog = cfg->inbound_stream_backlog;
      limits.max_read_size = cfg->max_read_size;
      limits.max_pending_events = cfg->max_pending_events;
    }
    auto node = Node::create(std::move(node_config));
    if (!node) return fail(node.error());
    auto state = std::make_shared<NodeState>(std::move(*node), limits);
    out->id = Registry::instance().add_node(std::move(state));
    return WEFT_OK;
  });
}

WEFT_API int weft_node_start(weft_node node) {
  return guarded("weft_node_start", [&]() -> int {
    std::shared_ptr<NodeState> ns;
    if (int st = find_node(node, ns)) return st;
    return ns->start();
  });
}

WEFT_API int weft_node_stop(weft_node node, uint32_t timeout_ms) {
  return guarded("weft_node_stop", [&]() -> int {
    if (in_log_callback())
      return fail(WEFT_EBUSY, "weft_node_stop cannot be called from the log callback");
    std::shared_ptr<NodeState> ns;
    if (int st = find_node(node, ns)) return st;
    return ns->stop(std::chrono::milliseconds(timeout_ms));
  });
}

WEFT_API int weft_node_close(weft_node node) {
  return guarded("weft_node_close", [&]() -> int {
    if (in_log_callback())
      return fail(WEFT_EBUSY, "weft_node_close cannot be called from the log callback");
    std::shared_ptr<NodeState> ns;
    if (int st = find_node(node, ns)) return st;
    return ns->close();
  });
}

WEFT_API int weft_node_peer_id(weft_node node, char* buf, size_t buflen, size_t* needed) {
  return guarded("weft_node_peer_id", [&]() -> int {
    std::shared_ptr<NodeState> ns;
    NodeState::Hold hold;
    if (int st = enter_node(node, NodeState::Access::inspect, ns, hold)) return st;
    return write_text(ns->node().peer_id().to_base58(), buf, buflen, needed);
  });
}

WEFT_API int weft_node_listen_addrs(weft_node node, char* buf, size_t buflen, size_t* needed) {
  return guarded("weft_node_listen_addrs", [&]() -> int {
    std::shared_ptr<NodeState> ns;
    NodeState::Hold hold;
    if (int st = enter_node(node, NodeState::Access::inspect, ns, hold)) return st;
    return write_text(join_listen_addrs(ns->node()), buf, buflen, needed);
  });
}

WEFT_API int weft_node_stat(weft_node node, int stat, uint64_t* value) {
  return guarded("weft_node_stat", [&]() -> int {
    std::shared_ptr<NodeState> ns;
    NodeState::Hold hold;
    if (int st = enter_node(node, NodeState::Access::inspect, ns, hold)) return st;
    if (value == nullptr) return fail(WEFT_EINVAL, "value is NULL");
    const NodeStats s = ns->node().stats();
    switch (stat) {
      case WEFT_STAT_CONNECTIONS: *value = s.connections; break;
      case WEFT_STAT_INBOUND: *value = s.inbound; break;
      case WEFT_STAT_OUTBOUND: *value = s.outbound; break;
      case WEFT_STAT_HANDSHAKING: *value = s.handshaking; break;
      case WEFT_STAT_STREAMS: *value = Registry::instance().stream_count(ns->id()); break;
      case WEFT_STAT_PENDING_OPS: *value = ns->pending_count(); break;
      case WEFT_STAT_QUEUED_EVENTS: *value = ns->events().size(); break;
      case WEFT_STAT_BYTES_SENT: *value = ns->bytes_sent.load(); break;
      case WEFT_STAT_BYTES_RECEIVED: *value = ns->bytes_received.load(); break;
      case WEFT_STAT_CONNECTIONS_OPENED: *value = s.connections_opened; break;
      case WEFT_STAT_CONNECTIONS_FAILED: *value = s.connections_failed; break;
      default: return fail(WEFT_EINVAL, "unknown statistic " + std::to_string(stat));
    }
    return WEFT_OK;
  });
}

WEFT_API int weft_live_count(int what, uint64_t* value) {
  return guarded("weft_live_count", [&]() -> int {
    if (value == nullptr) return fail(WEFT_EINVAL, "value is NULL");
    if (what < WEFT_LIVE_NODES || what > WEFT_LIVE_OPERATIONS)
      return fail(WEFT_EINVAL, "unknown live count " + std::to_string(what));
    *value = live_count(static_cast<Live>(what));
    return WEFT_OK;
  });
}

WEFT_API int weft_node_event_fd(weft_node node, int* fd) {
  return guarded("weft_node_event_fd", [&]() -> int {
    std::shared_ptr<NodeState> ns;
    NodeState::Hold hold;
    if (int st = enter_node(node, NodeState::Access::inspect, ns, hold)) return st;
    if (fd == nullptr) return fail(WEFT_EINVAL, "fd is NULL");
    if (ns->node().driven())
      return fail(WEFT_EINVAL,
                  "the node has no I/O threads: it runs inside weft_node_poll, which must be "
                  "called to wait for its events");
    *fd = ns->events().watch_fd();
    return WEFT_OK;
  });
}

WEFT_API int weft_node_poll(weft_node node, weft_event** events, size_t max, int timeout_ms,
                            size_t* count) {
  return guarded("weft_node_poll", [&]() -> int {
    if (count != nullptr) *count = 0;
    std::shared_ptr<NodeState> ns;
    if (int st = find_node(node, ns)) return st;
    if (events == nullptr) return fail(WEFT_EINVAL, "events is NULL");
    if (count == nullptr) return fail(WEFT_EINVAL, "count is NULL");
    if (max == 0) return fail(WEFT_EINVAL, "max is 0");
    if (timeout_ms < -1) return fail(WEFT_EINVAL, "timeout_ms must be -1 or more");
    // No hold on the node's life while waiting: close must not wait for
    // pollers; it closes the queue, which wakes them (see NodeState::poll
    // for a node driven by its pollers).
    size_t n = 0;
    if (ns->poll(events, max, timeout_ms, n) == EventQueue::PopResult::closed)
      return fail(WEFT_ENOTFOUND, "the node was closed");
    *count = n;
    return WEFT_OK;
  });
}

WEFT_API int weft_cancel(weft_node node, uint64_t token) {
  return guarded("weft_cancel", [&]() -> int {
    std::shared_ptr<NodeState> ns;
    NodeState::Hold hold;
    if (int st = enter_node(node, NodeState::Access::inspect, ns, hold)) return st;
    ns->cancel(token);
    return WEFT_OK;
  });
}

WEFT_API int weft_node_handle(weft_node node, const char* protocol) {
  return guarded("weft_node_handle", [&]() -> int {
    std::shared_ptr<NodeState> ns;
    if (int st = find_node(node, ns)) return st;
    if (int st = check_string(protocol, "protocol", kMaxProtocolLength)) return st;
    return ns->handle(protocol);
  });
}

WEFT_API int weft_node_unhandle(weft_node node, const char* protocol) {
  return guarded("weft_node_unhandle", [&]() -> int {
    std::shared_ptr<NodeState> ns;
    if (int st = find_node(node, ns)) return st;
    if (int st = check_string(protocol, "protocol", kMaxProtocolLength)) return st;
    return ns->unhandle(protocol);
  });
}

WEFT_API int weft_accept_stream(weft_node node, const char* protocol, uint64_t token) {
  return guarded("weft_accept_stream", [&]() -> int {
    std::shared_ptr<NodeState> ns;
    if (int st = find_node(node, ns)) return st;
    if (int st = check_string(protocol, "protocol", kMaxProtocolLength)) return st;
    NodeState::Hold hold;
    if (int st = ns->enter(hold, NodeState::Access::submit)) return st;
    return ns->accept(protocol, token);
  });
}

}  // extern "C"
