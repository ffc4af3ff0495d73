// The one place weft includes Asio from. Asio is compiled once, in
// src/core/asio_impl.cpp (ASIO_SEPARATE_COMPILATION), to keep builds lean.
#pragma once

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

namespace weft {

using Executor = asio::any_io_executor;
// Each connection runs on its own strand; every object of a connection
// (secure channel, muxer session, streams) is touched only from that strand.
using Strand = asio::strand<asio::io_context::executor_type>;

template <typename T>
using Task = asio::awaitable<T>;

// The GCC 12 rule. GCC 12 mishandles non-trivial temporaries that live in
// the full-expression of a co_await (arguments built in place, braced lists,
// lambdas converted to std::function, co_await inside ?:), and it does not
// keep a lambda coroutine's captures alive reliably. So in weft:
//   - a coroutine call whose arguments are temporaries is made first, the
//     task awaited after:  auto op = f(make_arg());  co_await std::move(op);
//   - coroutines take their inputs as parameters, never through captures;
//   - no co_await inside a conditional expression.

// Runs `task` with Asio's throw_if_cancelled turned off for its whole
// coroutine chain. Asio 1.22 otherwise throws operation_aborted at the next
// co_await after a cancellation; weft reports cancellation as errc::canceled
// through Result instead, so every task spawned where cancellation can reach
// it is wrapped in this.
template <typename T>
Task<T> without_cancel_exceptions(Task<T> task) {
  co_await asio::this_coro::throw_if_cancelled(false);
  co_return co_await std::move(task);
}

// Whether `e` holds the operation_aborted error Asio throws for cancellation.
inline bool is_operation_aborted(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::system_error& err) {
    return err.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

// Completion token for expected errors: `auto [ec, n] = co_await op(as_tuple_awaitable);`
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace weft
