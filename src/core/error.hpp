// Error codes and the Result type used throughout the weft core.
//
// The numeric values of weft::errc are stable: the C ABI exposes the same
// numbers as WEFT_E* constants, so never renumber or reuse a value.
#pragma once

#include <cassert>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace weft {

enum class errc : int {
  ok = 0,
  invalid_argument = 1,      // bad argument from the API caller
  no_memory = 2,
  canceled = 3,              // the operation was cancelled by request
  timed_out = 4,             // a deadline passed
  stopped = 5,               // the node is stopping or stopped
  closed = 6,                // the stream / connection is closed for this direction
  reset = 7,                 // the remote (or we) reset the stream or connection
  connection_refused = 8,
  unreachable = 9,           // no route / address could not be dialled
  protocol_error = 10,       // the remote violated a wire protocol
  protocol_not_supported = 11,  // multistream-select answered "na" to everything
  peer_id_mismatch = 12,     // the remote is not the peer we dialled
  unsupported = 13,          // e.g. an unsupported key type or multiaddr protocol
  limit_exceeded = 14,       // a configured limit was reached
  parse_error = 15,          // malformed input (text or binary)
  crypto_error = 16,         // signature / decryption / handshake authentication failed
  eof = 17,                  // the remote closed its write side cleanly
  io_error = 18,             // any other transport error
  not_found = 19,            // unknown handle, peer, or protocol handler
  busy = 20,                 // the resource is in use (e.g. address in use)
};

const std::error_category& weft_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), weft_category()};
}

// Maps any error_code (Asio / system / weft) onto weft's own codes.
errc to_errc(const std::error_code& ec) noexcept;

// Short, stable, human-readable name of a code ("timed out", ...).
const char* errc_message(errc e) noexcept;

// An error: a stable code plus a detail message for humans.
struct Error {
  errc code = errc::ok;
  std::string detail;

  Error() = default;
  Error(errc c, std::string d = {}) : code(c), detail(std::move(d)) {}
  // Converts a transport error, keeping its text as detail.
  static Error from(const std::error_code& ec, std::string_view context = {});

  // "<code message>: <detail>"
  std::string message() const;
};

// Either a T or an Error. Deliberately small: no exceptions cross it.
template <typename T>
class [[nodiscard]] Result {
 public:
  // An error state; exists because Asio's co_spawn default-constructs the
  // value it reports alongside an exception.
  Result() : v_(std::in_place_index<1>, Error{errc::io_error, "no result"}) {}
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {
    assert(std::get<1>(v_).code != errc::ok);
  }
  Result(errc code, std::string detail = {}) : Result(Error{code, std::move(detail)}) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }
  errc code() const noexcept { return ok() ? errc::ok : std::get<1>(v_).code; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)) {}
  Result(errc code, std::string detail = {}) : err_{code, std::move(detail)} {}

  bool ok() const noexcept { return err_.code == errc::ok; }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }
  errc code() const noexcept { return err_.code; }

 private:
  Error err_;
};

using Status = Result<void>;

}  // namespace weft

namespace std {
template <>
struct is_error_code_enum<weft::errc> : true_type {};
}  // namespace std

// Propagate an error from an expression yielding Result<...> inside a
// function returning Result<...> / Task<Result<...>>.
#define WEFT_CONCAT_INNER(a, b) a##b
#define WEFT_CONCAT(a, b) WEFT_CONCAT_INNER(a, b)
#define WEFT_TRY_IMPL(tmp, decl, expr, RET) \
  auto tmp = (expr);                        \
  if (!tmp.ok()) RET std::move(tmp).error(); \
  decl = std::move(tmp).value()
// WEFT_TRY(auto x, f());   -- in a plain function
#define WEFT_TRY(decl, expr) WEFT_TRY_IMPL(WEFT_CONCAT(weft_try_, __LINE__), decl, expr, return)
// WEFT_CO_TRY(auto x, co_await f());   -- in a coroutine
#define WEFT_CO_TRY(decl, expr) WEFT_TRY_IMPL(WEFT_CONCAT(weft_try_, __LINE__), decl, expr, co_return)
// WEFT_CHECK(status_expr) / WEFT_CO_CHECK(co_await status_expr)
#define WEFT_CHECK(expr)                                        \
  do {                                                          \
    auto weft_st_ = (expr);                                     \
    if (!weft_st_.ok()) return std::move(weft_st_).error();     \
  } while (0)
#define WEFT_CO_CHECK(expr)                                     \
  do {                                                          \
    auto weft_st_ = (expr);                                     \
    if (!weft_st_.ok()) co_return std::move(weft_st_).error();  \
  } while (0)
