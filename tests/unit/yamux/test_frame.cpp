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

TEST(YamuxRingBuffer, WrapsAndGrows) {
  RingBuffer r;
  Bytes in(10000);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::uint8_t>(i * 7);
  Bytes out;
  std::size_t written = 0;
  // Interleave writes and reads of different sizes so the content wraps.
  std::size_t step = 1;
  while (out.size() < in.size()) {
    const std::size_t w = std::min(in.size() - written, step * 37 % 3001 + 1);
    r.write(BytesView(in).subspan(written, w), 1 << 20);
    written += w;
    const std::size_t want = step * 13 % 2000 + 1;
    if (step % 2 == 0) {
      Bytes tmp(want);
      const std::size_t n = r.read(tmp);
      out.insert(out.end(), tmp.begin(), tmp.begin() + static_cast<std::ptrdiff_t>(n));
    } else {
      const std::size_t before = out.size();
      const std::size_t n = r.read_append(out, want);
      EXPECT_EQ(out.size(), before + n);
      EXPECT_LE(n, want);
    }
    if (written == in.size()) {
      Bytes rest(r.size());
      EXPECT_EQ(r.read(rest), rest.size());
      append(out, rest);
    }
    ++step;
  }
  EXPECT_EQ(out, in);
  EXPECT_TRUE(r.empty());
  const std::size_t cap = r.capacity();
  EXPECT_LE(cap, 32u * 1024);
  r.release();
  EXPECT_EQ(r.capacity(), 0u);
  Bytes none(4);
  EXPECT_EQ(r.read(none), 0u);
  EXPECT_EQ(r.read_append(none, 4), 0u);
  EXPECT_EQ(none.size(), 4u);
}

TEST(YamuxRingBuffer, GrowthRespectsMaxCapacityUnlessOneWriteNeedsMore) {
  RingBuffer r;
  Bytes big(100 * 1024, 1);
  r.write(big, 64 * 1024);  // needs more than the cap: exactly what it needs
  EXPECT_EQ(r.capacity(), big.size());
  Bytes small(10, 2);
  r.write(small, 120 * 1024);
  EXPECT_LE(r.capacity(), 120u * 1024);
  EXPECT_EQ(r.size(), big.size() + small.size());
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
