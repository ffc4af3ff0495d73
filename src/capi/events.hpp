// Completion events and the per-node event queue.
//
// An event is allocated when its operation is submitted, so delivering the
// completion never allocates and so can never fail: a completion is never
// lost. The queue links events intrusively for the same reason.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "weft.h"

struct weft_event {
  int type = 0;
  std::uint64_t token = 0;
  int status = WEFT_OK;
  std::string error;
  std::uint64_t conn = 0;
  std::uint64_t stream = 0;
  std::string protocol;
  std::vector<std::uint8_t> data;
  std::uint64_t count = 0;
  std::string text;
  std::string peer_id;
  std::string list[2];
  weft_event* next = nullptr;  // queue link
};

namespace weft::capi {

// A FIFO of completed events with an eventfd that is readable exactly while
// the queue is not empty (level-triggered), for select/poll/epoll users.
// The eventfd is kept up to date only once someone asked for it: a node
// drained with weft_node_poll alone spares two system calls per batch, each
// made while holding the queue's lock. Thread-safe.
class EventQueue {
 public:
  EventQueue();  // throws std::system_error if no eventfd can be created
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // The eventfd, readable from now on exactly while events are queued.
  int watch_fd() noexcept;

  // Appends; after close() the event is freed instead. Never fails.
  void push(weft_event* event) noexcept;

  enum class PopResult { ok, closed };
  // Moves up to `max` events into out, waiting up to timeout_ms (-1: no
  // limit) for the first. `count` receives how many were moved.
  PopResult pop(weft_event** out, std::size_t max, int timeout_ms, std::size_t& count);

  std::size_t size() const;
  bool closed() const;

  // Frees every queued event, closes the fd and wakes every waiter.
  void close() noexcept;

 private:
  void set_readable(bool readable) noexcept;  // mu_ held

  mutable std::mutex mu_;
  std::condition_variable cv_;
  weft_event* head_ = nullptr;
  weft_event* tail_ = nullptr;
  std::size_t size_ = 0;
  bool closed_ = false;
  int fd_ = -1;
  bool fd_watched_ = false;  // set once by watch_fd()
};

}  // namespace weft::capi
