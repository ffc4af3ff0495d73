// IoBuffer (pooled I/O storage), BytesPool and ByteChannel::read_view.
#include <gtest/gtest.h>

#include <thread>

#include "core/byte_channel.hpp"
#include "core/bytes.hpp"
#include "core/bytes_pool.hpp"

using namespace weft;

TEST(BytesPool, KeepsWithinItsLimitsAndHandsBuffersBack) {
  BytesPool pool(2, 3000);
  EXPECT_EQ(pool.take().capacity(), 0u);  // nothing kept yet

  Bytes a(1000, 1), b(1500, 2), c(100, 3);
  const std::uint8_t* a_storage = a.data();
  pool.give_back(std::move(a));
  pool.give_back(std::move(b));
  pool.give_back(std::move(c));  // a third buffer: over the count, freed
  Bytes first = pool.take();
  EXPECT_EQ(first.capacity(), 1500u);  // the last kept comes first
  EXPECT_EQ(first.size(), 1500u);      // and as it was given back: no zero-filling again
  EXPECT_EQ(first[1499], 2);
  Bytes second = pool.take();
  EXPECT_EQ(second.data(), a_storage);
  EXPECT_EQ(pool.take().capacity(), 0u);

  // Over the byte limit: 1000 + 2500 > 3000, so the second is freed.
  pool.give_back(std::move(second));
  pool.give_back(Bytes(2500, 4));
  EXPECT_EQ(pool.take().capacity(), 1000u);
  EXPECT_EQ(pool.take().capacity(), 0u);
}

TEST(IoBuffer, EmptyAndSized) {
  IoBuffer none;
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none);
  EXPECT_EQ(none.data(), nullptr);
  IoBuffer zero(0);
  EXPECT_TRUE(zero.empty());

  IoBuffer b(1000);
  ASSERT_TRUE(b);
  EXPECT_EQ(b.size(), 1000u);
  EXPECT_EQ(b.view().size(), 1000u);
  b.data()[0] = 1;
  b.data()[999] = 2;  // the whole size is usable
}

TEST(IoBuffer, MovesOwnership) {
  IoBuffer a(4096);
  std::uint8_t* p = a.data();
  IoBuffer b(std::move(a));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b.data(), p);
  IoBuffer c;
  c = std::move(b);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(c.data(), p);
  c = std::move(c);  // self-move keeps the buffer
  EXPECT_EQ(c.data(), p);
}

TEST(IoBuffer, ReleasedStorageIsReusedOnTheSameThread) {
  std::thread([] {  // a fresh thread: an empty pool
    EXPECT_EQ(IoBuffer::pooled_on_this_thread(), 0u);
    IoBuffer a(65536);
    std::uint8_t* p = a.data();
    a.reset();
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(IoBuffer::pooled_on_this_thread(), 1u);
    IoBuffer other_size(1000);
    EXPECT_NE(other_size.data(), p);  // only an exact size is reused
    IoBuffer b(65536);
    EXPECT_EQ(b.data(), p);
    EXPECT_EQ(IoBuffer::pooled_on_this_thread(), 0u);
  }).join();
}

TEST(IoBuffer, PoolIsBounded) {
  std::thread([] {
    {
      std::vector<IoBuffer> many;
      for (std::size_t i = 0; i < 3 * IoBuffer::kPoolBuffers; ++i) many.emplace_back(4096);
    }
    EXPECT_EQ(IoBuffer::pooled_on_this_thread(), IoBuffer::kPoolBuffers);
    { IoBuffer huge(IoBuffer::kPoolMaxBufferSize + 1); }  // too large: freed, not pooled
    EXPECT_EQ(IoBuffer::pooled_on_this_thread(), IoBuffer::kPoolBuffers);
  }).join();
}

TEST(OutputBuffer, ExtendAppendSwap) {
  OutputBuffer a;
  OutputBuffer b;
  a.append(Bytes{1, 2, 3});
  std::uint8_t* p = a.extend(2);
  p[0] = 4;
  p[1] = 5;
  EXPECT_EQ(Bytes(a.view().begin(), a.view().end()), (Bytes{1, 2, 3, 4, 5}));
  a.swap(b);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b.size(), 5u);
  const std::size_t cap = b.capacity();
  b.clear();
  EXPECT_EQ(b.capacity(), cap);  // clear() keeps the storage
}

// release() gives the storage back; the next use starts at the largest size
// recent content needed (a power of two), so batches that vary in size do not
// regrow mid-batch, and halves only after kShrinkAfter smaller batches in a
// row, so a quiet buffer still comes back to the minimum.
TEST(OutputBuffer, ReleaseRemembersTheLargestSizeNeeded) {
  constexpr unsigned kAfter = OutputBuffer::kShrinkAfter;
  OutputBuffer a;
  a.extend(100000);
  EXPECT_EQ(a.capacity(), 128u * 1024);
  a.release();
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.capacity(), 0u);
  // A smaller batch between large ones keeps the large start.
  a.extend(10);
  EXPECT_EQ(a.capacity(), 128u * 1024);
  a.release();
  a.extend(100000);
  EXPECT_EQ(a.capacity(), 128u * 1024);
  a.release();
  // kShrinkAfter - 1 small batches, then one that needs more than half the
  // start: the count starts over.
  for (unsigned i = 0; i + 1 < kAfter; ++i) {
    a.extend(10);
    a.release();
  }
  a.extend(70000);
  a.release();
  for (unsigned i = 0; i + 1 < kAfter; ++i) {
    a.extend(10);
    a.release();
  }
  a.extend(10);
  EXPECT_EQ(a.capacity(), 128u * 1024);
  a.release();  // the kShrinkAfter-th small batch in a row: the start halves
  a.extend(10);
  EXPECT_EQ(a.capacity(), 64u * 1024);
  a.release();
  for (unsigned i = 0; i < 4 * kAfter; ++i) {
    a.extend(10);
    a.release();
  }
  a.extend(10);
  EXPECT_EQ(a.capacity(), OutputBuffer::kMinCapacity);
  Bytes big(300000, 7);
  a.append(big);  // grows within the batch, keeping what it held
  EXPECT_EQ(a.size(), 300010u);
  EXPECT_EQ(a.capacity(), 512u * 1024);
  EXPECT_EQ(a.view()[300009], 7);
  a.release();
  a.extend(10);
  EXPECT_EQ(a.capacity(), 512u * 1024);
}

