// weft ping MA [-n N] [--interval MS]: round trips over /ipfs/ping/1.0.0 on one connection.
#include <algorithm>
#include <cstdio>

#include "commands.hpp"
#include "json.hpp"
#include "remote.hpp"

namespace weft_cli {

namespace {

constexpr std::uint64_t kDefaultCount = 5;
constexpr std::uint64_t kDefaultIntervalMs = 1000;

std::string format_ms(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", ms);
  return text;
}

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

}  // namespace

int run_ping(const CommandLine& line) {
  const std::string addr = line.positionals.at(0);
  const std::uint64_t count = line.number("count", kDefaultCount);
  const std::uint64_t interval_ms = line.number("interval", kDefaultIntervalMs);
  if (count == 0 || count > 1000000) usage_error("-n: expected 1 to 1000000 pings");
  if (interval_ms > 3600000) usage_error("--interval: at most 3600000 ms");

  Driver driver(dialer_setup(line));
  const Connection connection = dial(driver, addr);
  if (!line.json) {
    print_line("connected to " + connection.peer_id + " in " + format_ms(connection.connect_ms) +
               " ms");
  }

  std::vector<double> rtts_ms;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (i > 0)
      driver.sleep_for(std::chrono::milliseconds(interval_ms), "ping " + connection.peer_id);
    const std::uint64_t token = driver.submit(
        "ping " + connection.peer_id,
        [&](std::uint64_t t) { return weft_ping(connection.conn, t); });
    Completion done = driver.wait(token);
    done.require_ok();
    const double rtt_ms = static_cast<double>(weft_event_count(done.event.get())) / 1e6;
    rtts_ms.push_back(rtt_ms);
    if (!line.json)
      print_line("ping " + std::to_string(i + 1) + ": " + format_ms(rtt_ms) + " ms");
  }

  const double min_ms = *std::min_element(rtts_ms.begin(), rtts_ms.end());
  const double max_ms = *std::max_element(rtts_ms.begin(), rtts_ms.end());
  const double median_ms = median_of(rtts_ms);
  if (line.json) {
    print_line(JsonObject()
                   .add("peer_id", connection.peer_id)
                   .add("connect_ms", connection.connect_ms)
                   .add("rtts_ms", rtts_ms)
                   .add("min_ms", min_ms)
                   .add("median_ms", median_ms)
                   .add("max_ms", max_ms)
                   .text());
  } else {
    print_line(std::to_string(rtts_ms.size()) + " pings: min/median/max = " + format_ms(min_ms) +
               "/" + format_ms(median_ms) + "/" + format_ms(max_ms) + " ms");
  }
  return kExitOk;
}

}  // namespace weft_cli
