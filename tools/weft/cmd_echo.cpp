// weft echo MA [--bytes N]: N random bytes through /echo/1.0.0 and back, compared as they return.
//
// Writes are kept in flight while one read is always pending, so the echo server's replies are
// drained while the upload goes on: a large transfer cannot deadlock on full windows.
#include <cstdio>
#include <random>

#include "commands.hpp"
#include "json.hpp"
#include "remote.hpp"

namespace weft_cli {

namespace {

constexpr std::uint64_t kDefaultBytes = 1 << 20;
constexpr std::size_t kChunkBytes = 64 << 10;
constexpr std::size_t kWritesInFlight = 8;
constexpr std::size_t kReadBytes = 256 << 10;
constexpr const char* kEchoProtocol = "/echo/1.0.0";

// The random bytes, computed from their offset instead of stored, so that any size can be sent
// and every returning byte checked without keeping a copy.
class RandomBytes {
 public:
  RandomBytes() : seed_(std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32)) {}

  std::uint8_t at(std::uint64_t offset) const {
    return static_cast<std::uint8_t>(mix(seed_ ^ (offset >> 3)) >> ((offset & 7) * 8));
  }
  void fill(std::uint64_t offset, std::uint8_t* out, std::size_t len) const {
    for (std::size_t i = 0; i < len; ++i) out[i] = at(offset + i);
  }

 private:
  static std::uint64_t mix(std::uint64_t x) {  // splitmix64's finalizer
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  std::uint64_t seed_;
};

struct EchoOutcome {
  std::uint64_t received = 0;
  bool match = true;
  std::uint64_t first_difference = 0;  // offset, when !match
};

EchoOutcome run_echo_stream(Driver& driver, weft_stream stream, std::uint64_t total) {
  const RandomBytes bytes;
  std::vector<std::uint8_t> chunk(kChunkBytes);
  EchoOutcome outcome;
  std::uint64_t submitted = 0;
  std::size_t writes_in_flight = 0;
  std::uint64_t close_token = 0;
  std::uint64_t read_token = 0;
  bool write_closed = false;
  bool eof = false;

  while (!(eof && write_closed)) {
    while (writes_in_flight < kWritesInFlight && submitted < total) {
      const std::size_t len =
          static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, total - submitted));
      bytes.fill(submitted, chunk.data(), len);
      driver.submit("echo: write", [&](std::uint64_t t) {
        return weft_stream_write(stream, chunk.data(), len, t);
      });
      submitted += len;
      ++writes_in_flight;
    }
    if (submitted == total && !close_token) {
      close_token = driver.submit("echo: close the write side", [&](std::uint64_t t) {
        return weft_stream_close_write(stream, t);
      });
    }
    if (!read_token && !eof) {
      read_token = driver.submit("echo: read", [&](std::uint64_t t) {
        return weft_stream_read(stream, kReadBytes, t);
      });
    }

    Completion done = driver.wait_any();
    if (done.type() == WEFT_EVENT_WRITE) {
      done.require_ok();
      --writes_in_flight;
    } else if (done.type() == WEFT_EVENT_CLOSE_WRITE) {
      done.require_ok();
      write_closed = true;
    } else if (done.token == read_token) {
      read_token = 0;
      if (done.status() == WEFT_EOF) {
        eof = true;
        continue;
      }
      done.require_ok();
      std::size_t len = 0;
      const std::uint8_t* data = weft_event_data(done.event.get(), &len);
      for (std::size_t i = 0; i < len && outcome.match; ++i) {
        if (outcome.received + i >= total || data[i] != bytes.at(outcome.received + i)) {
          outcome.match = false;
          outcome.first_difference = outcome.received + i;
        }
      }
      outcome.received += len;
    }
  }
  if (outcome.received != total && outcome.match) {
    outcome.match = false;
    outcome.first_difference = outcome.received;
  }
  return outcome;
}

}  // namespace

int run_echo(const CommandLine& line) {
  const std::uint64_t total = line.number("bytes", kDefaultBytes);
  Driver driver(dialer_setup(line));
  const Connection connection = dial(driver, line.positionals.at(0));
  const Stream stream(open_stream(driver, connection, kEchoProtocol));

  const auto start = Clock::now();
  const EchoOutcome outcome = run_echo_stream(driver, stream.get(), total);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double rate = megabytes_per_second(total, seconds);

  if (line.json) {
    print_line(JsonObject()
                   .add("peer_id", connection.peer_id)
                   .add("bytes", total)
                   .add("received", outcome.received)
                   .add("match", outcome.match)
                   .add("seconds", seconds)
                   .add("mb_per_s", rate)
                   .text());
  } else if (outcome.match) {
    char text[160];
    std::snprintf(text, sizeof text,
                  "echo: %llu bytes sent and returned identical in %.3f s (%.1f MB/s)",
                  static_cast<unsigned long long>(total), seconds, rate);
    print_line(text);
  }
  if (!outcome.match) {
    fail("echo " + connection.peer_id + ": " + std::to_string(outcome.received) + " of " +
         std::to_string(total) + " bytes came back, differing from those sent at offset " +
         std::to_string(outcome.first_difference));
  }
  return kExitOk;
}

}  // namespace weft_cli
