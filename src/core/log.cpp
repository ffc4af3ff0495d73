#include "core/log.hpp"

#include <atomic>
#include <mutex>

namespace weft::log {

namespace {
std::mutex g_mu;
Sink g_sink;
std::atomic<int> g_min_level{static_cast<int>(Level::off)};
// Set while this thread runs the sink: a message logged from inside the sink
// is dropped instead of deadlocking on g_mu.
thread_local bool t_in_sink = false;
}  // namespace

void set_sink(Level min_level, Sink sink) {
  std::lock_guard lock(g_mu);
  g_sink = std::move(sink);
  g_min_level = g_sink ? static_cast<int>(min_level) : static_cast<int>(Level::off);
}

bool enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) {
  if (t_in_sink) return;
  // The lock is held while the sink runs, so once set_sink() returns the old
  // sink is never called again (its owner may free what it uses).
  std::lock_guard lock(g_mu);
  if (!g_sink) return;
  t_in_sink = true;
  g_sink(level, message);
  t_in_sink = false;
}

}  // namespace weft::log
