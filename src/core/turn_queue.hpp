// TurnQueue: coroutines take turns at something, first come first served
// (a stream's send side, a stream handle's reads).
//
// A coroutine joins by constructing a Place (in its own frame, so queueing
// allocates nothing); the head of the queue holds the turn; destroying the
// Place (done, failed or cancelled) passes the turn on. Why not re-check
// state after a WaitQueue wake-up: a woken waiter resumes later, in a posted
// handler, and a newcomer running before it would find the state ready and
// overtake it. A turn belongs to exactly one Place, so nobody overtakes.
//
// Not thread-safe: the queue and its places belong to one strand.
#pragma once

#include <cstddef>
#include <system_error>

#include "core/wait_queue.hpp"

namespace weft {

class TurnQueue {
 public:
  class Place {
   public:
    explicit Place(TurnQueue& q) noexcept : q_(q) {
      prev_ = q_.tail_;
      if (q_.tail_) q_.tail_->next_ = this; else q_.head_ = this;
      q_.tail_ = this;
      ++q_.count_;
    }
    ~Place() {
      const bool was_head = q_.head_ == this;
      if (prev_) prev_->next_ = next_; else q_.head_ = next_;
      if (next_) next_->prev_ = prev_; else q_.tail_ = prev_;
      --q_.count_;
      if (was_head && q_.head_) q_.moved_.notify_all();
    }
    Place(const Place&) = delete;
    Place& operator=(const Place&) = delete;

    bool held() const noexcept { return q_.head_ == this; }

   private:
    TurnQueue& q_;
    Place* prev_ = nullptr;
    Place* next_ = nullptr;
  };

  TurnQueue() = default;
  TurnQueue(const TurnQueue&) = delete;
  TurnQueue& operator=(const TurnQueue&) = delete;

  // Places queued or holding the turn.
  std::size_t size() const noexcept { return count_; }

  // Completes when the turn moved (check held() again), or with
  // operation_aborted when the wait is cancelled.
  template <typename CompletionToken>
  auto async_wait_moved(CompletionToken&& token) {
    return moved_.async_wait(std::forward<CompletionToken>(token));
  }

  // Notifies every waiting Place, e.g. after a state change that should end
  // their wait early (a reset): each re-checks its state.
  void wake_all() { moved_.notify_all(); }

 private:
  Place* head_ = nullptr;
  Place* tail_ = nullptr;
  std::size_t count_ = 0;
  WaitQueue moved_;
};

}  // namespace weft
