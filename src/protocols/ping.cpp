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

namespace {

// The exchange itself; `lazy` proposes the protocol right before the payload
// and reads the answer right before the echo.
Task<Result<std::chrono::nanoseconds>> exchange(ByteChannel& stream, bool lazy,
                                                mss::Config config) {
  std::array<std::uint8_t, kPayloadSize> sent, got;
  crypto::random_bytes(sent);
  const auto start = std::chrono::steady_clock::now();
  if (lazy) {
    auto proposing = mss::select_lazy(stream, std::string(kProtocol), config);
    WEFT_CO_CHECK(co_await std::move(proposing));
  }
  WEFT_CO_CHECK(co_await stream.write_all(sent));
  if (lazy) {
    auto confirming = mss::confirm(stream, std::string(kProtocol), config);
    WEFT_CO_CHECK(co_await std::move(confirming));
  }
  WEFT_CO_CHECK(co_await stream.read_exact(got));
  const auto rtt = std::chrono::steady_clock::now() - start;
  if (std::memcmp(sent.data(), got.data(), kPayloadSize) != 0)
    co_return Error{errc::protocol_error, "ping: the reply does not match the payload sent"};
  co_return std::chrono::duration_cast<std::chrono::nanoseconds>(rtt);
}

}  // namespace

Task<Result<std::chrono::nanoseconds>> ping_once(ByteChannel& stream) {
  co_return co_await exchange(stream, false, mss::Config{});
}

Task<Result<std::chrono::nanoseconds>> ping_once_negotiating(ByteChannel& stream,
                                                             mss::Config config) {
  co_return co_await exchange(stream, true, config);
}

}  // namespace weft::ping
