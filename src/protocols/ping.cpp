#include "protocols/ping.hpp"

#include <array>
#include <cstring>

#include "crypto/crypto.hpp"

namespace weft::ping {

Task<Status> serve(ByteChannel& stream) {
  std::array<std::uint8_t, kPayloadSize> buf;
  for (;;) {
    auto st = co_await stream.read_exact(buf);
    if (!st) {
      if (st.code() == errc::eof) break;  // the remote is done pinging
      co_return st;
    }
    WEFT_CO_CHECK(co_await stream.write_all(buf));
  }
  co_return co_await stream.close_write();
}

Task<Result<std::chrono::nanoseconds>> ping_once(ByteChannel& stream) {
  std::array<std::uint8_t, kPayloadSize> sent, got;
  crypto::random_bytes(sent);
  const auto start = std::chrono::steady_clock::now();
  WEFT_CO_CHECK(co_await stream.write_all(sent));
  WEFT_CO_CHECK(co_await stream.read_exact(got));
  const auto rtt = std::chrono::steady_clock::now() - start;
  if (std::memcmp(sent.data(), got.data(), kPayloadSize) != 0)
    co_return Error{errc::protocol_error, "ping: the reply does not match the payload sent"};
  co_return std::chrono::duration_cast<std::chrono::nanoseconds>(rtt);
}

}  // namespace weft::ping
