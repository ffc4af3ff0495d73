// TcpChannel::write_more: held bytes join the next write, and never stall a
// conversation (a read that has to wait and close_write send them first).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

#include "net/tcp_channel.hpp"
#include "noise/noise_test_util.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft::test::spawn;
using weft::test::tcp_pair;

namespace {

// From string literals: nothing with a destructor in a co_await operand
// (the GCC 12 rule in core/asio.hpp).
BytesView text(std::string_view s) {
  return BytesView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

std::string as_string(const Bytes& b) { return std::string(b.begin(), b.end()); }

Task<Status> pause(std::chrono::milliseconds d) {
  Timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_tuple);
  co_return Status{};
}

// The remote's first read starts before anything is sent; the held bytes
// must arrive together with the write that follows 20 ms later.
Task<Status> hold_then_write(ByteChannel& ch) {
  WEFT_CO_CHECK(co_await ch.write_more(text("proposal|")));
  WEFT_CO_CHECK(co_await pause(20ms));
  WEFT_CO_CHECK(co_await ch.write_all(text("message")));
  co_return Status{};
}

Task<Result<Bytes>> first_read(ByteChannel& ch) {
  Bytes buf(256);
  auto n = co_await ch.read_some(buf);
  if (!n) co_return std::move(n).error();
  buf.resize(*n);
  co_return buf;
}

// Holds a request, then waits for the answer: the wait must send it.
Task<Result<Bytes>> hold_then_read(ByteChannel& ch) {
  WEFT_CO_CHECK(co_await ch.write_more(text("ping")));
  auto answer = co_await first_read(ch);
  co_return answer;
}

Task<Status> answer_ping(ByteChannel& ch) {
  auto request = co_await first_read(ch);
  if (!request) co_return std::move(request).error();
  if (as_string(*request) != "ping") co_return Error{errc::protocol_error, as_string(*request)};
  co_return co_await ch.write_all(text("pong"));
}

Task<Status> hold_then_close(ByteChannel& ch) {
  WEFT_CO_CHECK(co_await ch.write_more(text("bye")));
  co_return co_await ch.close_write();
}

}  // namespace

TEST(TcpChannel, HeldBytesJoinTheNextWrite) {
  asio::io_context io;
  auto [local, remote] = tcp_pair(io);
  auto received = spawn(io, first_read(*remote));
  auto sent = spawn(io, hold_then_write(*local));
  weft::test::run(io, std::chrono::seconds(10));
  ASSERT_TRUE(sent->has_value() && (*sent)->ok());
  ASSERT_TRUE(received->has_value() && (*received)->ok());
  EXPECT_EQ(as_string(***received), "proposal|message");
}

TEST(TcpChannel, AReadThatWaitsSendsTheHeldBytesFirst) {
  asio::io_context io;
  auto [local, remote] = tcp_pair(io);
  auto answered = spawn(io, answer_ping(*remote));
  auto answer = spawn(io, hold_then_read(*local));
  weft::test::run(io, std::chrono::seconds(10));
  ASSERT_TRUE(answered->has_value() && (*answered)->ok());
  ASSERT_TRUE(answer->has_value() && (*answer)->ok());
  EXPECT_EQ(as_string(***answer), "pong");
}

TEST(TcpChannel, CloseWriteSendsTheHeldBytesFirst) {
  asio::io_context io;
  auto [local, remote] = tcp_pair(io);
  auto closed = spawn(io, hold_then_close(*local));
  auto everything = spawn(io, weft::test::read_to_end(*remote));
  weft::test::run(io, std::chrono::seconds(10));
  ASSERT_TRUE(closed->has_value() && (*closed)->ok());
  ASSERT_TRUE(everything->has_value());
  EXPECT_EQ(as_string((*everything)->first), "bye");
  EXPECT_EQ((*everything)->second, errc::eof);
}
