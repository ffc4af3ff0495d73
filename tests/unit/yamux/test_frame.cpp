#include <gtest/gtest.h>

#include <cstring>

#include "yamux/buffers.hpp"
#include "yamux/config.hpp"
#include "yamux/frame.hpp"

using namespace weft;
using namespace weft::yamux;

TEST(YamuxFrame, EncodesBigEndianHeader) {
  std::uint8_t b[kHeaderSize];
  encode_header(make_header(FrameType::window_update, flag::syn | flag::fin, 0x01020304, 0xa0b0c0d0),
                b);
  const std::uint8_t want[] = {0, 1, 0, 5, 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0};
  EXPECT_EQ(0, std::memcmp(b, want, kHeaderSize));
  FrameHeader h = decode_header(b);
  EXPECT_EQ(h.version, 0);
  EXPECT_EQ(h.frame_type(), FrameType::window_update);
  EXPECT_EQ(h.flags, flag::syn | flag::fin);
  EXPECT_EQ(h.stream_id, 0x01020304u);
  EXPECT_EQ(h.length, 0xa0b0c0d0u);
}

TEST(YamuxFrame, DecodesAnyBytes) {
  const std::uint8_t raw[] = {7, 9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1};
  FrameHeader h = decode_header(raw);
  EXPECT_EQ(h.version, 7);
  EXPECT_EQ(h.type, 9);
  EXPECT_EQ(h.flags, 0xffff);
  EXPECT_EQ(h.stream_id, 0xffffffffu);
  EXPECT_EQ(h.length, 1u);
  EXPECT_EQ(describe(h), "Unknown#9(stream 4294967295, flags SYN|ACK|FIN|RST|0xfff0, length 1)");
}

TEST(YamuxFrame, Describe) {
  EXPECT_EQ(describe(make_header(FrameType::data, 0, 3, 10)), "Data(stream 3, flags none, length 10)");
  EXPECT_EQ(describe(make_header(FrameType::ping, flag::ack, 0, 7)),
            "Ping(stream 0, flags ACK, length 7)");
}

TEST(YamuxReceiveQueue, KeepsOrderAcrossChunksReadsAndTakes) {
  ReceiveQueue q;
  Bytes in(300000);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
  Bytes out;
  std::size_t written = 0;
  std::size_t step = 1;
  // Writes of every size (some announcing more to come), reads and takes of
  // every size, interleaved.
  while (out.size() < in.size()) {
    const std::size_t w = std::min(in.size() - written, step * 7919 % 20011 + 1);
    q.write(BytesView(in).subspan(written, w), step % 3 == 0 ? 50000 : 0);
    written += w;
    const std::size_t want = step * 13 % 9000 + 1;
    if (step % 3 == 0) {
      Bytes tmp(want);
      const std::size_t n = q.read(tmp);
      EXPECT_LE(n, want);
      out.insert(out.end(), tmp.begin(), tmp.begin() + static_cast<std::ptrdiff_t>(n));
    } else if (step % 3 == 1) {
      const bool had_bytes = !q.empty();
      Bytes holder;
      const BytesView view = q.take_view(want, holder);
      EXPECT_LE(view.size(), want);
      EXPECT_EQ(view.empty(), !had_bytes);
      out.insert(out.end(), view.begin(), view.end());
    } else {
      const bool had_bytes = !q.empty();
      Bytes taken = q.take(want);
      EXPECT_LE(taken.size(), want);
      EXPECT_EQ(taken.empty(), !had_bytes);
      append(out, taken);
    }
    EXPECT_EQ(q.size(), written - out.size());
    if (written == in.size()) {
      while (!q.empty()) append(out, q.take(1 << 20));
    }
    ++step;
  }
  EXPECT_EQ(out, in);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.chunks(), 0u);  // an emptied queue holds no storage
  Bytes none(4);
  EXPECT_EQ(q.read(none), 0u);
  EXPECT_TRUE(q.take(4).empty());
}

