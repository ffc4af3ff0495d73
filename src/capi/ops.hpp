// The coroutines behind the asynchronous C calls. Each runs on its op's
// strand (a connection's strand, or a fresh strand for a dial), takes its
// inputs as parameters (the GCC 12 rule in core/asio.hpp), and reports
// everything, cancellation included, in its Outcome: it never throws.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "capi/node_state.hpp"
#include "core/turn_queue.hpp"

namespace weft::capi {

Task<Outcome> dial_op(std::shared_ptr<Op> op, Node* node, Multiaddr addr);
Task<Outcome> ping_op(std::shared_ptr<Op> op, std::shared_ptr<Connection> conn,
                      std::chrono::milliseconds timeout);
Task<Outcome> identify_op(std::shared_ptr<Op> op, std::shared_ptr<Connection> conn);
Task<Outcome> open_stream_op(std::shared_ptr<Op> op, std::shared_ptr<Connection> conn,
                             std::vector<std::string> protocols, bool lazy);
// `answer`: set for a stream opened lazily, whose first read waits for it.
// `reads`: the stream handle's readers, served in the order they started.
Task<Outcome> read_op(std::shared_ptr<Op> op, std::shared_ptr<YamuxStream> stream,
                      std::shared_ptr<ProtocolAnswer> answer, std::shared_ptr<TurnQueue> reads,
                      std::size_t max);
// Writes `view`: a view of `copy` (weft_stream_write), or of the caller's
// memory when `copy` is empty (weft_stream_write_nocopy), which is read
// only until the coroutine finishes, hence before the op's event.
Task<Outcome> write_op(std::shared_ptr<Op> op, std::shared_ptr<YamuxStream> stream, Bytes copy,
                       BytesView view);
// `answer`: set for a stream opened lazily, whose FIN waits for it.
Task<Outcome> close_write_op(std::shared_ptr<Op> op, std::shared_ptr<YamuxStream> stream,
                             std::shared_ptr<ProtocolAnswer> answer);

}  // namespace weft::capi
