#include "core/error.hpp"

#include <asio/error.hpp>

namespace weft {
namespace {

class WeftCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "weft"; }
  std::string message(int v) const override { return errc_message(static_cast<errc>(v)); }
};

}  // namespace

const std::error_category& weft_category() noexcept {
  static const WeftCategory category;
  return category;
}

const char* errc_message(errc e) noexcept {
  switch (e) {
    case errc::ok: return "success";
    case errc::invalid_argument: return "invalid argument";
    case errc::no_memory: return "out of memory";
    case errc::canceled: return "operation cancelled";
    case errc::timed_out: return "timed out";
    case errc::stopped: return "node stopped";
    case errc::closed: return "closed";
    case errc::reset: return "reset";
    case errc::connection_refused: return "connection refused";
    case errc::unreachable: return "address unreachable";
    case errc::protocol_error: return "protocol error";
    case errc::protocol_not_supported: return "protocol not supported";
    case errc::peer_id_mismatch: return "peer id mismatch";
    case errc::unsupported: return "unsupported";
    case errc::limit_exceeded: return "limit exceeded";
    case errc::parse_error: return "malformed input";
    case errc::crypto_error: return "cryptographic verification failed";
    case errc::eof: return "end of stream";
    case errc::io_error: return "i/o error";
    case errc::not_found: return "not found";
    case errc::busy: return "resource busy";
  }
  return "unknown error";
}

errc to_errc(const std::error_code& ec) noexcept {
  if (!ec) return errc::ok;
  if (ec.category() == weft_category()) return static_cast<errc>(ec.value());
  if (ec == asio::error::operation_aborted) return errc::canceled;
  if (ec == asio::error::eof) return errc::eof;
  if (ec == asio::error::timed_out) return errc::timed_out;
  if (ec == asio::error::connection_refused) return errc::connection_refused;
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
      ec == asio::error::connection_aborted)
    return errc::reset;
  if (ec == asio::error::network_unreachable || ec == asio::error::host_unreachable ||
      ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again ||
      ec == asio::error::no_data)
    return errc::unreachable;
  if (ec == asio::error::address_in_use) return errc::busy;
  if (ec == asio::error::no_memory || ec == asio::error::no_buffer_space) return errc::no_memory;
  if (ec == asio::error::invalid_argument || ec == asio::error::address_family_not_supported)
    return errc::invalid_argument;
  if (ec == asio::error::bad_descriptor || ec == asio::error::not_connected ||
      ec == asio::error::shut_down)
    return errc::closed;
  return errc::io_error;
}

Error Error::from(const std::error_code& ec, std::string_view context) {
  std::string detail;
  if (!context.empty()) {
    detail.append(context);
    detail.append(": ");
  }
  detail.append(ec.message());
  return Error{to_errc(ec), std::move(detail)};
}

std::string Error::message() const {
  std::string m = errc_message(code);
  if (!detail.empty()) {
    m += ": ";
    m += detail;
  }
  return m;
}

}  // namespace weft