TEST(YamuxReceiveQueue, AFrameArrivingInPiecesIsTakenWithoutACopy) {
  ReceiveQueue q;
  Bytes frame(100000);
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(i);
  // Three pieces, the first announcing the rest: one chunk sized for all.
  q.write(BytesView(frame).first(30000), 70000);
  q.write(BytesView(frame).subspan(30000, 30000), 40000);
  q.write(BytesView(frame).subspan(60000), 0);
  EXPECT_EQ(q.chunks(), 1u);
  Bytes taken = q.take(1 << 20);
  EXPECT_EQ(taken, frame);
  // The chunk itself (large chunks have kMaxChunk of storage), not a copy.
  EXPECT_EQ(taken.capacity(), ReceiveQueue::kMaxChunk);
  EXPECT_EQ(q.chunks(), 0u);

  // Given back, its storage serves the next large chunk.
  const std::uint8_t* storage = taken.data();
  ReceiveQueue::recycle(std::move(taken));
  q.write(BytesView(frame).first(70000), 0);
  Bytes again = q.take(1 << 20);
  EXPECT_EQ(again.data(), storage);
  EXPECT_EQ(again, Bytes(frame.begin(), frame.begin() + 70000));

  // A take smaller than the chunk, or after a read began it, copies.
  q.write(frame, 0);
  Bytes part = q.take(1000);
  EXPECT_EQ(part, Bytes(frame.begin(), frame.begin() + 1000));
  Bytes rest = q.take(1 << 20);
  EXPECT_EQ(rest, Bytes(frame.begin() + 1000, frame.end()));
  EXPECT_TRUE(q.empty());
}

TEST(YamuxReceiveQueue, AViewOfAWholeChunkIsTheChunkAndOutlivesTheQueue) {
  ReceiveQueue q;
  Bytes frame(100000);
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(i * 3);
  q.write(frame, 0);
  q.write(BytesView(frame).first(5000), 0);  // a second frame, in the same chunk's room
  // A view smaller than what the chunk holds is a copy; the chunk stays queued.
  Bytes holder;
  BytesView part = q.take_view(1000, holder);
  EXPECT_EQ(Bytes(part.begin(), part.end()), Bytes(frame.begin(), frame.begin() + 1000));
  EXPECT_EQ(holder.size(), 1000u);
  EXPECT_EQ(q.chunks(), 1u);
  // A view of everything left in the chunk is the chunk itself, moved out.
  BytesView rest = q.take_view(1 << 20, holder);
  EXPECT_EQ(rest.size(), 104000u);
  EXPECT_EQ(rest.data(), holder.data() + 1000);
  EXPECT_EQ(holder.capacity(), ReceiveQueue::kMaxChunk);
  EXPECT_EQ(Bytes(rest.begin(), rest.begin() + 99000), Bytes(frame.begin() + 1000, frame.end()));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.chunks(), 0u);
  // Emptying the queue (a reset) and refilling it leaves the view untouched.
  Bytes other(200000, 0xEE);
  q.write(other, 0);
  q.release();
  q.write(other, 0);
  EXPECT_EQ(Bytes(rest.begin(), rest.begin() + 99000), Bytes(frame.begin() + 1000, frame.end()));
  Bytes empty_holder(7, 1);
  ReceiveQueue none;
  EXPECT_TRUE(none.take_view(10, empty_holder).empty());
  EXPECT_TRUE(empty_holder.empty());
}

TEST(YamuxReceiveQueue, BytesWrittenInPlaceKeepTheirOrderWithCopiedOnes) {
  ReceiveQueue q;
  Bytes expect;
  auto fill = [&expect](MutableBytesView room, std::size_t n, std::uint8_t seed) {
    for (std::size_t i = 0; i < n; ++i) room[i] = static_cast<std::uint8_t>(seed + i * 5);
    expect.insert(expect.end(), room.begin(), room.begin() + static_cast<std::ptrdiff_t>(n));
  };
  const Bytes head(1000, 7);
  q.write(head, 300000);  // the start of a large frame: a chunk of kMaxChunk
  append(expect, head);
  MutableBytesView room = q.prepare(200000);
  ASSERT_EQ(room.size(), 200000u);  // what was asked, within the chunk's room
  fill(room, 150000, 1);
  q.commit(150000);  // less than the room: the rest stays free
  EXPECT_EQ(q.size(), 151000u);
  // A copy lands right after, over the room prepared but not committed.
  const Bytes copied(5000, 9);
  q.write(copied, 0);
  append(expect, copied);
  EXPECT_EQ(q.chunks(), 1u);
  // The room left in the chunk, then, once it is full, a new chunk.
  room = q.prepare(1 << 20);
  EXPECT_EQ(room.size(), ReceiveQueue::kMaxChunk - 156000);
  fill(room, room.size(), 2);
  q.commit(room.size());
  room = q.prepare(10000);
  EXPECT_EQ(q.chunks(), 2u);
  // Nothing written: the new chunk goes back at once.
  q.commit(0);
  EXPECT_EQ(q.chunks(), 1u);
  room = q.prepare(10000);
  fill(room, 3000, 3);
  q.commit(3000);
  EXPECT_EQ(q.size(), expect.size());

  Bytes out(expect.size() + 10);
  EXPECT_EQ(q.read(out), expect.size());
  out.resize(expect.size());
  EXPECT_EQ(out, expect);
  EXPECT_EQ(q.chunks(), 0u);
  // An unused prepare on an empty queue leaves no storage either.
  q.prepare(5000);
  q.commit(0);
  EXPECT_EQ(q.chunks(), 0u);
}

