// WaitQueue: any number of coroutines wait, notify_all() wakes every one.
//
// This is weft's only suspension primitive for "wait until state changes"
// (stream readable, send window open, accept queue non-empty, ...). It has no
// single-waiter slot that a second waiter could overwrite (seed 5): every
// waiter is linked in the queue until it is woken or cancelled. A woken
// waiter re-checks the state it waits for, so spurious wake-ups are harmless
// and lost wake-ups are impossible: state is changed first, then notify_all().
//
// Per-operation cancellation is honoured: cancelling a wait (any cancellation
// type) unlinks it and completes it with asio::error::operation_aborted.
//
// Not thread-safe: the queue, its waiters and cancellation signals belong to
// one strand. Completions are posted (never run inside notify_all()), so a
// notifier never re-enters a waiter.
#pragma once

#include <memory>
#include <system_error>

#include "core/asio.hpp"

namespace weft {

class WaitQueue;

namespace detail {

struct WaiterBase {
  WaiterBase* prev = nullptr;
  WaiterBase* next = nullptr;
  WaitQueue* queue = nullptr;  // null once unlinked (woken or cancelled)
  virtual void complete(std::error_code ec) = 0;  // consumes *this
  virtual ~WaiterBase() = default;
};

}  // namespace detail

class WaitQueue {
 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;
  // Waiters still linked are completed with operation_aborted.
  ~WaitQueue() { wake_all(asio::error::operation_aborted); }

  template <typename CompletionToken>
  auto async_wait(CompletionToken&& token);

  // Coroutine convenience: returns the completion's error_code (empty when notified).
  Task<std::error_code> wait();

  void notify_all() { wake_all({}); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

 private:
  template <typename Handler>
  struct Waiter;
  struct CancelHandler;

  void link(detail::WaiterBase* w) noexcept;
  void unlink(detail::WaiterBase* w) noexcept;
  void wake_all(std::error_code ec) noexcept;

  detail::WaiterBase* head_ = nullptr;
  detail::WaiterBase* tail_ = nullptr;
  std::size_t size_ = 0;
};

template <typename Handler>
struct WaitQueue::Waiter final : detail::WaiterBase {
  using WorkExecutor = decltype(asio::prefer(
      std::declval<asio::associated_executor_t<Handler>>(), asio::execution::outstanding_work.tracked));

  explicit Waiter(Handler&& h)
      : handler(std::move(h)),
        work(asio::prefer(asio::get_associated_executor(handler),
                          asio::execution::outstanding_work.tracked)) {}

  void complete(std::error_code ec) override {
    // Posted, and the cancellation slot is cleared there rather than here:
    // complete() may run inside that slot's own cancellation handler.
    auto ex = work;
    asio::post(ex, [self = std::unique_ptr<Waiter>(this), ec]() mutable {
      asio::get_associated_cancellation_slot(self->handler).clear();
      Handler h = std::move(self->handler);
      self.reset();
      std::move(h)(ec);
    });
  }

  Handler handler;
  WorkExecutor work;
};

struct WaitQueue::CancelHandler {
  detail::WaiterBase* waiter;
  void operator()(asio::cancellation_type_t) const {
    if (waiter->queue == nullptr) return;  // already woken, completion pending
    waiter->queue->unlink(waiter);
    waiter->complete(asio::error::operation_aborted);
  }
};

template <typename CompletionToken>
auto WaitQueue::async_wait(CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(std::error_code)>(
      [this](auto handler) {
        using H = std::decay_t<decltype(handler)>;
        auto* w = new Waiter<H>(std::move(handler));
        link(w);
        auto slot = asio::get_associated_cancellation_slot(w->handler);
        if (slot.is_connected()) slot.template emplace<CancelHandler>(CancelHandler{w});
      },
      token);
}

inline Task<std::error_code> WaitQueue::wait() {
  auto [ec] = co_await async_wait(use_tuple);
  co_return ec;
}

inline void WaitQueue::link(detail::WaiterBase* w) noexcept {
  w->queue = this;
  w->prev = tail_;
  w->next = nullptr;
  if (tail_) tail_->next = w; else head_ = w;
  tail_ = w;
  ++size_;
}

inline void WaitQueue::unlink(detail::WaiterBase* w) noexcept {
  if (w->prev) w->prev->next = w->next; else head_ = w->next;
  if (w->next) w->next->prev = w->prev; else tail_ = w->prev;
  w->prev = w->next = nullptr;
  w->queue = nullptr;
  --size_;
}

inline void WaitQueue::wake_all(std::error_code ec) noexcept {
  while (head_) {
    detail::WaiterBase* w = head_;
    unlink(w);
    w->complete(ec);
  }
}

}  // namespace weft
