// /echo/1.0.0: every byte is sent back until the remote closes its side.
// weft's own test and demo protocol.
#pragma once

#include <string_view>

#include "core/byte_channel.hpp"

namespace weft::echo {

inline constexpr std::string_view kProtocol = "/echo/1.0.0";

Task<Status> serve(ByteChannel& stream);

// Sends `data`, closes the write side, and returns everything echoed back.
// Writing and reading run concurrently, so any size works whatever the
// windows. At most `max_reply` bytes are accepted back.
Task<Result<Bytes>> round_trip(ByteChannel& stream, BytesView data, std::size_t max_reply);

}  // namespace weft::echo
