// Fuzzes the multistream-select message parser and a full listener-side
// negotiation fed with arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "mss/multistream.hpp"

namespace {

// Serves a fixed input, then EOF; swallows writes.
class ScriptedChannel final : public weft::ByteChannel {
 public:
  explicit ScriptedChannel(weft::BytesView in) : in_(in) {}
  weft::Task<weft::Status> write_all(weft::BytesView) override { co_return weft::Status{}; }
  weft::Task<weft::Status> close_write() override { co_return weft::Status{}; }
  void abort() override {}

 protected:
  weft::Task<weft::Result<std::size_t>> read_some_impl(weft::MutableBytesView buf) override {
    if (pos_ == in_.size()) co_return weft::Error{weft::errc::eof};
    const std::size_t n = std::min(buf.size(), std::min<std::size_t>(in_.size() - pos_, 7));
    std::copy_n(in_.begin() + pos_, n, buf.begin());
    pos_ += n;
    co_return n;
  }

 private:
  weft::BytesView in_;
  std::size_t pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  weft::BytesView in(data, size);
  (void)weft::mss::parse_message(in, 1024);
  asio::io_context io;
  ScriptedChannel ch(in);
  asio::co_spawn(io, [&]() -> weft::Task<void> {
    (void)co_await weft::mss::handle(ch, [](std::string_view p) { return p == "/yes/1"; });
  }, asio::detached);
  io.run();
  return 0;
}