TEST(YamuxReceiveQueue, RoomTooSmallForAWholePieceStartsANewChunk) {
  ReceiveQueue q;
  const Bytes first(ReceiveQueue::kMaxChunk - 1000, 1);
  q.write(first, 500000);
  // 1000 bytes of room: enough when the piece is that small...
  EXPECT_EQ(q.prepare(500000, 1000).size(), 1000u);
  q.commit(0);
  EXPECT_EQ(q.chunks(), 1u);
  // ...not for a larger one: a new chunk, the old one's end stays unused.
  MutableBytesView room = q.prepare(500000, 65519);
  EXPECT_EQ(room.size(), ReceiveQueue::kMaxChunk);
  EXPECT_EQ(q.chunks(), 2u);
  std::memset(room.data(), 2, 65519);
  q.commit(65519);
  // Copies fill the newest chunk only.
  q.write(Bytes(10, 3), 0);
  Bytes out(first.size() + 65519 + 10);
  ASSERT_EQ(q.read(out), out.size());
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(first.size())), first);
  EXPECT_EQ(out[first.size()], 2);
  EXPECT_EQ(out[first.size() + 65518], 2);
  EXPECT_EQ(out[first.size() + 65519], 3);
  EXPECT_TRUE(q.empty());
}

TEST(YamuxReceiveQueue, ARecycledChunkFilledInPlaceShowsOnlyTheNewBytes) {
  ReceiveQueue q;
  q.write(Bytes(100000, 0xAA), 0);
  Bytes taken = q.take(1 << 20);
  ASSERT_EQ(taken.capacity(), ReceiveQueue::kMaxChunk);
  const std::uint8_t* storage = taken.data();
  ReceiveQueue::recycle(std::move(taken));
  // The same storage again, its old bytes still there but not queued.
  MutableBytesView room = q.prepare(300000);
  EXPECT_EQ(room.data(), storage);
  std::memset(room.data(), 0x55, 70000);
  q.commit(70000);
  Bytes again = q.take(1 << 20);
  EXPECT_EQ(again.data(), storage);
  EXPECT_EQ(again, Bytes(70000, 0x55));
}

TEST(YamuxReceiveQueue, TinyFramesShareChunks) {
  ReceiveQueue q;
  const std::uint8_t one[1] = {42};
  for (int i = 0; i < 100000; ++i) q.write(one, 0);
  EXPECT_EQ(q.size(), 100000u);
  // Every chunk but the newest is full.
  EXPECT_EQ(q.chunks(), (100000 + ReceiveQueue::kMinChunk - 1) / ReceiveQueue::kMinChunk);
  // Big announcements are capped, and a chunk that holds a few bytes of its
  // frame so far is not handed out (its storage would go with them).
  ReceiveQueue big;
  big.write(one, 1u << 30);
  EXPECT_EQ(big.chunks(), 1u);
  Bytes t = big.take(10);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_LT(t.capacity(), ReceiveQueue::kMinChunk);
  q.release();
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.chunks(), 0u);
}

TEST(YamuxConfig, SanitizeRaisesOutOfRangeValues) {
  YamuxConfig c;
  c.initial_window = 1000;
  c.max_window = 10;
  c.keepalive_timeout = std::chrono::milliseconds{0};
  c.close_timeout = std::chrono::milliseconds{-5};
  c.read_buffer_size = 1;
  c.max_frame_payload = 0;
  YamuxConfig s = sanitize(c);
  EXPECT_EQ(s.initial_window, kDefaultWindow);
  EXPECT_EQ(s.max_window, kDefaultWindow);
  EXPECT_EQ(s.keepalive_timeout, YamuxConfig{}.keepalive_timeout);
  EXPECT_EQ(s.close_timeout, YamuxConfig{}.close_timeout);
  EXPECT_GE(s.read_buffer_size, 4096u);
  EXPECT_EQ(s.max_frame_payload, 1u);
}
