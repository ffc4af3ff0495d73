// Connections and streams: dial, ping, identify, open/accept, read/write.
#include "capi/lookup.hpp"
#include "capi/ops.hpp"
#include "capi/write_buffers.hpp"

using namespace weft;
using namespace weft::capi;

namespace {

constexpr std::size_t kMaxMultiaddrLength = 1024;
constexpr std::size_t kMaxProposedProtocols = 64;

// Checks the protocols of an open and submits it.
int submit_open_stream(const char* call, weft_conn conn, const char* const* protocols, size_t count,
                       bool lazy, uint64_t token) {
  return guarded(call, [&]() -> int {
    std::shared_ptr<ConnHandle> h;
    NodeState::Hold hold;
    if (int st = enter_conn(conn, NodeState::Access::submit, h, hold)) return st;
    if (protocols == nullptr) return fail(WEFT_EINVAL, "protocols is NULL");
    if (count == 0) return fail(WEFT_EINVAL, "no protocol given (count is 0)");
    if (count > kMaxProposedProtocols)
      return fail(WEFT_EINVAL, "at most " + std::to_string(kMaxProposedProtocols) + " protocols");
    auto& ns = *h->node;
    // multistream-select frames a protocol id with a newline in one message.
    const std::size_t max_len = ns.node().config().limits.multistream_max_message_size - 2;
    std::vector<std::string> list;
    for (size_t i = 0; i < count; ++i) {
      const std::string what = lazy ? std::string("protocol") : "protocols[" + std::to_string(i) + "]";
      if (int st = check_string(protocols[i], what.c_str(), max_len)) return st;
      std::string p(protocols[i]);
      if (p.find('\n') != std::string::npos) return fail(WEFT_EINVAL, what + " contains a newline");
      list.push_back(std::move(p));
    }
    auto op = ns.new_op(WEFT_EVENT_OPEN_STREAM, token, h->conn->strand());
    ns.launch(op, open_stream_op(op, h->conn, std::move(list), lazy));
    return WEFT_OK;
  });
}

// Checks a write and submits it, with a copy of the data or a view of the
// caller's memory.
int submit_write(const char* call, weft_stream stream, const uint8_t* data, size_t len, bool copy,
                 uint64_t token) {
  return guarded(call, [&]() -> int {
    std::shared_ptr<StreamHandle> h;
    NodeState::Hold hold;
    if (int st = enter_stream(stream, NodeState::Access::submit, h, hold)) return st;
    if (data == nullptr && len != 0) return fail(WEFT_EINVAL, "data is NULL but len is not 0");
    auto& ns = *h->node;
    Bytes owned;
    BytesView view(data, len);
    if (copy && len != 0) {
      owned = WriteBuffers::instance().copy_of(data, len);
      view = BytesView(owned);
    }
    auto op = ns.new_op(WEFT_EVENT_WRITE, token, h->stream.connection->strand());
    ns.launch(op, write_op(op, h->stream.channel, std::move(owned), view));
    return WEFT_OK;
  });
}

}  // namespace

