// weft_stream_write_nocopy: weft reads the caller's memory in place and is
// done with it when the write's event arrives, whether the write finished,
// was cancelled or the node stopped. Each test overwrites (and frees) a
// buffer the moment its event arrives: a read of it after that would send
// the overwritten bytes (and, under AddressSanitizer, be reported).
#include <cstring>
#include <memory>

#include "capi/capi_test_util.hpp"

using namespace capi_test;

namespace {

constexpr const char* kSink = "/capi-test/sink/1.0.0";
constexpr uint8_t kPoison = 0xEE;

uint8_t pattern(size_t i) { return static_cast<uint8_t>(i * 7 + i / 251 + 1); }

// b dials a; a registers kSink; `stream` is b's end of one kSink stream and
// `remote` a's end, which reads only when the test says so.
struct SinkPair {
  weft_node a{0}, b{0};
  Poller pa{weft_node{0}}, pb{weft_node{0}};
  weft_stream stream{0}, remote{0};

  SinkPair() {
    a = make_node();
    b = make_node();
    pa = Poller(a);
    pb = Poller(b);
    weft_conn conn = dial(b, pb, a);
    EXPECT_EQ(weft_node_handle(a, kSink), WEFT_OK) << weft_last_error();
    EXPECT_EQ(weft_accept_stream(a, kSink, 1), WEFT_OK);
    const char* protos[] = {kSink};
    EXPECT_EQ(weft_open_stream(conn, protos, 1, 2), WEFT_OK);
    Event opened = pb.expect(2);
    EXPECT_EQ(opened.status, WEFT_OK) << opened.error;
    stream = opened.stream;
    Event accepted = pa.expect(1);
    EXPECT_EQ(accepted.status, WEFT_OK) << accepted.error;
    remote = accepted.stream;
  }
  ~SinkPair() {
    EXPECT_EQ(weft_node_close(b), WEFT_OK);
    EXPECT_EQ(weft_node_close(a), WEFT_OK);
  }

  // Reads on a's end until EOF or `limit` bytes; returns what arrived.
  std::vector<uint8_t> drain(size_t limit, uint64_t token = 1000) {
    std::vector<uint8_t> got;
    while (got.size() < limit) {
      EXPECT_EQ(weft_stream_read(remote, 256 * 1024, token), WEFT_OK) << weft_last_error();
      Event e = pa.expect(token++);
      if (e.status != WEFT_OK) break;
      got.insert(got.end(), e.data.begin(), e.data.end());
    }
    return got;
  }
};

}  // namespace

TEST(CapiWriteNocopy, ManyInFlightArriveIntactAfterTheirBuffersAreGone) {
  SinkPair p;
  constexpr size_t kChunk = 64 * 1024, kChunks = 24;  // more than the initial window
  std::vector<std::unique_ptr<uint8_t[]>> chunks;
  for (size_t c = 0; c < kChunks; ++c) {
    chunks.emplace_back(new uint8_t[kChunk]);
    for (size_t i = 0; i < kChunk; ++i) chunks[c][i] = pattern(c * kChunk + i);
    // Every other write copies: the two kinds keep their order.
    const uint64_t token = 100 + c;
    const int st = c % 2 == 0 ? weft_stream_write_nocopy(p.stream, chunks[c].get(), kChunk, token)
                              : weft_stream_write(p.stream, chunks[c].get(), kChunk, token);
    ASSERT_EQ(st, WEFT_OK) << weft_last_error();
  }
  ASSERT_EQ(weft_stream_close_write(p.stream, 200), WEFT_OK);

  // The remote reads while b's events are handled as they come: each
  // finished write's buffer is poisoned and freed at once.
  std::vector<uint8_t> got;
  uint64_t read_token = 1000;
  size_t writes_done = 0;
  bool eof = false;
  ASSERT_EQ(weft_stream_read(p.remote, 256 * 1024, read_token), WEFT_OK);
  while (!eof || writes_done < kChunks) {
    p.pb.poll_once(1);
    for (size_t c = 0; c < kChunks; ++c) {
      if (!chunks[c] || p.pb.seen(100 + c) == 0) continue;
      Event w = p.pb.expect(100 + c);
      EXPECT_EQ(w.status, WEFT_OK) << w.error;
      EXPECT_EQ(w.count, kChunk);
      std::memset(chunks[c].get(), kPoison, kChunk);
      chunks[c].reset();
      ++writes_done;
    }
    if (eof) continue;
    if (auto r = p.pa.wait(read_token, std::chrono::milliseconds(1))) {
      if (r->status == WEFT_EOF) {
        eof = true;
        continue;
      }
      ASSERT_EQ(r->status, WEFT_OK) << r->error;
      got.insert(got.end(), r->data.begin(), r->data.end());
      ASSERT_EQ(weft_stream_read(p.remote, 256 * 1024, ++read_token), WEFT_OK);
    }
  }
  ASSERT_EQ(got.size(), kChunk * kChunks);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], pattern(i)) << "byte " << i;
  EXPECT_EQ(p.pb.expect(200).status, WEFT_OK);
}

