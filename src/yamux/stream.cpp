#include "yamux/stream.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "yamux/session.hpp"

namespace weft {

using yamux::FrameType;

namespace {

bool cancel_requested(const asio::cancellation_state& cs) {
  return cs.cancelled() != asio::cancellation_type::none;
}

Error cancelled(const char* what) {
  return Error{errc::canceled, std::string("yamux ") + what + " cancelled"};
}

}  // namespace

YamuxStream::YamuxStream(std::shared_ptr<YamuxSession> session, std::uint32_t id, bool outbound)
    : session_(std::move(session)),
      cfg_(session_->cfg_),
      id_(id),
      outbound_(outbound),
      epoch_start_(std::chrono::steady_clock::now()) {}

YamuxStream::~YamuxStream() = default;

// ---------------------------------------------------------------------------
// Application side

Task<Status> YamuxStream::wait_readable() {
  auto self = shared_from_this();
  auto cs = co_await asio::this_coro::cancellation_state;
  while (true) {
    if (reset_) co_return error_;
    if (!recv_buf_.empty()) co_return Status{};
    if (fin_received_) {
      co_return Error{errc::eof, "yamux stream " + std::to_string(id_) + ": the remote closed its write side"};
    }
    if (error_.code != errc::ok) co_return error_;
    // Checked before every wait: a cancellation that arrived while this
    // operation was not suspended must still end it.
    if (cancel_requested(cs)) co_return cancelled("read");
    auto [ec] = co_await read_q_.async_wait(use_tuple);
    if (ec) co_return cancelled("read");
  }
}

Task<Result<std::size_t>> YamuxStream::read_some_impl(MutableBytesView buf) {
  auto self = shared_from_this();
  yamux::ReceiveQueue::recycle(std::move(viewed_));
  if (reset_ || recv_buf_.empty()) {  // else read at once, without a waiting coroutine
    auto waiting = wait_readable();
    auto ready = co_await std::move(waiting);
    if (!ready) co_return std::move(ready).error();
  }
  const std::size_t n = recv_buf_.read(buf);
  update_receive_window();
  co_return n;
}

Task<Result<Bytes>> YamuxStream::read_bytes_impl(std::size_t max) {
  auto self = shared_from_this();
  yamux::ReceiveQueue::recycle(std::move(viewed_));
  auto waiting = wait_readable();
  auto ready = co_await std::move(waiting);
  if (!ready) co_return std::move(ready).error();
  Bytes out = recv_buf_.take(max);
  update_receive_window();
  co_return out;
}

Task<Result<BytesView>> YamuxStream::read_view_impl(std::size_t max) {
  auto self = shared_from_this();
  yamux::ReceiveQueue::recycle(std::move(viewed_));
  auto waiting = wait_readable();
  auto ready = co_await std::move(waiting);
  if (!ready) co_return std::move(ready).error();
  const BytesView view = recv_buf_.take_view(max, viewed_);
  update_receive_window();
  co_return view;
}

Status YamuxStream::writable() const {
  if (error_.code != errc::ok) return error_;
  if (fin_sent_) {
    return Error{errc::closed, "yamux stream " + std::to_string(id_) + ": write after close_write"};
  }
  return Status{};
}

Task<Status> YamuxStream::write_all(BytesView data) { return write_frames(data, false); }

Task<Status> YamuxStream::write_more(BytesView data) { return write_frames(data, true); }

Task<Status> YamuxStream::write_all_counted(BytesView data, std::size_t* handed_over) {
  return write_frames(data, false, handed_over);
}

Task<Status> YamuxStream::write_frames(BytesView data, bool more, std::size_t* handed_over) {
  auto self = shared_from_this();
  WEFT_CO_CHECK(writable());
  if (data.empty()) co_return Status{};
  auto cs = co_await asio::this_coro::cancellation_state;
  std::optional<TurnQueue::Place> turn(std::in_place, send_turns_);
  while (!turn->held()) {
    WEFT_CO_CHECK(writable());
    if (cancel_requested(cs)) co_return cancelled("write");
    auto [ec] = co_await send_turns_.async_wait_moved(use_tuple);
    if (ec) co_return cancelled("write");
  }
  std::size_t done = 0;
  while (done < data.size()) {
    WEFT_CO_CHECK(writable());
    WaitQueue* blocked_on = nullptr;
    if (send_window_ == 0) {
      blocked_on = &window_q_;
    } else if (session_->send_buffer_full()) {
      blocked_on = &session_->space_q_;
    }
    if (blocked_on) {
      if (cancel_requested(cs)) co_return cancelled("write");
      auto [ec] = co_await blocked_on->async_wait(use_tuple);
      if (ec) co_return cancelled("write");
      continue;
    }
    const std::size_t n = std::min<std::uint64_t>(
        {data.size() - done, send_window_, std::uint64_t{cfg_.max_frame_payload}});
    session_->queue_data(take_open_flags(), id_, data.subspan(done, n));
    send_window_ -= n;
    done += n;
    // Kept current (the caller waits for this coroutine, so *handed_over
    // is alive while it runs): whichever way the write ends, it is right.
    if (handed_over != nullptr) *handed_over = done;
  }
  // Every byte is staged, in order: the next writer may stage now, so a write
  // and a close_write submitted together leave in one batch.
  turn.reset();
  const bool yield = more ? session_->send_batch_full() && !cancel_requested(cs)
                          : writer_goes_first(cs);
  if (yield) co_await asio::post(session_->strand_, asio::use_awaitable);
  co_return Status{};
}

Task<Status> YamuxStream::close_write() {
  auto self = shared_from_this();
  if (fin_sent_) co_return Status{};
  if (error_.code != errc::ok) co_return error_;
  auto cs = co_await asio::this_coro::cancellation_state;
  TurnQueue::Place turn(send_turns_);  // FIN goes after every write queued before us
  while (!turn.held()) {
    if (fin_sent_) co_return Status{};
    if (error_.code != errc::ok) co_return error_;
    if (cancel_requested(cs)) co_return cancelled("close_write");
    auto [ec] = co_await send_turns_.async_wait_moved(use_tuple);
    if (ec) co_return cancelled("close_write");
  }
  if (fin_sent_) co_return Status{};
  if (error_.code != errc::ok) co_return error_;
  fin_sent_ = true;
  session_->queue_control(FrameType::window_update, take_open_flags() | yamux::flag::fin, id_, 0);
  if (fin_received_) session_->remove_stream(*this);
  if (writer_goes_first(cs)) co_await asio::post(session_->strand_, asio::use_awaitable);
  co_return Status{};
}

bool YamuxStream::writer_goes_first(const asio::cancellation_state& cs) const {
  // Everything is queued already; a yield only lets the writer send it
  // before the caller hears that the write is done (YamuxSession::
  // writer_should_go_first). Not after a cancellation request, when an await
  // would throw.
  return session_->writer_should_go_first() && !cancel_requested(cs);
}

void YamuxStream::reset() {
  if (reset_) return;
  auto self = shared_from_this();  // remove_stream may drop the session's reference
  reset_ = true;
  if (error_.code == errc::ok) {
    error_ = Error{errc::reset, "yamux stream " + std::to_string(id_) + " was reset locally"};
  }
  recv_buf_.release();
  if (!removed_) {
    session_->queue_control(FrameType::window_update, yamux::flag::rst, id_, 0);
    session_->remove_stream(*this);
  }
  wake_all();
}

std::uint16_t YamuxStream::take_open_flags() {
  if (!ack_pending_) return 0;
  ack_pending_ = false;
  session_->stream_acked_inbound();
  return yamux::flag::ack;
}

void YamuxStream::acknowledge() {
  if (!ack_pending_ || error_.code != errc::ok) return;
  std::uint32_t delta = 0;
  // Checked at the SYN; streams opened since may have taken the room.
  if (cfg_.initial_window > recv_window_ &&
      session_->take_receive_window(cfg_.initial_window - recv_window_)) {
    delta = cfg_.initial_window - recv_window_;
    recv_window_ = cfg_.initial_window;
    recv_credit_ += delta;
  }
  session_->queue_control(FrameType::window_update, take_open_flags(), id_, delta);
}

// Sends a window update once the application has read at least half the
// window, doubling the window (auto-tuning, as go-yamux does) when updates
// are due faster than window_growth_rtt_factor round trips.
void YamuxStream::update_receive_window() {
  if (reset_ || removed_ || fin_received_ || error_.code != errc::ok) return;
  const std::uint64_t consumed =
      std::uint64_t{recv_window_} - recv_buf_.size() - recv_credit_ - recv_in_flight_;
  if (consumed < recv_window_ / 2) return;
  std::uint64_t delta = consumed;
  const auto now = std::chrono::steady_clock::now();
  const auto rtt = session_->rtt();
  if (cfg_.window_growth_rtt_factor != 0 && rtt.count() > 0 && recv_window_ < cfg_.max_window &&
      now - epoch_start_ < rtt * cfg_.window_growth_rtt_factor) {
    const auto grown = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(std::uint64_t{recv_window_} * 2, cfg_.max_window));
    // Within the session's receive windows only (max_receive_windows).
    if (session_->take_receive_window(grown - recv_window_)) {
      delta += grown - recv_window_;
      recv_window_ = grown;
    }
  }
  epoch_start_ = now;
  recv_credit_ += static_cast<std::uint32_t>(delta);
  session_->queue_control(FrameType::window_update, take_open_flags(), id_,
                          static_cast<std::uint32_t>(delta));
}