extern "C" {

WEFT_API int weft_dial(weft_node node, const char* multiaddr, uint64_t token) {
  return guarded("weft_dial", [&]() -> int {
    std::shared_ptr<NodeState> ns;
    if (int st = find_node(node, ns)) return st;
    if (int st = check_string(multiaddr, "multiaddr", kMaxMultiaddrLength)) return st;
    auto addr = Multiaddr::parse(multiaddr);
    if (!addr) {
      return fail(WEFT_EPARSE,
                  "multiaddr '" + std::string(multiaddr) + "': " + addr.error().detail);
    }
    if (auto target = to_tcp_target(*addr); !target) return fail(target.error());
    NodeState::Hold hold;
    if (int st = ns->enter(hold, NodeState::Access::submit)) return st;
    Node& n = ns->node();
    auto op = ns->new_op(WEFT_EVENT_DIAL, token, asio::make_strand(n.io()));
    ns->launch(op, dial_op(op, &n, std::move(*addr)));
    return WEFT_OK;
  });
}

WEFT_API int weft_conn_close(weft_conn conn) {
  return guarded("weft_conn_close", [&]() -> int {
    auto h = Registry::instance().take_conn(conn.id);
    if (!h) return fail(WEFT_ENOTFOUND, "unknown connection handle " + std::to_string(conn.id));
    NodeState::Hold hold;
    // A stopped node has closed its connections already; only the handle goes.
    if (h->node->try_enter(hold, NodeState::Access::modify)) {
      auto strand = h->conn->strand();
      asio::post(strand,
                 [c = h->conn] { c->shutdown(Error{errc::closed, "closed by the application"}); });
    }
    return WEFT_OK;
  });
}

WEFT_API int weft_conn_peer_id(weft_conn conn, char* buf, size_t buflen, size_t* needed) {
  return guarded("weft_conn_peer_id", [&]() -> int {
    std::shared_ptr<ConnHandle> h;
    NodeState::Hold hold;
    if (int st = enter_conn(conn, NodeState::Access::inspect, h, hold)) return st;
    return write_text(h->conn->remote_peer().to_base58(), buf, buflen, needed);
  });
}

WEFT_API int weft_conn_remote_addr(weft_conn conn, char* buf, size_t buflen, size_t* needed) {
  return guarded("weft_conn_remote_addr", [&]() -> int {
    std::shared_ptr<ConnHandle> h;
    NodeState::Hold hold;
    if (int st = enter_conn(conn, NodeState::Access::inspect, h, hold)) return st;
    return write_text(h->conn->remote_addr().to_string(), buf, buflen, needed);
  });
}

WEFT_API int weft_ping(weft_conn conn, uint64_t token) {
  return guarded("weft_ping", [&]() -> int {
    std::shared_ptr<ConnHandle> h;
    NodeState::Hold hold;
    if (int st = enter_conn(conn, NodeState::Access::submit, h, hold)) return st;
    auto& ns = *h->node;
    auto op = ns.new_op(WEFT_EVENT_PING, token, h->conn->strand());
    ns.launch(op, ping_op(op, h->conn, ns.node().config().limits.ping_timeout));
    return WEFT_OK;
  });
}

WEFT_API int weft_identify(weft_conn conn, uint64_t token) {
  return guarded("weft_identify", [&]() -> int {
    std::shared_ptr<ConnHandle> h;
    NodeState::Hold hold;
    if (int st = enter_conn(conn, NodeState::Access::submit, h, hold)) return st;
    auto& ns = *h->node;
    auto op = ns.new_op(WEFT_EVENT_IDENTIFY, token, h->conn->strand());
    ns.launch(op, identify_op(op, h->conn));
    return WEFT_OK;
  });
}

WEFT_API int weft_open_stream(weft_conn conn, const char* const* protocols, size_t count,
                              uint64_t token) {
  return submit_open_stream("weft_open_stream", conn, protocols, count, false, token);
}

WEFT_API int weft_open_stream_lazy(weft_conn conn, const char* protocol, uint64_t token) {
  const char* const protocols[1] = {protocol};
  return submit_open_stream("weft_open_stream_lazy", conn, protocols, 1, true, token);
}

WEFT_API int weft_stream_read(weft_stream stream, size_t max_bytes, uint64_t token) {
  return guarded("weft_stream_read", [&]() -> int {
    std::shared_ptr<StreamHandle> h;
    NodeState::Hold hold;
    if (int st = enter_stream(stream, NodeState::Access::submit, h, hold)) return st;
    auto& ns = *h->node;
    if (max_bytes == 0) return fail(WEFT_EINVAL, "max_bytes is 0");
    if (max_bytes > ns.max_read_size)
      return fail(WEFT_ELIMIT, "max_bytes " + std::to_string(max_bytes) +
                                   " is above WEFT_LIMIT_MAX_READ_SIZE (" +
                                   std::to_string(ns.max_read_size) + ")");
    auto op = ns.new_op(WEFT_EVENT_READ, token, h->stream.connection->strand());
    ns.launch(op, read_op(op, h->stream.channel, h->stream.answer, h->reads, max_bytes));
    return WEFT_OK;
  });
}

WEFT_API int weft_stream_write(weft_stream stream, const uint8_t* data, size_t len,
                               uint64_t token) {
  return submit_write("weft_stream_write", stream, data, len, true, token);
}

WEFT_API int weft_stream_write_nocopy(weft_stream stream, const uint8_t* data, size_t len,
                                      uint64_t token) {
  return submit_write("weft_stream_write_nocopy", stream, data, len, false, token);
}

WEFT_API int weft_stream_close_write(weft_stream stream, uint64_t token) {
  return guarded("weft_stream_close_write", [&]() -> int {
    std::shared_ptr<StreamHandle> h;
    NodeState::Hold hold;
    if (int st = enter_stream(stream, NodeState::Access::submit, h, hold)) return st;
    auto& ns = *h->node;
    auto op = ns.new_op(WEFT_EVENT_CLOSE_WRITE, token, h->stream.connection->strand());
    ns.launch(op, close_write_op(op, h->stream.channel, h->stream.answer));
    return WEFT_OK;
  });
}

WEFT_API int weft_stream_reset(weft_stream stream) {
  return guarded("weft_stream_reset", [&]() -> int {
    std::shared_ptr<StreamHandle> h;
    NodeState::Hold hold;
    if (int st = enter_stream(stream, NodeState::Access::inspect, h, hold)) return st;
    auto strand = h->stream.connection->strand();
    asio::post(strand, [channel = h->stream.channel] { channel->reset(); });
    return WEFT_OK;
  });
}

WEFT_API int weft_stream_free(weft_stream stream) {
  return guarded("weft_stream_free", [&]() -> int {
    auto h = Registry::instance().take_stream(stream.id);
    if (!h) return fail(WEFT_ENOTFOUND, "unknown stream handle " + std::to_string(stream.id));
    NodeState::Hold hold;
    // After stop the connections are gone already; only the handle goes.
    if (h->node->try_enter(hold, NodeState::Access::modify)) {
      auto strand = h->stream.connection->strand();
      asio::post(strand, [channel = h->stream.channel] {
        if (!channel->write_closed() || !channel->read_closed()) channel->reset();
      });
    }
    return WEFT_OK;
  });
}

WEFT_API int weft_stream_protocol(weft_stream stream, char* buf, size_t buflen, size_t* needed) {
  return guarded("weft_stream_protocol", [&]() -> int {
    std::shared_ptr<StreamHandle> h;
    NodeState::Hold hold;
    if (int st = enter_stream(stream, NodeState::Access::inspect, h, hold)) return st;
    return write_text(h->stream.protocol, buf, buflen, needed);
  });
}

}  // extern "C"
