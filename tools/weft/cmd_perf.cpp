// weft perf MA [--upload N] [--download N]: the client of /perf/1.0.0 (libp2p/specs perf/perf.md):
// send the download size as 8 bytes big-endian, upload, close the write side, then read the
// download to end of stream.
//
// Several writes stay in flight so that the upload rate is not bound by one event round trip per
// chunk; the first read is submitted with the half-close so the download starts at once.
#include <cstdio>

#include "commands.hpp"
#include "json.hpp"
#include "remote.hpp"

namespace weft_cli {

namespace {

constexpr std::uint64_t kDefaultBytes = 16 << 20;
constexpr std::size_t kChunkBytes = 256 << 10;
constexpr std::size_t kWritesInFlight = 8;
constexpr std::size_t kReadBytes = 1 << 20;  // WEFT_LIMIT_MAX_READ_SIZE's default
constexpr const char* kPerfProtocol = "/perf/1.0.0";

struct PerfResult {
  double upload_seconds = 0;
  std::uint64_t downloaded = 0;
  double download_seconds = 0;
};

void upload(Driver& driver, weft_stream stream, std::uint64_t download, std::uint64_t total) {
  std::uint8_t header[8];
  for (int i = 0; i < 8; ++i) header[i] = static_cast<std::uint8_t>(download >> (56 - 8 * i));
  driver.submit("perf: send the download size", [&](std::uint64_t t) {
    return weft_stream_write(stream, header, sizeof header, t);
  });
  std::size_t in_flight = 1;

  const std::vector<std::uint8_t> zeros(kChunkBytes, 0);
  std::uint64_t submitted = 0;
  while (in_flight > 0 || submitted < total) {
    while (in_flight < kWritesInFlight && submitted < total) {
      const std::size_t len =
          static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, total - submitted));
      driver.submit("perf: upload", [&](std::uint64_t t) {
        return weft_stream_write(stream, zeros.data(), len, t);
      });
      submitted += len;
      ++in_flight;
    }
    driver.wait_any().require_ok();  // only this stream's writes are pending
    --in_flight;
  }
}

PerfResult run_perf_stream(Driver& driver, weft_stream stream, std::uint64_t up,
                           std::uint64_t down) {
  PerfResult result;
  const auto start = Clock::now();
  upload(driver, stream, down, up);
  const std::uint64_t close_token = driver.submit(
      "perf: close the write side",
      [&](std::uint64_t t) { return weft_stream_close_write(stream, t); });
  const auto submit_read = [&] {
    return driver.submit("perf: download", [&](std::uint64_t t) {
      return weft_stream_read(stream, kReadBytes, t);
    });
  };
  std::uint64_t read_token = submit_read();
  driver.wait(close_token).require_ok();
  const auto uploaded = Clock::now();
  result.upload_seconds = std::chrono::duration<double>(uploaded - start).count();

  for (;;) {
    Completion done = driver.wait(read_token);
    if (done.status() == WEFT_EOF) break;
    done.require_ok();
    std::size_t len = 0;
    weft_event_data(done.event.get(), &len);
    result.downloaded += len;
    if (result.downloaded > down)
      fail("perf: the server sent more than the " + std::to_string(down) + " bytes requested");
    read_token = submit_read();
  }
  result.download_seconds = std::chrono::duration<double>(Clock::now() - uploaded).count();
  if (result.downloaded != down) {
    fail("perf: the server sent " + std::to_string(result.downloaded) + " of the " +
         std::to_string(down) + " bytes requested");
  }
  return result;
}

}  // namespace

int run_perf(const CommandLine& line) {
  const std::uint64_t up = line.number("upload", kDefaultBytes);
  const std::uint64_t down = line.number("download", kDefaultBytes);
  Driver driver(dialer_setup(line));
  const Connection connection = dial(driver, line.positionals.at(0));
  const Stream stream(open_stream(driver, connection, kPerfProtocol));
  const PerfResult result = run_perf_stream(driver, stream.get(), up, down);

  if (line.json) {
    print_line(JsonObject()
                   .add("peer_id", connection.peer_id)
                   .add("upload_bytes", up)
                   .add("upload_seconds", result.upload_seconds)
                   .add("download_bytes", result.downloaded)
                   .add("download_seconds", result.download_seconds)
                   .text());
  } else {
    char text[160];
    std::snprintf(text, sizeof text, "upload:   %llu bytes in %.3f s (%.1f MB/s)",
                  static_cast<unsigned long long>(up), result.upload_seconds,
                  megabytes_per_second(up, result.upload_seconds));
    print_line(text);
    std::snprintf(text, sizeof text, "download: %llu bytes in %.3f s (%.1f MB/s)",
                  static_cast<unsigned long long>(result.downloaded), result.download_seconds,
                  megabytes_per_second(result.downloaded, result.download_seconds));
    print_line(text);
  }
  return kExitOk;
}

}  // namespace weft_cli
