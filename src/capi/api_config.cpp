// Configurations and identity files.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "capi/common.hpp"
#include "capi/registry.hpp"

using namespace weft;
using namespace weft::capi;

namespace {

constexpr std::size_t kMaxListenAddrs = 64;
constexpr std::size_t kMaxPathLength = 4096;
constexpr std::size_t kMaxAgentLength = 1024;
constexpr std::size_t kMaxMultiaddrLength = 1024;
constexpr std::uint64_t kMaxTimeoutMs = 24ull * 3600 * 1000;
constexpr std::uint64_t kMaxCount = 1u << 20;

int lookup(weft_config config, std::shared_ptr<ConfigState>& out) {
  out = Registry::instance().config(config.id);
  if (!out) return fail(WEFT_ENOTFOUND, "unknown config handle " + std::to_string(config.id));
  return WEFT_OK;
}

struct LimitRange {
  std::uint64_t min, max;
};

// The accepted range of each limit; {0, 0} for an unknown one.
LimitRange limit_range(int limit) {
  switch (limit) {
    case WEFT_LIMIT_MAX_INBOUND_CONNECTIONS:
    case WEFT_LIMIT_MAX_OUTBOUND_CONNECTIONS: return {0, kMaxCount};
    case WEFT_LIMIT_MAX_CONNECTIONS_PER_PEER:
    case WEFT_LIMIT_MAX_PENDING_HANDSHAKES:
    case WEFT_LIMIT_MAX_STREAMS_PER_CONNECTION:
    case WEFT_LIMIT_INBOUND_STREAM_BACKLOG: return {1, kMaxCount};
    case WEFT_LIMIT_HANDSHAKE_TIMEOUT_MS:
    case WEFT_LIMIT_NEGOTIATION_TIMEOUT_MS:
    case WEFT_LIMIT_DIAL_TIMEOUT_MS:
    case WEFT_LIMIT_PING_TIMEOUT_MS:
    case WEFT_LIMIT_IDENTIFY_TIMEOUT_MS: return {1, kMaxTimeoutMs};
    case WEFT_LIMIT_IDENTIFY_MAX_MESSAGE_SIZE: return {1024, 4u << 20};
    case WEFT_LIMIT_MULTISTREAM_MAX_MESSAGE_SIZE: return {64, 65536};
    // Yamux windows are 32-bit and never below the 256 KiB initial window.
    case WEFT_LIMIT_STREAM_RECEIVE_WINDOW_MAX: return {256 * 1024, 0xffffffffu};
    case WEFT_LIMIT_MAX_READ_SIZE: return {1, 64u << 20};
    case WEFT_LIMIT_MAX_PENDING_EVENTS: return {1, 1u << 30};
    case WEFT_LIMIT_IO_SPIN_US: return {0, 10000};
    case WEFT_LIMIT_CONNECTION_RECEIVE_WINDOWS_MAX: return {256 * 1024, std::uint64_t{1} << 40};
    default: return {0, 0};
  }
}

// Reads (set == false) or writes a limit; cfg.mu held, limit and range checked.
void access_limit(ConfigState& cfg, int limit, std::uint64_t& value, bool set) {
  auto& l = cfg.node.limits;
  auto count = [&](std::size_t& field) {
    if (set) field = static_cast<std::size_t>(value); else value = field;
  };
  auto millis = [&](std::chrono::milliseconds& field) {
    if (set) field = std::chrono::milliseconds(value);
    else value = static_cast<std::uint64_t>(field.count());
  };
  auto plain = [&](std::uint64_t& field) {
    if (set) field = value; else value = field;
  };
  switch (limit) {
    case WEFT_LIMIT_MAX_INBOUND_CONNECTIONS: count(l.max_inbound_connections); break;
    case WEFT_LIMIT_MAX_OUTBOUND_CONNECTIONS: count(l.max_outbound_connections); break;
    case WEFT_LIMIT_MAX_CONNECTIONS_PER_PEER: count(l.max_connections_per_peer); break;
    case WEFT_LIMIT_MAX_PENDING_HANDSHAKES: count(l.max_pending_handshakes); break;
    case WEFT_LIMIT_HANDSHAKE_TIMEOUT_MS: millis(l.handshake_timeout); break;
    case WEFT_LIMIT_NEGOTIATION_TIMEOUT_MS: millis(l.negotiation_timeout); break;
    case WEFT_LIMIT_DIAL_TIMEOUT_MS: millis(l.dial_timeout); break;
    case WEFT_LIMIT_PING_TIMEOUT_MS: millis(l.ping_timeout); break;
    case WEFT_LIMIT_IDENTIFY_TIMEOUT_MS: millis(l.identify_timeout); break;
    case WEFT_LIMIT_MAX_STREAMS_PER_CONNECTION: count(l.max_streams_per_connection); break;
    case WEFT_LIMIT_IDENTIFY_MAX_MESSAGE_SIZE: count(l.identify_max_message_size); break;
    case WEFT_LIMIT_MULTISTREAM_MAX_MESSAGE_SIZE: count(l.multistream_max_message_size); break;
    case WEFT_LIMIT_STREAM_RECEIVE_WINDOW_MAX:
      if (set) cfg.node.yamux.max_window = static_cast<std::uint32_t>(value);
      else value = cfg.node.yamux.max_window;
      break;
    case WEFT_LIMIT_INBOUND_STREAM_BACKLOG: plain(cfg.inbound_stream_backlog); break;
    case WEFT_LIMIT_MAX_READ_SIZE: plain(cfg.max_read_size); break;
    case WEFT_LIMIT_MAX_PENDING_EVENTS: plain(cfg.max_pending_events); break;
    case WEFT_LIMIT_IO_SPIN_US:
      if (set) cfg.node.io_spin = std::chrono::microseconds(value);
      else value = static_cast<std::uint64_t>(cfg.node.io_spin.count());
      break;
    case WEFT_LIMIT_CONNECTION_RECEIVE_WINDOWS_MAX: plain(cfg.node.yamux.max_receive_windows); break;
  }
}

}  // namespace

