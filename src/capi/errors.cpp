// Versions, status texts, the per-thread last error and the log callback.
#include <cstring>
#include <mutex>

#include "capi/common.hpp"
#include "core/log.hpp"

namespace weft::capi {

namespace {

thread_local std::string t_last_error;
// Set instead of t_last_error when even recording the message failed.
thread_local const char* t_last_error_static = nullptr;
thread_local int t_log_depth = 0;

}  // namespace

const char* status_text(int status) noexcept {
  if (status == WEFT_ESTATE) return "not allowed in the current state";
  if (status < WEFT_OK || status > WEFT_EBUSY) return "unknown error";
  return errc_message(static_cast<errc>(status));
}

int fail(int status, std::string_view detail) noexcept {
  try {
    t_last_error = status_text(status);
    if (!detail.empty()) {
      t_last_error += ": ";
      t_last_error += detail;
    }
    t_last_error_static = nullptr;
  } catch (...) {
    t_last_error_static = "out of memory";
  }
  return status;
}

int fail(const Error& error) noexcept {
  return fail(static_cast<int>(error.code), error.detail);
}

bool in_log_callback() noexcept { return t_log_depth > 0; }

void log_failure(const char* function) noexcept {
  // From inside the log callback the log's own lock is held: logging again
  // from there would deadlock (and could recurse without end).
  if (t_log_depth > 0 || !weft::log::enabled(weft::log::Level::debug)) return;
  try {
    const char* last_static = t_last_error_static;
    std::string last = t_last_error;
    const char* text = last_static ? last_static : last.c_str();
    weft::log::write(weft::log::Level::debug, std::string(function) + " failed: " + text);
    // The callback may have made weft calls that failed: the caller still
    // gets this call's error.
    t_last_error = std::move(last);
    t_last_error_static = last_static;
  } catch (...) {
  }
}

int write_text(std::string_view text, char* buf, std::size_t buflen, std::size_t* needed) noexcept {
  if (buf == nullptr && buflen != 0) return fail(WEFT_EINVAL, "buf is NULL but buflen is not 0");
  const std::size_t size = text.size() + 1;
  if (needed != nullptr) *needed = size;
  if (buflen < size) {
    char detail[96];
    std::snprintf(detail, sizeof detail, "the buffer holds %zu bytes, %zu are needed", buflen,
                  size);
    return fail(WEFT_ELIMIT, detail);
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return WEFT_OK;
}

int check_string(const char* s, const char* what, std::size_t max_len, bool allow_empty) noexcept {
  char detail[160];
  if (s == nullptr) {
    std::snprintf(detail, sizeof detail, "%s is NULL", what);
    return fail(WEFT_EINVAL, detail);
  }
  const std::size_t len = ::strnlen(s, max_len + 1);
  if (len == 0 && !allow_empty) {
    std::snprintf(detail, sizeof detail, "%s is empty", what);
    return fail(WEFT_EINVAL, detail);
  }
  if (len > max_len) {
    std::snprintf(detail, sizeof detail, "%s is longer than %zu bytes", what, max_len);
    return fail(WEFT_EINVAL, detail);
  }
  return WEFT_OK;
}

namespace {

struct LogDepth {
  LogDepth() noexcept { ++t_log_depth; }
  ~LogDepth() { --t_log_depth; }
};

}  // namespace

}  // namespace weft::capi

using namespace weft::capi;

extern "C" {

WEFT_API unsigned weft_version(void) { return WEFT_VERSION_NUMBER; }

WEFT_API const char* weft_version_string(void) {
#define WEFT_STR2(x) #x
#define WEFT_STR(x) WEFT_STR2(x)
  return WEFT_STR(WEFT_VERSION_MAJOR) "." WEFT_STR(WEFT_VERSION_MINOR) "." WEFT_STR(
      WEFT_VERSION_PATCH);
#undef WEFT_STR
#undef WEFT_STR2
}

WEFT_API unsigned weft_abi_version(void) { return WEFT_ABI_VERSION; }

WEFT_API const char* weft_strerror(int status) { return status_text(status); }

WEFT_API const char* weft_last_error(void) {
  if (t_last_error_static != nullptr) return t_last_error_static;
  return t_last_error.c_str();
}

WEFT_API int weft_set_log_callback(int min_level, weft_log_fn fn, void* user) {
  return guarded("weft_set_log_callback", [&]() -> int {
    // The log holds its lock while the callback runs: replacing the sink
    // from inside the callback would deadlock.
    if (in_log_callback())
      return fail(WEFT_EBUSY, "weft_set_log_callback cannot be called from the log callback");
    if (min_level < WEFT_LOG_TRACE || min_level > WEFT_LOG_OFF)
      return fail(WEFT_EINVAL,
                  "log level " + std::to_string(min_level) + " is not a weft_log_level");
    if (fn == nullptr || min_level == WEFT_LOG_OFF) {
      weft::log::set_sink(weft::log::Level::off, {});
      return WEFT_OK;
    }
    weft::log::set_sink(static_cast<weft::log::Level>(min_level),
                        [fn, user](weft::log::Level level, std::string_view message) {
                          const std::string text(message);
                          LogDepth depth;
                          fn(user, static_cast<int>(level), text.c_str());
                        });
    return WEFT_OK;
  });
}

}  // extern "C"
