#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/byte_channel.hpp"
#include "core/protobuf.hpp"
#include "core/varint.hpp"
#include "core/turn_queue.hpp"
#include "core/wait_queue.hpp"

using namespace weft;

TEST(Varint, RoundTripsBoundaries) {
  for (std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 255ull, 300ull, 16383ull, 16384ull,
                          (1ull << 56) - 1, (1ull << 63) - 1}) {
    Bytes b;
    varint::encode(v, b);
    EXPECT_EQ(b.size(), varint::encoded_size(v));
    auto d = varint::decode(b);
    ASSERT_TRUE(d.ok()) << v;
    EXPECT_EQ(d->value, v);
    EXPECT_EQ(d->size, b.size());
  }
}

TEST(Varint, SpecExamples) {
  Bytes b;
  varint::encode(300, b);
  EXPECT_EQ(b, (Bytes{0xac, 0x02}));
  b.clear();
  varint::encode(16384, b);
  EXPECT_EQ(b, (Bytes{0x80, 0x80, 0x01}));
}

TEST(Varint, RejectsMalformed) {
  EXPECT_EQ(varint::decode(Bytes{0x81, 0x00}).code(), errc::parse_error);  // not minimal
  EXPECT_EQ(varint::decode(Bytes{0x80}).code(), errc::eof);                // truncated
  EXPECT_EQ(varint::decode(Bytes{}).code(), errc::eof);
  Bytes ten(9, 0xff);
  ten.push_back(0x01);
  EXPECT_EQ(varint::decode(ten).code(), errc::parse_error);  // > 9 bytes
  Bytes nine(9, 0xff);
  EXPECT_EQ(varint::decode(nine).code(), errc::parse_error);  // 9th byte continues
}

TEST(Protobuf, WriterReaderRoundTrip) {
  pb::Writer w;
  w.varint_field(1, 1);
  w.bytes_field(2, Bytes{1, 2, 3});
  w.string_field(3, "hello");
  Bytes msg = std::move(w).take();
  EXPECT_EQ(msg, (Bytes{0x08, 0x01, 0x12, 0x03, 1, 2, 3, 0x1a, 5, 'h', 'e', 'l', 'l', 'o'}));
  pb::Reader r(msg);
  pb::Field f;
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.number, 1u);
  EXPECT_EQ(f.varint, 1u);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.number, 2u);
  EXPECT_EQ(Bytes(f.bytes.begin(), f.bytes.end()), (Bytes{1, 2, 3}));
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.str(), "hello");
  EXPECT_FALSE(r.next(f));
  EXPECT_TRUE(r.status().ok());
}

TEST(Protobuf, RejectsMalformed) {
  for (Bytes bad : {Bytes{0x12, 0x05, 1}, Bytes{0x08}, Bytes{0x00, 0x01}, Bytes{0x0b},
                    Bytes{0x09, 1, 2}, Bytes{0x12, 0xff, 0xff, 0xff, 0xff, 0x0f}}) {
    pb::Reader r(bad);
    pb::Field f;
    while (r.next(f)) {
    }
    EXPECT_EQ(r.status().code(), errc::parse_error) << to_hex(bad);
  }
}

TEST(WaitQueue, WakesEveryWaiter) {
  asio::io_context io;
  WaitQueue q;
  int woken = 0;
  for (int i = 0; i < 64; ++i) {
    asio::co_spawn(io, [&]() -> Task<void> {
      auto ec = co_await q.wait();
      if (!ec) ++woken;
    }, asio::detached);
  }
  io.poll();
  EXPECT_EQ(q.size(), 64u);
  q.notify_all();
  io.poll();
  EXPECT_EQ(woken, 64);
  EXPECT_TRUE(q.empty());
}

TEST(WaitQueue, CancelledWaiterCompletesOnceWithAborted) {
  asio::io_context io;
  WaitQueue q;
  asio::cancellation_signal sig;
  int completions = 0;
  std::error_code got;
  q.async_wait(asio::bind_cancellation_slot(sig.slot(), asio::bind_executor(io, [&](std::error_code ec) {
    ++completions;
    got = ec;
  })));
  int other = 0;
  q.async_wait(asio::bind_executor(io, [&](std::error_code ec) { if (!ec) ++other; }));
  EXPECT_EQ(q.size(), 2u);
  sig.emit(asio::cancellation_type::terminal);
  sig.emit(asio::cancellation_type::terminal);  // a second cancel is a no-op
  EXPECT_EQ(q.size(), 1u);
  q.notify_all();
  io.run();
  EXPECT_EQ(completions, 1);
  EXPECT_EQ(got, asio::error::operation_aborted);
  EXPECT_EQ(other, 1);
}

TEST(WaitQueue, DestructionAbortsWaiters) {
  asio::io_context io;
  std::error_code got;
  {
    WaitQueue q;
    q.async_wait(asio::bind_executor(io, [&](std::error_code ec) { got = ec; }));
  }
  io.run();
  EXPECT_EQ(got, asio::error::operation_aborted);
}

namespace {

// Waits for its turn, records its id (or -id when cancelled), then leaves.
Task<void> take_turn(TurnQueue* q, int id, std::vector<int>* order) {
  TurnQueue::Place place(*q);
  while (!place.held()) {
    auto [ec] = co_await q->async_wait_moved(use_tuple);
    if (ec) {
      order->push_back(-id);
      co_return;
    }
  }
  order->push_back(id);
}

}  // namespace

TEST(TurnQueue, ServesInArrivalOrder) {
  asio::io_context io;
  TurnQueue q;
  std::vector<int> order;
  auto first = std::make_unique<TurnQueue::Place>(q);
  EXPECT_TRUE(first->held());
  for (int id = 1; id <= 5; ++id) asio::co_spawn(io, take_turn(&q, id, &order), asio::detached);
  io.poll();
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(q.size(), 6u);
  first.reset();
  io.poll();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(q.size(), 0u);
}

// The case a WaitQueue re-check gets wrong: the turn passed to a waiter whose
// resumption is still queued, and a newcomer arrives before it runs.
TEST(TurnQueue, NewcomerDoesNotOvertakeAWokenWaiter) {
  asio::io_context io;
  TurnQueue q;
  std::vector<int> order;
  auto first = std::make_unique<TurnQueue::Place>(q);
  asio::co_spawn(io, take_turn(&q, 1, &order), asio::detached);
  io.poll();
  first.reset();  // waiter 1 now holds the turn; its resumption is posted
  TurnQueue::Place newcomer(q);
  EXPECT_FALSE(newcomer.held());
  io.poll();
  EXPECT_EQ(order, (std::vector<int>{1}));
  EXPECT_TRUE(newcomer.held());
}

TEST(TurnQueue, CancelledWaiterLeavesAndPassesNothingOn) {
  asio::io_context io;
  TurnQueue q;
  std::vector<int> order;
  asio::cancellation_signal sig;
  auto first = std::make_unique<TurnQueue::Place>(q);
  asio::co_spawn(io, take_turn(&q, 1, &order), asio::bind_cancellation_slot(sig.slot(), asio::detached));
  asio::co_spawn(io, take_turn(&q, 2, &order), asio::detached);
  io.poll();
  sig.emit(asio::cancellation_type::terminal);
  io.poll();
  EXPECT_EQ(order, (std::vector<int>{-1}));
  EXPECT_TRUE(first->held());  // cancelling a waiter does not move the turn
  first.reset();
  io.poll();
  EXPECT_EQ(order, (std::vector<int>{-1, 2}));
}
