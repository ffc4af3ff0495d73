// weft._native: the C ABI (weft.h) as Python functions, one per C call, nothing more.
//
// Handles travel as plain integers (their 64-bit ids); a failing call raises the exception that
// the Python layer's factory (set_error_factory) builds from the status and weft_last_error().
// Completions are returned in batches by node_poll as tuples; the asyncio layer is Python.
//
// The GIL is released around the calls that wait (node_stop, node_close, node_poll with a
// timeout, node_start) so that other Python threads and the event loop keep running.
//
// Logging: weft calls the log callback on its own threads, possibly while holding its locks and
// during interpreter shutdown. Taking the GIL there could deadlock (a Python thread holding the
// GIL waits in a weft call for one of those locks, or joins the thread that logs) or touch a
// finalized interpreter. So the callback never touches Python: it appends the record to a
// bounded queue here and makes an eventfd readable; the Python side drains the queue from its
// event loop (log_fd / log_drain) and hands the records to logging.getLogger("weft").
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "weft.h"

namespace py = pybind11;

namespace {

// ---- errors ------------------------------------------------------------------------------

// Leaked on purpose: it must outlive any exception raised during interpreter shutdown.
py::object* error_factory = nullptr;

[[noreturn]] void raise_status(int status, const std::string& message) {
  if (error_factory != nullptr && !error_factory->is_none()) {
    py::object error = (*error_factory)(status, message);
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
    throw py::error_already_set();
  }
  throw std::runtime_error("weft status " + std::to_string(status) + ": " + message);
}

// Checks a status returned by a C call made on this thread (weft_last_error is per thread).
void check(int status) {
  if (status != WEFT_OK) raise_status(status, weft_last_error());
}

// Calls a "buf/buflen/needed" function, growing the buffer once if the text does not fit.
template <typename Fn>
std::string read_text(Fn&& fn) {
  std::string buf(256, '\0');
  std::size_t needed = 0;
  int status = fn(buf.data(), buf.size(), &needed);
  if (status == WEFT_ELIMIT && needed > buf.size()) {
    buf.assign(needed, '\0');
    status = fn(buf.data(), buf.size(), &needed);
  }
  check(status);
  buf.resize(needed > 0 ? needed - 1 : 0);  // `needed` counts the NUL
  return buf;
}

// ---- logging -----------------------------------------------------------------------------

class LogQueue {
 public:
  static constexpr std::size_t kMaxRecords = 10000;

