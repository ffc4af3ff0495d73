// /ipfs/ping/1.0.0 (libp2p/specs ping/ping.md): 32 random bytes, echoed back.
#pragma once

#include <chrono>
#include <string_view>

#include "core/byte_channel.hpp"
#include "mss/multistream.hpp"

namespace weft::ping {

inline constexpr std::string_view kProtocol = "/ipfs/ping/1.0.0";
inline constexpr std::size_t kPayloadSize = 32;

// Echoes 32-byte payloads until the remote closes its side.
Task<Status> serve(ByteChannel& stream);

// One round trip on an open ping stream. No timer of its own: the caller
// bounds it (and resets the stream on timeout, since the stream's state is
// then unknown).
Task<Result<std::chrono::nanoseconds>> ping_once(ByteChannel& stream);

// One round trip on a new stream, negotiating /ipfs/ping/1.0.0 in the same
// breath: the multistream-select header and proposal go out with the payload
// (mss::select_lazy) and the answer comes back with the echo, so a ping on a
// fresh stream costs one round trip instead of two. The time runs from the
// send to the echo. A remote that does not speak ping answers "na":
// errc::protocol_not_supported (or errc::reset if it resets the stream, as
// it may on reading the payload as a broken proposal, before the answer is
// read). No timer of its own, as for ping_once.
Task<Result<std::chrono::nanoseconds>> ping_once_negotiating(ByteChannel& stream,
                                                             mss::Config config);

}  // namespace weft::ping
