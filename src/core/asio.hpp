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

// Completion token for expected errors: `auto [ec, n] = co_await op(as_tuple_awaitable);`
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace weft
