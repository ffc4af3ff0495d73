// Logging: off by default; the embedding program installs a sink.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace weft::log {

enum class Level { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };

using Sink = std::function<void(Level, std::string_view message)>;

// Thread-safe. Passing an empty sink turns logging off; once set_sink
// returns, the previous sink is not called again. Messages logged from inside
// the sink are dropped; the sink must not call set_sink.
void set_sink(Level min_level, Sink sink);
bool enabled(Level level);
void write(Level level, std::string_view message);

}  // namespace weft::log

#define WEFT_LOG(level, expr)                                         \
  do {                                                                \
    if (::weft::log::enabled(::weft::log::Level::level))              \
      ::weft::log::write(::weft::log::Level::level, std::string(expr)); \
  } while (0)
