#include <gtest/gtest.h>

#include "mss/multistream.hpp"
#include "core/varint.hpp"
#include "testing/memory_pipe.hpp"

using namespace weft;
using namespace asio::experimental::awaitable_operators;

namespace {

Bytes msg(std::string_view s) {
  Bytes b;
  mss::encode_message(s, b);
  return b;
}

struct Outcome {
  Result<std::string> dialer = Error{errc::io_error};
  Result<std::string> listener = Error{errc::io_error};
};

Outcome negotiate(std::vector<std::string> proposals, std::vector<std::string> supported) {
  asio::io_context io;
  auto [a, b] = test::memory_pipe();
  Outcome out;
  auto is_supported = [&](std::string_view p) {
    return std::find(supported.begin(), supported.end(), p) != supported.end();
  };
  asio::co_spawn(io, [&]() -> Task<void> {
    out.dialer = co_await mss::select(*a, proposals);
    if (!out.dialer) a->abort();
  }, asio::detached);
  asio::co_spawn(io, [&]() -> Task<void> {
    out.listener = co_await mss::handle(*b, is_supported);
    if (!out.listener) b->abort();
  }, asio::detached);
  io.run();
  return out;
}

}  // namespace

TEST(Multistream, EncodesSpecExample) {
  EXPECT_EQ(msg("/multistream/1.0.0"),
            ([] { Bytes b{19}; for (char c : std::string("/multistream/1.0.0\n")) b.push_back(c); return b; })());
}

TEST(Multistream, AgreesOnFirstSupported) {
  auto o = negotiate({"/a/1", "/b/1", "/c/1"}, {"/c/1", "/b/1"});
  ASSERT_TRUE(o.dialer.ok()) << o.dialer.error().message();
  ASSERT_TRUE(o.listener.ok());
  EXPECT_EQ(*o.dialer, "/b/1");
  EXPECT_EQ(*o.listener, "/b/1");
}

TEST(Multistream, NoneSupported) {
  auto o = negotiate({"/a/1", "/b/1"}, {"/c/1"});
  EXPECT_EQ(o.dialer.code(), errc::protocol_not_supported);
  EXPECT_FALSE(o.listener.ok());
}

TEST(Multistream, PipelinedBytesAfterNegotiationReachNextLayer) {
  asio::io_context io;
  auto [a, b] = test::memory_pipe();
  std::string got;
  asio::co_spawn(io, [&]() -> Task<void> {
    // A dialer that pipelines header, proposal and application data at once.
    Bytes out = msg("/multistream/1.0.0");
    append(out, msg("/x/1"));
    append(out, as_bytes("payload"));
    (void)co_await a->write_all(out);
  }, asio::detached);
  asio::co_spawn(io, [&]() -> Task<void> {
    auto r = co_await mss::handle(*b, [](std::string_view p) { return p == "/x/1"; });
    EXPECT_TRUE(r.ok());
    Bytes buf(7);
    auto st = co_await b->read_exact(buf);
    EXPECT_TRUE(st.ok());
    got = std::string(as_string_view(buf));
  }, asio::detached);
  io.run();
  EXPECT_EQ(got, "payload");
}

TEST(Multistream, ParserRejectsMalformed) {
  // missing newline
  Bytes no_nl{4, 'a', 'b', 'c', 'd'};
  EXPECT_EQ(mss::parse_message(no_nl, 1024).code(), errc::parse_error);
  // empty message
  EXPECT_EQ(mss::parse_message(Bytes{0}, 1024).code(), errc::parse_error);
  // too long
  Bytes big;
  varint::encode(5000, big);
  EXPECT_EQ(mss::parse_message(big, 1024).code(), errc::limit_exceeded);
  // truncated
  EXPECT_EQ(mss::parse_message(Bytes{5, 'a'}, 1024).code(), errc::eof);
  // non-minimal varint length
  EXPECT_EQ(mss::parse_message(Bytes{0x82, 0x00, 'a', '\n'}, 1024).code(), errc::parse_error);
}

