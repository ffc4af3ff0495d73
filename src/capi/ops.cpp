#include "capi/ops.hpp"

#include "capi/write_buffers.hpp"

// Asio 1.22 throws operation_aborted from the next co_await of a coroutine
// chain that was cancelled unless this is turned off first; weft reports
// cancellation as errc::canceled instead.
#define WEFT_OP_PROLOGUE(op, out)                                  \
  co_await asio::this_coro::throw_if_cancelled(false);             \
  Outcome out;                                                     \
  if ((op)->cancel_requested) {                                    \
    out.error = Error{errc::canceled, "cancelled before it started"}; \
    co_return out;                                                 \
  }

namespace weft::capi {

Task<Outcome> dial_op(std::shared_ptr<Op> op, Node* node, Multiaddr addr) {
  WEFT_OP_PROLOGUE(op, out)
  auto dialing = node->dial(std::move(addr));
  auto conn = co_await std::move(dialing);
  if (!conn) {
    out.error = std::move(conn).error();
  } else {
    out.conn = std::move(*conn);
  }
  co_return out;
}

Task<Outcome> ping_op(std::shared_ptr<Op> op, std::shared_ptr<Connection> conn,
                      std::chrono::milliseconds timeout) {
  WEFT_OP_PROLOGUE(op, out)
  auto pinging = conn->ping(timeout);
  auto rtt = co_await std::move(pinging);
  if (!rtt) {
    out.error = std::move(rtt).error();
  } else {
    out.count = static_cast<std::uint64_t>(rtt->count());
  }
  co_return out;
}

Task<Outcome> identify_op(std::shared_ptr<Op> op, std::shared_ptr<Connection> conn) {
  WEFT_OP_PROLOGUE(op, out)
  auto waiting = conn->wait_identified();
  auto info = co_await std::move(waiting);
  if (!info) {
    out.error = std::move(info).error();
  } else {
    out.info = std::move(*info);
  }
  co_return out;
}

Task<Outcome> open_stream_op(std::shared_ptr<Op> op, std::shared_ptr<Connection> conn,
                             std::vector<std::string> protocols, bool lazy) {
  WEFT_OP_PROLOGUE(op, out)
  auto opening = lazy ? conn->open_stream_lazy(std::move(protocols.front()))
                      : conn->open_stream(std::move(protocols));
  auto stream = co_await std::move(opening);
  if (!stream) {
    out.error = std::move(stream).error();
  } else {
    out.stream = std::move(*stream);
  }
  co_return out;
}

Task<Outcome> read_op(std::shared_ptr<Op> op, std::shared_ptr<YamuxStream> stream,
                      std::shared_ptr<ProtocolAnswer> answer, std::shared_ptr<TurnQueue> reads,
                      std::size_t max) {
  WEFT_OP_PROLOGUE(op, out)
  // Reads take the stream's bytes in submission order. Without a turn, a read
  // starting while an earlier one was woken but not yet resumed (for data,
  // or for a lazy open's answer) would take the bytes meant for it.
  TurnQueue::Place turn(*reads);
  while (!turn.held()) {
    auto [ec] = co_await reads->async_wait_moved(use_tuple);
    if (ec) {
      out.error = Error{errc::canceled, "read cancelled while an earlier read was pending"};
      co_return out;
    }
  }
  if (answer) {
    // Opened lazily: the listener's answer comes before the first data.
    auto waiting = answer->wait();
    auto accepted = co_await std::move(waiting);
    if (!accepted) {
      out.error = std::move(accepted).error();
      co_return out;
    }
  }
  auto reading = stream->read_bytes(max);
  auto data = co_await std::move(reading);
  if (!data) {
    out.error = std::move(data).error();
  } else {
    out.data = std::move(*data);
  }
  co_return out;
}

Task<Outcome> write_op(std::shared_ptr<Op> op, std::shared_ptr<YamuxStream> stream, Bytes copy,
                       BytesView view) {
  WEFT_OP_PROLOGUE(op, out)
  std::size_t handed_over = 0;
  auto writing = stream->write_all_counted(view, &handed_over);
  auto st = co_await std::move(writing);
  if (!st) out.error = std::move(st).error();
  // A failed write reports the prefix that still goes out.
  out.count = handed_over;
  if (!copy.empty()) WriteBuffers::instance().give_back(std::move(copy));
  co_return out;
}

Task<Outcome> close_write_op(std::shared_ptr<Op> op, std::shared_ptr<YamuxStream> stream,
                             std::shared_ptr<ProtocolAnswer> answer) {
  WEFT_OP_PROLOGUE(op, out)
  if (answer) {
    // Opened lazily: the FIN waits for the listener's answer. js-libp2p
    // resets a stream whose end arrives before it has finished negotiating
    // (it cannot give the bytes read ahead back to a stream already ended).
    auto waiting = answer->wait();
    auto accepted = co_await std::move(waiting);
    if (!accepted) {
      out.error = std::move(accepted).error();
      co_return out;
    }
  }
  auto closing = stream->close_write();
  auto st = co_await std::move(closing);
  if (!st) out.error = std::move(st).error();
  co_return out;
}

}  // namespace weft::capi
