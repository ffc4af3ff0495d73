// Shared helpers of the C ABI: per-thread last error, the exception barrier
// every exported function runs inside, and the buf/buflen/needed text output.
#pragma once

#include <cstddef>
#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "weft.h"

namespace weft::capi {

// Records "<status text>: <detail>" as the calling thread's last error and
// returns `status`. Never throws.
int fail(int status, std::string_view detail) noexcept;
int fail(const Error& error) noexcept;

// True while the calling thread is inside the application's log callback.
bool in_log_callback() noexcept;

// The status text weft_strerror gives.
const char* status_text(int status) noexcept;

// Logs the calling thread's last error (debug level), unless called from
// inside the log callback.
void log_failure(const char* function) noexcept;

// Runs the body of an exported function: no exception crosses the ABI, and
// a failure is logged once the body has released every lock it took.
template <typename Body>
int guarded(const char* function, Body&& body) noexcept {
  int status;
  try {
    status = body();
  } catch (const std::bad_alloc&) {
    status = fail(WEFT_ENOMEM, std::string_view(function));
  } catch (const std::exception& e) {
    try {
      status = fail(WEFT_EIO, std::string(function) + ": " + e.what());
    } catch (...) {
      status = fail(WEFT_EIO, std::string_view(function));
    }
  } catch (...) {
    status = fail(WEFT_EIO, std::string_view(function));
  }
  if (status != WEFT_OK) log_failure(function);
  return status;
}

// Copies `text` and its NUL into buf when buflen is large enough
// (WEFT_ELIMIT otherwise); *needed, when given, receives text.size() + 1.
int write_text(std::string_view text, char* buf, std::size_t buflen, std::size_t* needed) noexcept;

// Validates a C string argument: non-null, at most `max_len` bytes.
int check_string(const char* s, const char* what, std::size_t max_len,
                 bool allow_empty = false) noexcept;

}  // namespace weft::capi