// The remembered start travels with the storage when buffers swap, as a
// staging buffer and the one being flushed do.
TEST(OutputBuffer, SwapCarriesTheRememberedStart) {
  OutputBuffer staged;
  OutputBuffer flushing;
  staged.extend(300000);
  staged.swap(flushing);
  flushing.release();
  staged.swap(flushing);
  staged.extend(10);
  EXPECT_EQ(staged.capacity(), 512u * 1024);
  EXPECT_EQ(flushing.capacity(), 0u);
}

namespace {

// Hands out a fixed input in pieces of at most `piece` bytes.
class ScriptedChannel final : public ByteChannel {
 public:
  ScriptedChannel(Bytes input, std::size_t piece) : input_(std::move(input)), piece_(piece) {}
  Task<Status> write_all(BytesView) override { co_return Status{}; }
  Task<Status> close_write() override { co_return Status{}; }
  void abort() override {}

 protected:
  Task<Result<std::size_t>> read_some_impl(MutableBytesView buf) override {
    if (pos_ == input_.size()) co_return Error{errc::eof, "end"};
    const std::size_t n = std::min({buf.size(), piece_, input_.size() - pos_});
    std::copy_n(input_.begin() + static_cast<std::ptrdiff_t>(pos_), n, buf.begin());
    pos_ += n;
    co_return n;
  }

 private:
  Bytes input_;
  std::size_t piece_;
  std::size_t pos_ = 0;
};

Bytes sequence(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7);
  return b;
}

template <typename T>
T run_task(Task<T> task) {
  asio::io_context io;
  std::optional<T> out;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(v));
  });
  io.run();
  return std::move(*out);
}

Task<Bytes> drain_with_views(ByteChannel& ch, std::size_t max) {
  Bytes got;
  for (;;) {
    auto view = co_await ch.read_view(max);
    if (!view) {
      EXPECT_EQ(view.code(), errc::eof);
      break;
    }
    EXPECT_GE(view->size(), 1u);
    EXPECT_LE(view->size(), max);
    append(got, *view);
  }
  co_return got;
}

Task<Bytes> pushback_then_views(ByteChannel& ch) {
  Bytes head(10);
  EXPECT_TRUE((co_await ch.read_exact(head)).ok());
  ch.unread(BytesView(head).subspan(4));  // give 6 bytes back
  Bytes got(head.begin(), head.begin() + 4);
  auto first = co_await ch.read_view(100);
  EXPECT_TRUE(first.ok());
  if (first) EXPECT_EQ(first->size(), 6u);  // the pushed-back bytes come alone, first
  if (first) append(got, *first);
  auto rest = co_await drain_with_views(ch, 100000);
  append(got, rest);
  co_return got;
}

}  // namespace

TEST(ByteChannelReadView, DefaultImplementationDeliversEverything) {
  const Bytes input = sequence(300000);
  for (std::size_t piece : {1u, 1000u, 1u << 20}) {
    for (std::size_t max : {1u, 777u, 1u << 20}) {
      if (piece == 1 && max != 1) continue;  // slow and adds nothing
      ScriptedChannel ch(input, piece);
      EXPECT_TRUE(run_task(drain_with_views(ch, max)) == input) << piece << " " << max;
    }
  }
}

TEST(ByteChannelReadView, PushedBackBytesComeFirst) {
  const Bytes input = sequence(5000);
  ScriptedChannel ch(input, 64);
  EXPECT_TRUE(run_task(pushback_then_views(ch)) == input);
}

TEST(ByteChannelStaging, DefaultStagesInOrderAndFlushes) {
  struct Sink final : ByteChannel {
    Bytes written;
    int writes = 0;
    Task<Status> write_all(BytesView d) override {
      append(written, d);
      ++writes;
      co_return Status{};
    }
    Task<Status> close_write() override { co_return Status{}; }
    void abort() override {}
    Task<Result<std::size_t>> read_some_impl(MutableBytesView) override {
      co_return Error{errc::eof, "none"};
    }
  } sink;
  sink.stage(Bytes{1, 2});
  sink.stage(Bytes{3});
  EXPECT_EQ(sink.staged_size(), 3u);
  EXPECT_TRUE(run_task(sink.flush_staged()).ok());
  EXPECT_EQ(sink.staged_size(), 0u);
  EXPECT_EQ(sink.written, (Bytes{1, 2, 3}));
  EXPECT_EQ(sink.writes, 1);  // one write per batch
  EXPECT_TRUE(run_task(sink.flush_staged()).ok());  // nothing staged: no write
  EXPECT_EQ(sink.writes, 1);
}

TEST(ByteChannelReadView, ZeroMaxIsInvalid) {
  ScriptedChannel ch(sequence(10), 10);
  auto r = run_task([](ByteChannel& c) -> Task<Result<BytesView>> {
    co_return co_await c.read_view(0);
  }(ch));
  EXPECT_EQ(r.code(), errc::invalid_argument);
}