void YamuxStream::wake_all() {
  read_q_.notify_all();
  send_turns_.wake_all();
  window_q_.notify_all();
  // A writer of this stream may wait for session send buffer space.
  if (send_turns_.size() != 0) session_->space_q_.notify_all();
}

// ---------------------------------------------------------------------------
// Session (reader) side

Status YamuxStream::begin_data(std::uint32_t length) {
  if (fin_received_ && length > 0) {
    return Error{errc::protocol_error, "yamux: data after FIN on stream " + std::to_string(id_)};
  }
  if (length > recv_credit_) {
    return Error{errc::protocol_error,
                 "yamux: data frame of " + std::to_string(length) +
                     " bytes exceeds the receive window of stream " + std::to_string(id_) + " (" +
                     std::to_string(recv_credit_) + " bytes left)"};
  }
  recv_credit_ -= length;
  recv_in_flight_ = length;
  return Status{};
}

void YamuxStream::on_data(BytesView chunk) {
  recv_in_flight_ -= static_cast<std::uint32_t>(chunk.size());
  // Bytes are handed to reads only when a read runs (never into a waiting
  // read's buffer ahead of time): concurrent reads then complete in the
  // order of the bytes they took, whatever order they started in.
  recv_buf_.write(chunk, recv_in_flight_);
  read_q_.notify_all();
}

