// Spawning detached coroutines: an exception escaping one is a bug, and it
// is logged rather than silently dropped (asio::detached would drop it).
#pragma once

#include <exception>
#include <memory>
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

// Carries a caller's cancellation to a task spawned on a strand, emitting it
// on that strand. Asio 1.22's co_spawn forwards a cancellation synchronously,
// on the thread that emits it: a task waiting on another strand would be
// unlinked from its wait queue off its strand, racing with the strand's own
// work. Install a Forward in the caller's slot and bind slot() to the spawn.
class StrandCancelRelay {
 public:
  explicit StrandCancelRelay(Strand strand) : strand_(std::move(strand)) {}

  asio::cancellation_slot slot() { return signal_.slot(); }

  struct Forward {
    // Spelled out: slot.emplace<Forward>(relay) constructs it with
    // parentheses, which clang 14 does not yet allow for aggregates.
    explicit Forward(std::shared_ptr<StrandCancelRelay> r) : relay(std::move(r)) {}
    std::shared_ptr<StrandCancelRelay> relay;
    void operator()(asio::cancellation_type_t type) const {
      asio::post(relay->strand_, [relay = relay, type] { relay->signal_.emit(type); });
    }
  };

 private:
  Strand strand_;
  asio::cancellation_signal signal_;  // emitted on strand_ only
};

}  // namespace weft