extern "C" {

WEFT_API int weft_config_new(weft_config* out) {
  return guarded("weft_config_new", [&]() -> int {
    if (out == nullptr) return fail(WEFT_EINVAL, "out is NULL");
    out->id = 0;
    out->id = Registry::instance().add_config(std::make_shared<ConfigState>());
    return WEFT_OK;
  });
}

WEFT_API int weft_config_free(weft_config config) {
  return guarded("weft_config_free", [&]() -> int {
    if (!Registry::instance().remove_config(config.id))
      return fail(WEFT_ENOTFOUND, "unknown config handle " + std::to_string(config.id));
    return WEFT_OK;
  });
}

WEFT_API int weft_config_add_listen_addr(weft_config config, const char* multiaddr) {
  return guarded("weft_config_add_listen_addr", [&]() -> int {
    std::shared_ptr<ConfigState> cfg;
    if (int st = lookup(config, cfg)) return st;
    if (int st = check_string(multiaddr, "multiaddr", kMaxMultiaddrLength)) return st;
    auto addr = Multiaddr::parse(multiaddr);
    if (!addr) {
      return fail(WEFT_EPARSE,
                  "multiaddr '" + std::string(multiaddr) + "': " + addr.error().detail);
    }
    auto target = to_tcp_target(*addr);
    if (!target) return fail(target.error());
    if (target->is_dns)
      return fail(WEFT_EINVAL, "cannot listen on a DNS name: " + std::string(multiaddr));
    if (addr->peer_id())
      return fail(WEFT_EINVAL, "a listen address has no /p2p/ part: " + std::string(multiaddr));
    std::lock_guard lock(cfg->mu);
    if (cfg->node.listen_addrs.size() >= kMaxListenAddrs)
      return fail(WEFT_ELIMIT, "at most " + std::to_string(kMaxListenAddrs) + " listen addresses");
    cfg->node.listen_addrs.push_back(addr->to_string());
    return WEFT_OK;
  });
}

WEFT_API int weft_config_set_identity_file(weft_config config, const char* path) {
  return guarded("weft_config_set_identity_file", [&]() -> int {
    std::shared_ptr<ConfigState> cfg;
    if (int st = lookup(config, cfg)) return st;
    if (int st = check_string(path, "path", kMaxPathLength)) return st;
    auto identity = Identity::load(path);
    if (!identity) return fail(identity.error());
    std::lock_guard lock(cfg->mu);
    cfg->node.identity = std::move(*identity);
    return WEFT_OK;
  });
}

WEFT_API int weft_config_set_agent_version(weft_config config, const char* agent) {
  return guarded("weft_config_set_agent_version", [&]() -> int {
    std::shared_ptr<ConfigState> cfg;
    if (int st = lookup(config, cfg)) return st;
    if (int st = check_string(agent, "agent version", kMaxAgentLength)) return st;
    std::lock_guard lock(cfg->mu);
    cfg->node.agent_version = agent;
    return WEFT_OK;
  });
}

WEFT_API int weft_config_set_io_threads(weft_config config, unsigned threads) {
  return guarded("weft_config_set_io_threads", [&]() -> int {
    std::shared_ptr<ConfigState> cfg;
    if (int st = lookup(config, cfg)) return st;
    if (threads > 64)
      return fail(WEFT_EINVAL,
                  "io threads must be between 0 and 64, not " + std::to_string(threads));
    std::lock_guard lock(cfg->mu);
    cfg->node.io_threads = threads;
    return WEFT_OK;
  });
}

WEFT_API int weft_config_set_limit(weft_config config, int limit, uint64_t value) {
  return guarded("weft_config_set_limit", [&]() -> int {
    std::shared_ptr<ConfigState> cfg;
    if (int st = lookup(config, cfg)) return st;
    const LimitRange range = limit_range(limit);
    if (range.max == 0) return fail(WEFT_EINVAL, "unknown limit " + std::to_string(limit));
    if (value < range.min || value > range.max)
      return fail(WEFT_EINVAL, "limit " + std::to_string(limit) + " must be between " +
                                   std::to_string(range.min) + " and " + std::to_string(range.max) +
                                   ", not " + std::to_string(value));
    std::lock_guard lock(cfg->mu);
    access_limit(*cfg, limit, value, true);
    return WEFT_OK;
  });
}

WEFT_API int weft_config_get_limit(weft_config config, int limit, uint64_t* value) {
  return guarded("weft_config_get_limit", [&]() -> int {
    std::shared_ptr<ConfigState> cfg;
    if (int st = lookup(config, cfg)) return st;
    if (value == nullptr) return fail(WEFT_EINVAL, "value is NULL");
    if (limit_range(limit).max == 0)
      return fail(WEFT_EINVAL, "unknown limit " + std::to_string(limit));
    std::lock_guard lock(cfg->mu);
    std::uint64_t v = 0;
    access_limit(*cfg, limit, v, false);
    *value = v;
    return WEFT_OK;
  });
}

WEFT_API int weft_config_enable_builtin(weft_config config, int builtin, int enabled) {
  return guarded("weft_config_enable_builtin", [&]() -> int {
    std::shared_ptr<ConfigState> cfg;
    if (int st = lookup(config, cfg)) return st;
    std::lock_guard lock(cfg->mu);
    switch (builtin) {
      case WEFT_BUILTIN_ECHO: cfg->node.enable_echo = enabled != 0; return WEFT_OK;
      case WEFT_BUILTIN_PERF: cfg->node.enable_perf = enabled != 0; return WEFT_OK;
      default: return fail(WEFT_EINVAL, "unknown builtin protocol " + std::to_string(builtin));
    }
  });
}

WEFT_API int weft_identity_generate_file(const char* path) {
  return guarded("weft_identity_generate_file", [&]() -> int {
    if (int st = check_string(path, "path", kMaxPathLength)) return st;
    Bytes key = Identity::generate().encode();
    // O_EXCL: an existing key is never overwritten, even by a racing call.
    const int fd = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      const int err = errno;
      std::fill(key.begin(), key.end(), 0);
      if (err == EEXIST) return fail(WEFT_EBUSY, std::string(path) + " already exists");
      return fail(WEFT_EIO, "cannot create " + std::string(path) + ": " + std::strerror(err));
    }
    std::size_t written = 0;
    int err = 0;
    while (written < key.size()) {
      const ssize_t n = ::write(fd, key.data() + written, key.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        err = errno;
        break;
      }
      written += static_cast<std::size_t>(n);
    }
    std::fill(key.begin(), key.end(), 0);
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err != 0) {
      ::unlink(path);
      return fail(WEFT_EIO, "cannot write " + std::string(path) + ": " + std::strerror(err));
    }
    return WEFT_OK;
  });
}

WEFT_API int weft_identity_peer_id(const char* path, char* buf, size_t buflen, size_t* needed) {
  return guarded("weft_identity_peer_id", [&]() -> int {
    if (int st = check_string(path, "path", kMaxPathLength)) return st;
    auto identity = Identity::load(path);
    if (!identity) return fail(identity.error());
    return write_text(identity->peer_id().to_base58(), buf, buflen, needed);
  });
}

}  // extern "C"
