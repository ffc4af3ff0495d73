// /perf/1.0.0 (libp2p/specs perf/perf.md): the client sends the number of
// bytes it wants back (u64 big-endian), uploads, closes its write side; the
// server discards the upload, then sends the requested bytes and closes.
#pragma once

#include <chrono>
#include <string_view>

#include "core/byte_channel.hpp"

namespace weft::perf {

inline constexpr std::string_view kProtocol = "/perf/1.0.0";

struct Config {
  std::uint64_t max_download = std::uint64_t{1} << 40;  // server: largest request honoured
  std::size_t chunk_size = 256 * 1024;
};

Task<Status> serve(ByteChannel& stream, Config config = {});

struct Measurement {
  std::uint64_t uploaded = 0;
  std::uint64_t downloaded = 0;
  std::chrono::nanoseconds upload_time{};
  std::chrono::nanoseconds download_time{};
};

Task<Result<Measurement>> run_client(ByteChannel& stream, std::uint64_t upload, std::uint64_t download,
                                     Config config = {});

}  // namespace weft::perf
