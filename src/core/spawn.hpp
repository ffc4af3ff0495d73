// Spawning detached coroutines: an exception escaping one is a bug, and it
// is logged rather than silently dropped (asio::detached would drop it).
#pragma once

#include <exception>
#include <string>

#include "core/asio.hpp"
#include "core/log.hpp"

namespace weft {

inline void log_escaped_exception(const char* what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    WEFT_LOG(error, std::string(what) + ": unexpected exception: " + ex.what());
  } catch (...) {
    WEFT_LOG(error, std::string(what) + ": unexpected exception");
  }
}

template <typename Executor, typename Awaitable>
void spawn_detached(const Executor& ex, Awaitable&& task, const char* what) {
  asio::co_spawn(ex, std::forward<Awaitable>(task),
                 [what](std::exception_ptr e) { log_escaped_exception(what, e); });
}

}  // namespace weft
