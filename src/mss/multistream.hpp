// multistream-select 1.0 (/multistream/1.0.0): agrees on the protocol that a
// connection or a stream speaks next. See libp2p/specs connections/README.md.
//
// Messages are <uvarint length><utf-8 text>\n. The dialer pipelines: it sends
// the header and its first proposal in one write, because js-libp2p listeners
// say nothing until they have read the dialer's header. Bytes read past the
// end of the negotiation are given back to the channel (ByteChannel::unread),
// so the next layer sees them.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_channel.hpp"

namespace weft::mss {

inline constexpr std::string_view kProtocolId = "/multistream/1.0.0";

struct Config {
  std::size_t max_message_size = 1024;  // bytes of one message, '\n' included
  std::size_t max_proposals = 32;       // a listener answers at most this many "na"
};

// Dialer side: proposes `protocols` in order until the listener accepts one.
// Returns the accepted protocol; errc::protocol_not_supported if it accepted none.
//
// Coroutines here take their inputs by value: a temporary bound to a
// reference parameter would not outlive the first suspension.
Task<Result<std::string>> select(ByteChannel& channel, std::vector<std::string> protocols,
                                 Config config = {});

// Dialer side, optimistically ("lazy" negotiation, as go-libp2p, js-libp2p
// and rust-libp2p also do): sends the header and `protocol` and returns at
// once, so the caller's first bytes follow without waiting for the answer, a
// round trip sooner. confirm() must then read the answer before anything else
// is read from the channel. Only for a single protocol with no alternative:
// if the listener answers "na", the bytes sent after the proposal reach its
// negotiation as garbage and the stream is lost anyway.
Task<Status> select_lazy(ByteChannel& channel, std::string protocol, Config config = {});
// Reads the listener's header and its answer to a select_lazy() proposal:
// ok if it accepted `protocol`, errc::protocol_not_supported for "na".
Task<Status> confirm(ByteChannel& channel, std::string protocol, Config config = {});

// Listener side: answers proposals with the protocol itself when `supported`
// says yes, "na" otherwise. Returns the agreed protocol.
Task<Result<std::string>> handle(ByteChannel& channel,
                                 std::function<bool(std::string_view)> supported,
                                 Config config = {});

// Wire helpers (exposed for tests and fuzzing).
void encode_message(std::string_view text, Bytes& out);  // appends length + text + '\n'

// Parses one message at the start of `in`: the text without its '\n' and the
// bytes consumed. errc::eof if more bytes are needed; parse_error /
// limit_exceeded for malformed or oversized messages.
struct Parsed {
  std::string_view text;
  std::size_t consumed;
};
Result<Parsed> parse_message(BytesView in, std::size_t max_message_size);

}  // namespace weft::mss
