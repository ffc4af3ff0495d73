#include "capi/events.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>

#include "capi/common.hpp"
#include "yamux/buffers.hpp"

namespace weft::capi {

EventQueue::EventQueue() {
  fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

EventQueue::~EventQueue() { close(); }

int EventQueue::watch_fd() noexcept {
  std::lock_guard lock(mu_);
  if (!fd_watched_ && fd_ >= 0) {
    fd_watched_ = true;
    if (head_ != nullptr) set_readable(true);
  }
  return fd_;
}

void EventQueue::set_readable(bool readable) noexcept {
  if (fd_ < 0 || !fd_watched_) return;
  // The counter is kept at 1 while events are queued and 0 otherwise; both
  // calls are made under mu_, so it always matches the queue.
  if (readable) {
    const std::uint64_t one = 1;
    ssize_t r;
    do r = ::write(fd_, &one, sizeof one); while (r < 0 && errno == EINTR);
  } else {
    std::uint64_t value;
    ssize_t r;
    do r = ::read(fd_, &value, sizeof value); while (r < 0 && errno == EINTR);
  }
}

void EventQueue::push(weft_event* event) noexcept {
  event->next = nullptr;
  {
    std::lock_guard lock(mu_);
    if (closed_) {
      delete event;
      return;
    }
    if (tail_ != nullptr) {
      tail_->next = event;
    } else {
      head_ = event;
      set_readable(true);
    }
    tail_ = event;
    ++size_;
  }
  cv_.notify_one();
}

EventQueue::PopResult EventQueue::pop(weft_event** out, std::size_t max, int timeout_ms,
                                      std::size_t& count) {
  count = 0;
  std::unique_lock lock(mu_);
  auto ready = [this] { return closed_ || head_ != nullptr; };
  if (timeout_ms < 0) {
    cv_.wait(lock, ready);
  } else if (timeout_ms > 0) {
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready);
  }
  if (closed_) return PopResult::closed;
  while (count < max && head_ != nullptr) {
    weft_event* e = head_;
    head_ = e->next;
    e->next = nullptr;
    out[count++] = e;
    --size_;
  }
  if (head_ == nullptr) {
    tail_ = nullptr;
    if (count > 0) set_readable(false);
  }
  const bool more = head_ != nullptr;
  lock.unlock();
  if (more) cv_.notify_one();  // another poller may take the rest
  return PopResult::ok;
}

std::size_t EventQueue::size() const {
  std::lock_guard lock(mu_);
  return size_;
}

bool EventQueue::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void EventQueue::close() noexcept {
  weft_event* list = nullptr;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    list = head_;
    head_ = tail_ = nullptr;
    size_ = 0;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  cv_.notify_all();
  while (list != nullptr) {
    weft_event* next = list->next;
    delete list;
    list = next;
  }
}

}  // namespace weft::capi

using weft::capi::EventQueue;

extern "C" {

WEFT_API void weft_event_free(weft_event* event) {
  if (event == nullptr) return;
  // A read's buffer may be a stream's receive chunk: back for reuse.
  weft::yamux::ReceiveQueue::recycle(std::move(event->data));
  delete event;
}

WEFT_API int weft_event_type_of(const weft_event* event) { return event ? event->type : 0; }
WEFT_API uint64_t weft_event_token(const weft_event* event) { return event ? event->token : 0; }
WEFT_API int weft_event_status(const weft_event* event) { return event ? event->status : 0; }
WEFT_API const char* weft_event_error(const weft_event* event) {
  return event ? event->error.c_str() : "";
}
WEFT_API weft_conn weft_event_conn(const weft_event* event) {
  return weft_conn{event ? event->conn : 0};
}
WEFT_API weft_stream weft_event_stream(const weft_event* event) {
  return weft_stream{event ? event->stream : 0};
}
WEFT_API const char* weft_event_protocol(const weft_event* event) {
  return event ? event->protocol.c_str() : "";
}
WEFT_API const uint8_t* weft_event_data(const weft_event* event, size_t* len) {
  if (event == nullptr || event->data.empty()) {
    if (len != nullptr) *len = 0;
    return nullptr;
  }
  if (len != nullptr) *len = event->data.size();
  return event->data.data();
}
WEFT_API uint64_t weft_event_count(const weft_event* event) { return event ? event->count : 0; }
WEFT_API const char* weft_event_text(const weft_event* event) {
  return event ? event->text.c_str() : "";
}
WEFT_API const char* weft_event_peer_id(const weft_event* event) {
  return event ? event->peer_id.c_str() : "";
}
WEFT_API const char* weft_event_list(const weft_event* event, int which) {
  if (event == nullptr || which < 0 || which > 1) return "";
  return event->list[which].c_str();
}

}  // extern "C"
