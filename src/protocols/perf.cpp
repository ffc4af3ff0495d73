#include "protocols/perf.hpp"

#include <algorithm>

namespace weft::perf {

namespace {

void put_u64_be(std::uint64_t v, std::uint8_t* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

}  // namespace

Task<Status> serve(ByteChannel& stream, Config config) {
  std::uint8_t header[8];
  WEFT_CO_CHECK(co_await stream.read_exact(header));
  std::uint64_t to_send = 0;
  for (std::uint8_t b : header) to_send = (to_send << 8) | b;
  if (to_send > config.max_download)
    co_return Error{errc::limit_exceeded, "perf: requested " + std::to_string(to_send) +
                                              " bytes, limit is " + std::to_string(config.max_download)};
  const std::size_t chunk = std::max<std::size_t>(config.chunk_size, 1);
  for (;;) {  // discard the upload: viewed where it was received, never copied
    auto n = co_await stream.read_view(chunk);
    if (!n) {
      if (n.code() == errc::eof) break;
      co_return std::move(n).error();
    }
  }
  IoBuffer buf(chunk);
  std::fill(buf.data(), buf.data() + buf.size(), 0);
  while (to_send > 0) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(to_send, buf.size()));
    WEFT_CO_CHECK(co_await stream.write_all(BytesView(buf.data(), n)));
    to_send -= n;
  }
  co_return co_await stream.close_write();
}

Task<Result<Measurement>> run_client(ByteChannel& stream, std::uint64_t upload, std::uint64_t download,
                                     Config config) {
  using clock = std::chrono::steady_clock;
  Measurement r;
  Bytes buf(config.chunk_size, 0);
  put_u64_be(download, buf.data());
  const auto t0 = clock::now();
  WEFT_CO_CHECK(co_await stream.write_all(BytesView(buf).first(8)));
  buf[0] = buf[1] = buf[2] = buf[3] = buf[4] = buf[5] = buf[6] = buf[7] = 0;
  while (r.uploaded < upload) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(upload - r.uploaded, buf.size()));
    WEFT_CO_CHECK(co_await stream.write_all(BytesView(buf).first(n)));
    r.uploaded += n;
  }
  WEFT_CO_CHECK(co_await stream.close_write());
  const auto t1 = clock::now();
  for (;;) {
    auto n = co_await stream.read_some(buf);
    if (!n) {
      if (n.code() == errc::eof) break;
      co_return std::move(n).error();
    }
    r.downloaded += *n;
    if (r.downloaded > download)
      co_return Error{errc::protocol_error, "perf: server sent more than requested"};
  }
  const auto t2 = clock::now();
  if (r.downloaded != download)
    co_return Error{errc::protocol_error, "perf: server sent " + std::to_string(r.downloaded) +
                                              " of " + std::to_string(download) + " bytes"};
  r.upload_time = t1 - t0;
  r.download_time = t2 - t1;
  co_return r;
}

}  // namespace weft::perf