void YamuxStream::on_data_written(std::size_t n) {
  recv_buf_.commit(n);
  if (n == 0) return;
  recv_in_flight_ -= static_cast<std::uint32_t>(n);
  read_q_.notify_all();
}

Status YamuxStream::on_window_update(std::uint32_t delta) {
  if (send_window_ + delta > 0xffffffffu) {
    return Error{errc::protocol_error,
                 "yamux: window update of " + std::to_string(delta) + " overflows the send window (" +
                     std::to_string(send_window_) + ") of stream " + std::to_string(id_)};
  }
  send_window_ += delta;
  if (delta != 0) window_q_.notify_all();
  return Status{};
}

void YamuxStream::on_remote_fin() {
  if (reset_ || removed_ || fin_received_) return;
  fin_received_ = true;
  read_q_.notify_all();
  if (fin_sent_) session_->remove_stream(*this);
}

void YamuxStream::on_remote_reset() {
  if (reset_ || removed_) return;
  reset_ = true;
  error_ = Error{errc::reset, "yamux stream " + std::to_string(id_) + " was reset by the remote"};
  recv_buf_.release();
  session_->remove_stream(*this);
  wake_all();
}

void YamuxStream::on_session_failed(const Error& why) {
  removed_ = true;
  ack_pending_ = false;
  awaiting_ack_ = false;
  if (error_.code == errc::ok) error_ = why;
  wake_all();
}

}  // namespace weft