TEST(CapiWriteNocopy, CancelledWhileWaitingForWindowSendsOnlyTheOriginalBytes) {
  SinkPair p;
  // Four times the initial window: the write waits for the remote to read.
  const size_t len = 1 << 20;
  auto data = std::make_unique<uint8_t[]>(len);
  for (size_t i = 0; i < len; ++i) data[i] = pattern(i);
  ASSERT_EQ(weft_stream_write_nocopy(p.stream, data.get(), len, 10), WEFT_OK);
  EXPECT_FALSE(p.pb.wait(10, std::chrono::milliseconds(100)).has_value());  // stuck on the window
  ASSERT_EQ(weft_cancel(p.b, 10), WEFT_OK);
  Event w = p.pb.expect(10);
  EXPECT_EQ(w.type, WEFT_EVENT_WRITE);
  EXPECT_EQ(w.status, WEFT_ECANCELED) << w.error;
  std::memset(data.get(), kPoison, len);
  data.reset();

  // The window opens as the remote reads: what it gets is a prefix of the
  // original bytes, never the overwritten ones.
  ASSERT_EQ(weft_stream_close_write(p.stream, 11), WEFT_OK);
  std::vector<uint8_t> got = p.drain(len);
  EXPECT_EQ(p.pb.expect(11).status, WEFT_OK);
  EXPECT_GT(got.size(), 0u);
  EXPECT_LT(got.size(), len);
  // The cancelled write's count says exactly how much of it went out.
  EXPECT_EQ(w.count, got.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], pattern(i)) << "byte " << i;
}

// A copying write cancelled part way says how much of it was handed to the
// connection; a second write of the rest, from there, completes the data:
// the remote gets every byte once, in order.
TEST(CapiWriteNocopy, ACancelledWriteResumesWhereItsCountSays) {
  SinkPair p;
  const size_t len = 1 << 20;  // four times the initial window
  std::vector<uint8_t> data(len);
  for (size_t i = 0; i < len; ++i) data[i] = pattern(i);
  ASSERT_EQ(weft_stream_write(p.stream, data.data(), len, 10), WEFT_OK);
  EXPECT_FALSE(p.pb.wait(10, std::chrono::milliseconds(100)).has_value());  // stuck on the window
  ASSERT_EQ(weft_cancel(p.b, 10), WEFT_OK);
  Event w = p.pb.expect(10);
  EXPECT_EQ(w.status, WEFT_ECANCELED) << w.error;
  ASSERT_GT(w.count, 0u);
  ASSERT_LT(w.count, len);
  ASSERT_EQ(weft_stream_write(p.stream, data.data() + w.count, len - w.count, 11), WEFT_OK);
  ASSERT_EQ(weft_stream_close_write(p.stream, 12), WEFT_OK);
  std::vector<uint8_t> got = p.drain(2 * len);
  Event rest = p.pb.expect(11);
  EXPECT_EQ(rest.status, WEFT_OK) << rest.error;
  EXPECT_EQ(rest.count, len - w.count);
  EXPECT_EQ(p.pb.expect(12).status, WEFT_OK);
  ASSERT_EQ(got.size(), len);
  for (size_t i = 0; i < len; ++i) ASSERT_EQ(got[i], pattern(i)) << "byte " << i;
}

TEST(CapiWriteNocopy, PendingAtStopCompletesOnceAndIsNotReadAfterwards) {
  SinkPair p;
  const size_t len = 1 << 20;
  auto data = std::make_unique<uint8_t[]>(len);
  std::memset(data.get(), 0x5A, len);
  ASSERT_EQ(weft_stream_write_nocopy(p.stream, data.get(), len, 20), WEFT_OK);
  EXPECT_FALSE(p.pb.wait(20, std::chrono::milliseconds(50)).has_value());
  ASSERT_EQ(weft_node_stop(p.b, 1000), WEFT_OK);
  Event w = p.pb.expect(20);
  EXPECT_EQ(w.type, WEFT_EVENT_WRITE);
  // Ended by the session's shutdown, or by the stop itself if the write
  // had not run again before the node's threads stopped.
  EXPECT_TRUE(w.status == WEFT_ECLOSED || w.status == WEFT_ESTOPPED) << w.status << " " << w.error;
  std::memset(data.get(), kPoison, len);
  data.reset();
  p.pb.settle(std::chrono::milliseconds(50));
  EXPECT_EQ(p.pb.seen(20), 1);
  // The remote saw a prefix of the original bytes and then the end.
  std::vector<uint8_t> got = p.drain(len);
  EXPECT_LT(got.size(), len);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], 0x5A) << "byte " << i;
}

TEST(CapiWriteNocopy, ArgumentChecks) {
  SinkPair p;
  EXPECT_EQ(weft_stream_write_nocopy(p.stream, nullptr, 5, 30), WEFT_EINVAL);
  EXPECT_EQ(weft_stream_write_nocopy(weft_stream{0}, nullptr, 0, 31), WEFT_ENOTFOUND);
  // An empty write completes with a count of 0.
  ASSERT_EQ(weft_stream_write_nocopy(p.stream, nullptr, 0, 32), WEFT_OK);
  Event w = p.pb.expect(32);
  EXPECT_EQ(w.status, WEFT_OK) << w.error;
  EXPECT_EQ(w.count, 0u);
}
