// /ipfs/ping/1.0.0 (libp2p/specs ping/ping.md): 32 random bytes, echoed back.
#pragma once

#include <chrono>
#include <string_view>

#include "core/byte_channel.hpp"

namespace weft::ping {

inline constexpr std::string_view kProtocol = "/ipfs/ping/1.0.0";
inline constexpr std::size_t kPayloadSize = 32;

// Echoes 32-byte payloads until the remote closes its side.
Task<Status> serve(ByteChannel& stream);

// One round trip on an open ping stream. No timer of its own: the caller
// bounds it (and resets the stream on timeout, since the stream's state is
// then unknown).
Task<Result<std::chrono::nanoseconds>> ping_once(ByteChannel& stream);

}  // namespace weft::ping
