#include "core/log.hpp"

#include <atomic>
#include <mutex>

namespace weft::log {

namespace {
std::mutex g_mu;
Sink g_sink;
std::atomic<int> g_min_level{static_cast<int>(Level::off)};
}  // namespace

void set_sink(Level min_level, Sink sink) {
  std::lock_guard lock(g_mu);
  g_sink = std::move(sink);
  g_min_level = g_sink ? static_cast<int>(min_level) : static_cast<int>(Level::off);
}

bool enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) {
  std::lock_guard lock(g_mu);
  if (g_sink) g_sink(level, message);
}

}  // namespace weft::log
