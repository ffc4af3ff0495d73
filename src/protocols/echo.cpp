#include "protocols/echo.hpp"

#include "core/asio.hpp"

namespace weft::echo {

using namespace asio::experimental::awaitable_operators;

Task<Status> serve(ByteChannel& stream) {
  // Pooled and not zeroed: a stream that echoes a few bytes should not pay
  // for clearing 64 KiB.
  IoBuffer buf(64 * 1024);
  for (;;) {
    auto n = co_await stream.read_some(buf.view());
    if (!n) {
      if (n.code() == errc::eof) break;
      co_return std::move(n).error();
    }
    // write_more: when the remote's FIN came with its last bytes, the echo
    // and our FIN leave together.
    WEFT_CO_CHECK(co_await stream.write_more(BytesView(buf.data(), *n)));
  }
  co_return co_await stream.close_write();
}

namespace {

Task<Status> send_all(ByteChannel& stream, BytesView data) {
  WEFT_CO_CHECK(co_await stream.write_all(data));
  co_return co_await stream.close_write();
}

Task<Status> receive_all(ByteChannel& stream, Bytes& out, std::size_t max_reply) {
  Bytes buf(64 * 1024);
  for (;;) {
    auto n = co_await stream.read_some(buf);
    if (!n) {
      if (n.code() == errc::eof) co_return Status{};
      co_return std::move(n).error();
    }
    if (out.size() + *n > max_reply)
      co_return Error{errc::limit_exceeded, "echo: reply longer than " + std::to_string(max_reply)};
    append(out, BytesView(buf).first(*n));
  }
}

}  // namespace

Task<Result<Bytes>> round_trip(ByteChannel& stream, BytesView data, std::size_t max_reply) {
  Bytes reply;
  reply.reserve(data.size());
  auto [sent, received] = co_await (send_all(stream, data) && receive_all(stream, reply, max_reply));
  if (!sent) co_return std::move(sent).error();
  if (!received) co_return std::move(received).error();
  co_return reply;
}

}  // namespace weft::echo