  LogQueue() { fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

  int fd() const { return fd_; }

  void push(int level, const char* message) noexcept {
    try {
      std::lock_guard lock(mu_);
      if (records_.size() >= kMaxRecords) {
        ++dropped_;
        return;
      }
      const bool was_empty = records_.empty();
      records_.emplace_back(level, message ? message : "");
      if (was_empty) signal(true);
    } catch (...) {
      // Out of memory: the record is lost, weft carries on.
    }
  }

  // Up to `max` records, oldest first, and how many were dropped since the last call.
  std::pair<std::vector<std::pair<int, std::string>>, std::uint64_t> drain(std::size_t max) {
    std::vector<std::pair<int, std::string>> out;
    std::lock_guard lock(mu_);
    while (!records_.empty() && out.size() < max) {
      out.push_back(std::move(records_.front()));
      records_.pop_front();
    }
    if (records_.empty()) signal(false);
    return {std::move(out), std::exchange(dropped_, 0)};
  }

 private:
  // The eventfd counts 1 while records are queued and 0 otherwise (level-triggered readable).
  void signal(bool readable) noexcept {
    if (fd_ < 0) return;
    std::uint64_t value = 1;
    ssize_t r;
    if (readable) {
      do r = ::write(fd_, &value, sizeof value); while (r < 0 && errno == EINTR);
    } else {
      do r = ::read(fd_, &value, sizeof value); while (r < 0 && errno == EINTR);
    }
  }

  std::mutex mu_;
  std::deque<std::pair<int, std::string>> records_;
  std::uint64_t dropped_ = 0;
  int fd_ = -1;
};

// Leaked on purpose: weft's threads may log until the process ends, after static destructors.
LogQueue& log_queue() {
  static LogQueue* queue = new LogQueue;
  return *queue;
}

extern "C" void queue_log_record(void*, int level, const char* message) {
  log_queue().push(level, message);
}

// ---- events ------------------------------------------------------------------------------

py::str text_or_empty(const char* text) { return py::str(text ? text : ""); }

// One completion as the tuple the Python layer unpacks:
// (type, token, status, error, conn, stream, protocol, data, count, text, peer_id,
//  protocols, listen_addrs).
py::tuple event_tuple(const weft_event* ev) {
  const int type = weft_event_type_of(ev);
  py::object data = py::none();
  if (type == WEFT_EVENT_READ) {
    std::size_t len = 0;
    const std::uint8_t* bytes = weft_event_data(ev, &len);
    data = py::bytes(reinterpret_cast<const char*>(bytes), len);
  }
  return py::make_tuple(type, weft_event_token(ev), weft_event_status(ev),
                        text_or_empty(weft_event_error(ev)), weft_event_conn(ev).id,
                        weft_event_stream(ev).id, text_or_empty(weft_event_protocol(ev)), data,
                        weft_event_count(ev), text_or_empty(weft_event_text(ev)),
                        text_or_empty(weft_event_peer_id(ev)),
                        text_or_empty(weft_event_list(ev, 0)),
                        text_or_empty(weft_event_list(ev, 1)));
}

py::list node_poll(std::uint64_t node, std::size_t max, int timeout_ms) {
  if (max == 0) max = 1;
  std::vector<weft_event*> events(max, nullptr);
  std::size_t count = 0;
  int status;
  if (timeout_ms == 0) {
    status = weft_node_poll(weft_node{node}, events.data(), max, 0, &count);
  } else {
    std::string error;
    {
      py::gil_scoped_release released;
      status = weft_node_poll(weft_node{node}, events.data(), max, timeout_ms, &count);
      if (status != WEFT_OK) error = weft_last_error();
    }
    if (status != WEFT_OK) raise_status(status, error);
  }
  check(status);
  py::list out;
  // Every polled event is freed, even if building a tuple fails (out of memory).
  struct FreeAll {
    std::vector<weft_event*>& events;
    std::size_t count;
    ~FreeAll() {
      for (std::size_t i = 0; i < count; ++i) weft_event_free(events[i]);
    }
  } free_all{events, count};
  for (std::size_t i = 0; i < count; ++i) out.append(event_tuple(events[i]));
  return out;
}

// A call that may wait, made without the GIL; the error message is read on the same thread.
template <typename Fn>
void call_released(Fn&& fn) {
  int status;
  std::string error;
  {
    py::gil_scoped_release released;
    status = fn();
    if (status != WEFT_OK) error = weft_last_error();
  }
  if (status != WEFT_OK) raise_status(status, error);
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "weft's C ABI (weft.h), bound one call to one function. Use the `weft` package.";

  m.attr("HEADER_ABI_VERSION") = WEFT_ABI_VERSION;

  m.def("version", [] { return std::string(weft_version_string()); });
  m.def("version_number", &weft_version);
  m.def("abi_version", &weft_abi_version);
  m.def("strerror", [](int status) { return std::string(weft_strerror(status)); });
  m.def("set_error_factory", [](py::object factory) {
    if (error_factory == nullptr) error_factory = new py::object();
    *error_factory = std::move(factory);
  });

  // ---- logging ----
  m.def("log_fd", [] { return log_queue().fd(); });
  m.def("log_drain", [](std::size_t max) { return log_queue().drain(max); }, py::arg("max"));
  m.def(
      "set_log_level",
      [](int min_level) {
        // WEFT_LOG_OFF and above turn the callback off altogether.
        if (min_level >= WEFT_LOG_OFF) {
          check(weft_set_log_callback(WEFT_LOG_OFF, nullptr, nullptr));
        } else {
          check(weft_set_log_callback(min_level, queue_log_record, nullptr));
        }
      },
      py::arg("min_level"));

  // ---- identities ----
  m.def("identity_generate_file",
        [](const std::string& path) { check(weft_identity_generate_file(path.c_str())); });
  m.def("identity_peer_id", [](const std::string& path) {
    return read_text([&](char* b, std::size_t n, std::size_t* need) {
      return weft_identity_peer_id(path.c_str(), b, n, need);
    });
  });

  // ---- configuration ----
  m.def("config_new", [] {
    weft_config config{};
    check(weft_config_new(&config));
    return config.id;
  });
  m.def("config_free", [](std::uint64_t c) { check(weft_config_free(weft_config{c})); });
  m.def("config_add_listen_addr", [](std::uint64_t c, const std::string& addr) {
    check(weft_config_add_listen_addr(weft_config{c}, addr.c_str()));
  });
  m.def("config_set_identity_file", [](std::uint64_t c, const std::string& path) {
    check(weft_config_set_identity_file(weft_config{c}, path.c_str()));
  });
  m.def("config_set_agent_version", [](std::uint64_t c, const std::string& agent) {
    check(weft_config_set_agent_version(weft_config{c}, agent.c_str()));
  });
  m.def("config_set_io_threads", [](std::uint64_t c, unsigned threads) {
    check(weft_config_set_io_threads(weft_config{c}, threads));
  });
  m.def("config_set_limit", [](std::uint64_t c, int limit, std::uint64_t value) {
    check(weft_config_set_limit(weft_config{c}, limit, value));
  });
  m.def("config_get_limit", [](std::uint64_t c, int limit) {
    std::uint64_t value = 0;
    check(weft_config_get_limit(weft_config{c}, limit, &value));
    return value;
  });
  m.def("config_enable_builtin", [](std::uint64_t c, int builtin, bool enabled) {
    check(weft_config_enable_builtin(weft_config{c}, builtin, enabled ? 1 : 0));
  });

  // ---- nodes ----
  m.def("node_new", [](std::uint64_t c) {
    weft_node node{};
    check(weft_node_new(weft_config{c}, &node));
    return node.id;
  });
  m.def("node_start", [](std::uint64_t n) { call_released([&] { return weft_node_start(weft_node{n}); }); });
  m.def("node_stop", [](std::uint64_t n, std::uint32_t timeout_ms) {
    call_released([&] { return weft_node_stop(weft_node{n}, timeout_ms); });
  });
  m.def("node_close", [](std::uint64_t n) { call_released([&] { return weft_node_close(weft_node{n}); }); });
  m.def("node_peer_id", [](std::uint64_t n) {
    return read_text([&](char* b, std::size_t len, std::size_t* need) {
      return weft_node_peer_id(weft_node{n}, b, len, need);
    });
  });
  m.def("node_listen_addrs", [](std::uint64_t n) {
    return read_text([&](char* b, std::size_t len, std::size_t* need) {
      return weft_node_listen_addrs(weft_node{n}, b, len, need);
    });
  });
  m.def("node_stat", [](std::uint64_t n, int stat) {
    std::uint64_t value = 0;
    check(weft_node_stat(weft_node{n}, stat, &value));
    return value;
  });
  m.def("node_event_fd", [](std::uint64_t n) {
    int fd = -1;
    check(weft_node_event_fd(weft_node{n}, &fd));
    return fd;
  });
  m.def("node_poll", &node_poll, py::arg("node"), py::arg("max"), py::arg("timeout_ms") = 0);
  m.def("node_handle", [](std::uint64_t n, const std::string& protocol) {
    check(weft_node_handle(weft_node{n}, protocol.c_str()));
  });
  m.def("node_unhandle", [](std::uint64_t n, const std::string& protocol) {
    check(weft_node_unhandle(weft_node{n}, protocol.c_str()));
  });
  m.def("live_count", [](int what) {
    std::uint64_t value = 0;
    check(weft_live_count(what, &value));
    return value;
  });

  // ---- operations (each submitted one completes exactly once, through node_poll) ----
  m.def("cancel", [](std::uint64_t n, std::uint64_t token) { check(weft_cancel(weft_node{n}, token)); });
  m.def("dial", [](std::uint64_t n, const std::string& addr, std::uint64_t token) {
    check(weft_dial(weft_node{n}, addr.c_str(), token));
  });
  m.def("conn_close", [](std::uint64_t c) { check(weft_conn_close(weft_conn{c})); });
  m.def("conn_peer_id", [](std::uint64_t c) {
    return read_text([&](char* b, std::size_t len, std::size_t* need) {
      return weft_conn_peer_id(weft_conn{c}, b, len, need);
    });
  });
  m.def("conn_remote_addr", [](std::uint64_t c) {
    return read_text([&](char* b, std::size_t len, std::size_t* need) {
      return weft_conn_remote_addr(weft_conn{c}, b, len, need);
    });
  });
  m.def("ping", [](std::uint64_t c, std::uint64_t token) { check(weft_ping(weft_conn{c}, token)); });
  m.def("identify", [](std::uint64_t c, std::uint64_t token) {
    check(weft_identify(weft_conn{c}, token));
  });
  m.def("open_stream", [](std::uint64_t c, const std::vector<std::string>& protocols,
                          std::uint64_t token) {
    std::vector<const char*> pointers;
    pointers.reserve(protocols.size());
    for (const auto& p : protocols) pointers.push_back(p.c_str());
    check(weft_open_stream(weft_conn{c}, pointers.data(), pointers.size(), token));
  });
  m.def("open_stream_lazy", [](std::uint64_t c, const std::string& protocol, std::uint64_t token) {
    check(weft_open_stream_lazy(weft_conn{c}, protocol.c_str(), token));
  });
  m.def("accept_stream", [](std::uint64_t n, const std::string& protocol, std::uint64_t token) {
    check(weft_accept_stream(weft_node{n}, protocol.c_str(), token));
  });
  m.def("stream_read", [](std::uint64_t s, std::size_t max_bytes, std::uint64_t token) {
    check(weft_stream_read(weft_stream{s}, max_bytes, token));
  });
  m.def("stream_write", [](std::uint64_t s, py::object data, std::uint64_t token) {
    // Any contiguous bytes-like object (PyBUF_SIMPLE refuses the others with BufferError);
    // weft copies the bytes before returning.
    Py_buffer view;
    if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_SIMPLE) != 0) throw py::error_already_set();
    const int status = weft_stream_write(weft_stream{s}, static_cast<const std::uint8_t*>(view.buf),
                                         static_cast<std::size_t>(view.len), token);
    const std::size_t len = static_cast<std::size_t>(view.len);
    PyBuffer_Release(&view);
    check(status);
    return len;
  });
  m.def("stream_write_nocopy", [](std::uint64_t s, py::bytes data, std::uint64_t token) {
    // A bytes object never changes and never moves: weft reads it in place. The caller
    // keeps a reference until the write's event has arrived.
    char* buf = nullptr;
    Py_ssize_t len = 0;
    if (PyBytes_AsStringAndSize(data.ptr(), &buf, &len) != 0) throw py::error_already_set();
    check(weft_stream_write_nocopy(weft_stream{s}, reinterpret_cast<const std::uint8_t*>(buf),
                                   static_cast<std::size_t>(len), token));
    return static_cast<std::size_t>(len);
  });
  m.def("stream_close_write", [](std::uint64_t s, std::uint64_t token) {
    check(weft_stream_close_write(weft_stream{s}, token));
  });
  m.def("stream_reset", [](std::uint64_t s) { check(weft_stream_reset(weft_stream{s})); });
  m.def("stream_free", [](std::uint64_t s) { check(weft_stream_free(weft_stream{s})); });
  m.def("stream_protocol", [](std::uint64_t s) {
    return read_text([&](char* b, std::size_t len, std::size_t* need) {
      return weft_stream_protocol(weft_stream{s}, b, len, need);
    });
  });
}
