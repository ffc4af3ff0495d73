// Fuzzes NoiseChannel's receive path: frame reassembly across arbitrary raw
// read boundaries, in-place decryption, empty frames, and what the remote can
// do wrong (bad lengths, truncation, forged frames).
//
// Input layout: byte 0 selects the mode (and, bit 1, whether the reader
// takes whole frames with wait_ready + read_ready), byte 1 the reader's
// buffer size.
//   mode even: the rest is a list of [len_hi, len_lo, chunk_size] records, each
//              followed by `len` (mod 4096) plaintext bytes; the harness
//              encrypts them as proper frames, so every byte must arrive intact.
//   mode odd:  the rest goes to the channel as raw wire bytes (almost always
//              rejected); it must fail cleanly, never crash or hang.
// The raw stream is delivered in chunks whose sizes come from the input.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "core/asio.hpp"
#include "noise/noise_channel.hpp"

namespace {

using weft::Bytes;
using weft::BytesView;
using weft::MutableBytesView;

// Replays a fixed byte stream in the given chunk sizes, then end of stream.
class ScriptedChannel final : public weft::ByteChannel {
 public:
  std::deque<Bytes> chunks;

  weft::Task<weft::Status> write_all(BytesView) override { co_return weft::Status{}; }
  weft::Task<weft::Status> close_write() override { co_return weft::Status{}; }
  void abort() override { chunks.clear(); }

 protected:
  weft::Task<weft::Result<std::size_t>> read_some_impl(MutableBytesView buf) override {
    if (chunks.empty()) co_return weft::Error{weft::errc::eof, "end of script"};
    Bytes& front = chunks.front();
    const std::size_t n = std::min(buf.size(), front.size());
    std::copy(front.begin(), front.begin() + static_cast<std::ptrdiff_t>(n), buf.begin());
    front.erase(front.begin(), front.begin() + static_cast<std::ptrdiff_t>(n));
    if (front.empty()) chunks.pop_front();
    co_return n;
  }
};

// Reads to the end; `end` records how the stream ended. With `ready`, the
// way the Yamux session reads a payload: wait_ready, then read_ready straight
// into the buffer, and read_some only for what does not fit.
weft::Task<void> read_all(weft::ByteChannel& channel, std::size_t read_size, bool ready, Bytes& got,
                          weft::errc& end) {
  Bytes buf(read_size);
  for (;;) {
    if (ready) {
      auto st = co_await channel.wait_ready();
      if (!st) {
        end = st.code();
        co_return;
      }
      const std::size_t n = channel.read_ready(buf);
      if (n > buf.size()) __builtin_trap();
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
      if (n > 0) continue;
    }
    auto n = co_await channel.read_some(buf);
    if (!n) {
      end = n.code();
      co_return;
    }
    if (*n == 0 || *n > buf.size()) __builtin_trap();
    got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  }
}

weft::noise::Key key_for(std::uint8_t v) {
  weft::noise::Key k{};
  k.fill(v);
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool encrypted = (data[0] & 1) == 0;
  const std::size_t read_size = 1 + data[1] * 97;
  std::size_t pos = 2;

  auto raw = std::make_unique<ScriptedChannel>();
  Bytes expected;
  if (encrypted) {
    weft::noise::CipherState sender(key_for(7));
    Bytes wire;
    std::vector<std::size_t> chunk_sizes;
    while (size - pos >= 3) {
      const std::size_t len = (static_cast<std::size_t>(data[pos]) << 8 | data[pos + 1]) % 4096;
      chunk_sizes.push_back(1 + data[pos + 2] * 31);
      pos += 3;
      const std::size_t n = std::min(len, size - pos);
      const BytesView plain(data + pos, n);
      pos += n;
      expected.insert(expected.end(), plain.begin(), plain.end());
      const std::size_t flen = n + weft::noise::kTagLen;
      const std::size_t at = wire.size();
      wire.resize(at + 2 + flen);
      wire[at] = static_cast<std::uint8_t>(flen >> 8);
      wire[at + 1] = static_cast<std::uint8_t>(flen);
      if (!sender.encrypt_with_ad({}, plain, MutableBytesView(wire).subspan(at + 2, flen)).ok())
        __builtin_trap();
    }
    std::size_t off = 0, i = 0;
    while (off < wire.size()) {
      const std::size_t n = std::min(wire.size() - off, chunk_sizes.empty() ? wire.size()
                                                        : chunk_sizes[i++ % chunk_sizes.size()]);
      raw->chunks.emplace_back(wire.begin() + static_cast<std::ptrdiff_t>(off),
                               wire.begin() + static_cast<std::ptrdiff_t>(off + n));
      off += n;
    }
  } else {
    // Raw bytes in chunks of a size derived from the mode byte.
    const std::size_t chunk = 1 + (data[0] >> 1) * 3;
    while (pos < size) {
      const std::size_t n = std::min(chunk, size - pos);
      raw->chunks.emplace_back(data + pos, data + pos + n);
      pos += n;
    }
  }

  weft::noise::NoiseChannel channel(std::move(raw), weft::noise::CipherState(key_for(1)),
                                    weft::noise::CipherState(key_for(7)));
  asio::io_context io;
  Bytes got;
  weft::errc end = weft::errc::ok;
  const bool ready = (data[0] & 2) != 0;
  asio::co_spawn(io, read_all(channel, read_size, ready, got, end), asio::detached);
  io.run();
  if (end == weft::errc::ok) __builtin_trap();  // the reader must have finished
  if (encrypted && (end != weft::errc::eof || got != expected)) __builtin_trap();
  return 0;
}