TEST(Multistream, ListenerRejectsWrongHeaderAndEndlessProposals) {
  asio::io_context io;
  auto [a, b] = test::memory_pipe();
  Result<std::string> r = Error{errc::io_error};
  asio::co_spawn(io, [&]() -> Task<void> {
    Bytes out = msg("/multistream/2.0.0");
    (void)co_await a->write_all(out);
  }, asio::detached);
  asio::co_spawn(io, [&]() -> Task<void> {
    r = co_await mss::handle(*b, [](std::string_view) { return false; });
  }, asio::detached);
  io.run();
  EXPECT_EQ(r.code(), errc::protocol_error);

  asio::io_context io2;
  auto [c, d] = test::memory_pipe();
  asio::co_spawn(io2, [&]() -> Task<void> {
    Bytes out = msg("/multistream/1.0.0");
    for (int i = 0; i < 100; ++i) append(out, msg("/nope/" + std::to_string(i)));
    (void)co_await c->write_all(out);
  }, asio::detached);
  asio::co_spawn(io2, [&]() -> Task<void> {
    r = co_await mss::handle(*d, [](std::string_view) { return false; });
  }, asio::detached);
  io2.run();
  EXPECT_EQ(r.code(), errc::limit_exceeded);
}

TEST(Multistream, ClosedMidNegotiationFailsCleanly) {
  asio::io_context io;
  auto [a, b] = test::memory_pipe();
  Result<std::string> r = Error{errc::io_error};
  asio::co_spawn(io, [&]() -> Task<void> {
    Bytes out = msg("/multistream/1.0.0");
    out.resize(out.size() - 3);  // cut mid-message, then close
    (void)co_await a->write_all(out);
    (void)co_await a->close_write();
  }, asio::detached);
  asio::co_spawn(io, [&]() -> Task<void> {
    r = co_await mss::handle(*b, [](std::string_view) { return true; });
  }, asio::detached);
  io.run();
  EXPECT_EQ(r.code(), errc::eof);
}

// Lazy negotiation: the dialer's first bytes follow its proposal without
// waiting; the answer is read before the listener's first bytes, which
// reach the next layer intact.
TEST(Multistream, LazySelectPipelinesBothWays) {
  asio::io_context io;
  auto [a, b] = test::memory_pipe();
  std::string dialer_got, listener_got;
  asio::co_spawn(io, [&]() -> Task<void> {
    EXPECT_TRUE((co_await mss::select_lazy(*a, "/x/1")).ok());
    EXPECT_TRUE((co_await a->write_all(as_bytes("request"))).ok());
    EXPECT_TRUE((co_await mss::confirm(*a, "/x/1")).ok());
    Bytes buf(5);
    EXPECT_TRUE((co_await a->read_exact(buf)).ok());
    dialer_got = std::string(as_string_view(buf));
  }, asio::detached);
  asio::co_spawn(io, [&]() -> Task<void> {
    auto r = co_await mss::handle(*b, [](std::string_view p) { return p == "/x/1"; });
    EXPECT_TRUE(r.ok());
    Bytes buf(7);
    EXPECT_TRUE((co_await b->read_exact(buf)).ok());
    listener_got = std::string(as_string_view(buf));
    EXPECT_TRUE((co_await b->write_all(as_bytes("reply"))).ok());
  }, asio::detached);
  io.run();
  EXPECT_EQ(listener_got, "request");
  EXPECT_EQ(dialer_got, "reply");
}

TEST(Multistream, LazySelectRefusedOrMisansweredFails) {
  for (const std::string answer : {"na", "/y/1"}) {
    asio::io_context io;
    auto [a, b] = test::memory_pipe();
    Status confirmed;
    asio::co_spawn(io, [&]() -> Task<void> {
      EXPECT_TRUE((co_await mss::select_lazy(*a, "/x/1")).ok());
      confirmed = co_await mss::confirm(*a, "/x/1");
    }, asio::detached);
    asio::co_spawn(io, [&]() -> Task<void> {
      Bytes out = msg("/multistream/1.0.0");
      append(out, msg(answer));
      (void)co_await b->write_all(out);
    }, asio::detached);
    io.run();
    EXPECT_EQ(confirmed.code(), answer == "na" ? errc::protocol_not_supported : errc::protocol_error)
        << answer;
  }
  // A wrong header is a protocol error too.
  asio::io_context io;
  auto [a, b] = test::memory_pipe();
  Status confirmed;
  asio::co_spawn(io, [&]() -> Task<void> { confirmed = co_await mss::confirm(*a, "/x/1"); },
                 asio::detached);
  asio::co_spawn(io, [&]() -> Task<void> { (void)co_await b->write_all(msg("/multistream/2.0.0")); },
                 asio::detached);
  io.run();
  EXPECT_EQ(confirmed.code(), errc::protocol_error);
  // An invalid protocol name is refused before anything is sent.
  asio::io_context io2;
  auto [c, d] = test::memory_pipe();
  Status proposed;
  asio::co_spawn(io2, [&]() -> Task<void> { proposed = co_await mss::select_lazy(*c, "bad\nname"); },
                 asio::detached);
  io2.run();
  EXPECT_EQ(proposed.code(), errc::invalid_argument);
}
