#include "yamux/session.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace weft {

using yamux::FrameType;
using yamux::GoAwayCode;

namespace {

bool cancel_requested(const asio::cancellation_state& cs) {
  return cs.cancelled() != asio::cancellation_type::none;
}

}  // namespace

std::shared_ptr<YamuxSession> YamuxSession::create(Executor strand,
                                                   std::unique_ptr<ByteChannel> conn,
                                                   bool is_client, YamuxConfig cfg) {
  return std::shared_ptr<YamuxSession>(
      new YamuxSession(std::move(strand), std::move(conn), is_client, sanitize(cfg)));
}

YamuxSession::YamuxSession(Executor strand, std::unique_ptr<ByteChannel> conn, bool is_client,
                           YamuxConfig cfg)
    : strand_(std::move(strand)),
      conn_(std::move(conn)),
      is_client_(is_client),
      cfg_(cfg),
      next_outbound_id_(is_client ? 1 : 2),
      timer_(strand_) {}

YamuxSession::~YamuxSession() = default;

void YamuxSession::start() {
  if (started_) return;
  started_ = true;
  if (!is_open()) return;  // aborted before it started
  running_ = 3;
  auto self = shared_from_this();
  asio::co_spawn(strand_, reader_loop(self), asio::detached);
  asio::co_spawn(strand_, writer_loop(self), asio::detached);
  asio::co_spawn(strand_, ticker_loop(self), asio::detached);
  if (cfg_.initial_ping) send_ping(true);
}

// ---------------------------------------------------------------------------
// Public operations

Task<Result<std::shared_ptr<YamuxStream>>> YamuxSession::open_stream() {
  auto self = shared_from_this();
  auto cs = co_await asio::this_coro::cancellation_state;
  while (true) {
    if (!is_open()) co_return failure_;
    if (remote_goaway_) co_return Error{errc::closed, "yamux: the remote sent GoAway, no new streams"};
    if (streams_.size() >= cfg_.max_streams) {
      co_return Error{errc::limit_exceeded,
                      "yamux: " + std::to_string(streams_.size()) + " streams open (max_streams)"};
    }
    if (next_outbound_id_ > 0xffffffffu) {
      co_return Error{errc::limit_exceeded, "yamux: stream ids exhausted"};
    }
    if (unacked_outbound_ < cfg_.max_unacked_outbound) break;
    if (cancel_requested(cs)) co_return Error{errc::canceled, "yamux open_stream cancelled"};
    auto [ec] = co_await open_q_.async_wait(use_tuple);
    if (ec) co_return Error{errc::canceled, "yamux open_stream cancelled"};
  }
  const auto id = static_cast<std::uint32_t>(next_outbound_id_);
  next_outbound_id_ += 2;
  auto s = std::shared_ptr<YamuxStream>(new YamuxStream(self, id, true));
  s->awaiting_ack_ = true;
  ++unacked_outbound_;
  // Announce the part of our window beyond the 256 KiB both sides assume.
  const std::uint32_t delta = cfg_.initial_window - yamux::kDefaultWindow;
  s->recv_window_ = cfg_.initial_window;
  s->recv_credit_ = cfg_.initial_window;
  receive_windows_ += s->recv_window_;  // counted, never refused: our own open
  streams_.emplace(id, s);
  ++stats_.streams_opened;
  queue_control(FrameType::window_update, yamux::flag::syn, id, delta);
  if (!is_open()) co_return failure_;  // queueing can fail the session (send backlog)
  co_return s;
}

Task<Result<std::shared_ptr<YamuxStream>>> YamuxSession::accept_stream() {
  auto self = shared_from_this();
  auto cs = co_await asio::this_coro::cancellation_state;
  while (true) {
    if (!backlog_.empty()) {
      auto s = std::move(backlog_.front());
      backlog_.pop_front();
      s->acknowledge();
      ++stats_.streams_accepted;
      co_return s;
    }
    if (!is_open()) co_return failure_;
    if (cancel_requested(cs)) co_return Error{errc::canceled, "yamux accept_stream cancelled"};
    auto [ec] = co_await accept_q_.async_wait(use_tuple);
    if (ec) co_return Error{errc::canceled, "yamux accept_stream cancelled"};
  }
}

Task<Result<std::chrono::nanoseconds>> YamuxSession::ping() {
  auto self = shared_from_this();
  if (!is_open()) co_return failure_;
  const auto waiting = std::count_if(pings_.begin(), pings_.end(),
                                     [](const PendingPing& p) { return !p.keepalive; });
  if (static_cast<std::size_t>(waiting) >= cfg_.max_pending_pings) {
    co_return Error{errc::limit_exceeded, "yamux: too many pings in flight (max_pending_pings)"};
  }
  const std::uint32_t id = send_ping(false);
  auto cs = co_await asio::this_coro::cancellation_state;
  auto find = [this, id] {
    return std::find_if(pings_.begin(), pings_.end(),
                        [id](const PendingPing& p) { return p.id == id && !p.keepalive; });
  };
  while (true) {
    auto it = find();
    if (it == pings_.end()) co_return failure_.code != errc::ok ? failure_ : Error{errc::closed};
    if (it->answered) {
      const auto rtt = it->rtt;
      pings_.erase(it);
      co_return rtt;
    }
    if (cancel_requested(cs)) {
      pings_.erase(it);
      co_return Error{errc::canceled, "yamux ping cancelled"};
    }
    auto [ec] = co_await ping_q_.async_wait(use_tuple);
    if (ec) {
      if (auto again = find(); again != pings_.end()) pings_.erase(again);
      co_return Error{errc::canceled, "yamux ping cancelled"};
    }
  }
}

Task<Status> YamuxSession::close() {
  auto self = shared_from_this();
  if (is_open()) {
    local_goaway_ = true;
    closed_by_us_ = true;
    if (!started_) {
      // Nothing runs that could flush a GoAway: just drop the connection.
      failure_ = Error{errc::closed, "yamux session closed"};
      fail_everything();
      conn_.reset();
      co_return Status{};
    }
    begin_drain(Error{errc::closed, "yamux session closed"}, GoAwayCode::normal, true);
  }
  while (running_ > 0) co_await done_q_.async_wait(use_tuple);
  if (!closed_by_us_) {
    if (failure_.code == errc::closed) co_return Status{};
    co_return failure_;
  }
  if (flush_ok_) co_return Status{};
  if (drain_timed_out_) {
    co_return Error{errc::timed_out, "yamux close: the connection was not flushed within " +
                                         std::to_string(cfg_.close_timeout.count()) + " ms"};
  }
  co_return Error{errc::io_error, "yamux close: the connection failed before the flush ended"};
}

void YamuxSession::abort(Error why) {
  if (hard_) return;
  if (why.code == errc::ok) why = Error{errc::closed, "yamux session aborted"};
  hard_ = true;
  if (is_open()) {
    failure_ = std::move(why);
    fail_everything();
  }
  if (conn_) conn_->abort();
  writer_q_.notify_all();
  timer_.cancel();
}

Task<void> YamuxSession::wait_closed() {
  auto self = shared_from_this();
  auto cs = co_await asio::this_coro::cancellation_state;
  while (is_open() || running_ > 0) {
    if (cancel_requested(cs)) co_return;
    auto [ec] = co_await done_q_.async_wait(use_tuple);
    if (ec) co_return;
  }
}

// ---------------------------------------------------------------------------
// Send side

void YamuxSession::stage_header(FrameType type, std::uint16_t flags, std::uint32_t stream_id,
                                std::uint32_t value) {
  std::uint8_t header[yamux::kHeaderSize];
  yamux::encode_header(yamux::make_header(type, flags, stream_id, value), header);
  conn_->stage(header);
}

void YamuxSession::queue_control(FrameType type, std::uint16_t flags, std::uint32_t stream_id,
                                 std::uint32_t value) {
  if (hard_ || !conn_) return;
  const std::size_t limit = cfg_.max_send_buffer + cfg_.max_frame_payload + yamux::kHeaderSize +
                            cfg_.max_control_backlog;
  if (conn_->staged_size() >= limit) {
    abort(Error{errc::limit_exceeded, "yamux: over " + std::to_string(limit) +
                                          " bytes queued for a remote that does not read"});
    return;
  }
  stage_header(type, flags, stream_id, value);
  writer_q_.notify_all();
}

void YamuxSession::queue_data(std::uint16_t flags, std::uint32_t stream_id, BytesView payload) {
  if (hard_ || !conn_) return;
  // Staged as two pieces: the connection joins them into its frames without
  // copying the payload first (Noise seals it straight from here).
  stage_header(FrameType::data, flags, stream_id, static_cast<std::uint32_t>(payload.size()));
  conn_->stage(payload);
  stats_.bytes_sent += payload.size();
  writer_q_.notify_all();
}

std::uint32_t YamuxSession::send_ping(bool keepalive) {
  const std::uint32_t id = next_ping_id_++;
  pings_.push_back(PendingPing{id, Clock::now(), keepalive, false, {}});
  queue_control(FrameType::ping, yamux::flag::syn, 0, id);
  timer_.cancel();  // the ticker re-arms for this ping's deadline
  return id;
}

// ---------------------------------------------------------------------------
// Stream bookkeeping

void YamuxSession::stream_acked_inbound() noexcept {
  if (unacked_inbound_ > 0) --unacked_inbound_;
}

std::shared_ptr<YamuxStream> YamuxSession::find_stream(std::uint32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

bool YamuxSession::stream_id_was_used(std::uint32_t id) const noexcept {
  if (is_ours(id)) return id < next_outbound_id_;
  return id <= highest_inbound_id_;
}

void YamuxSession::remove_stream(YamuxStream& s) {
  if (s.removed_) return;
  s.removed_ = true;
  if (s.ack_pending_) {
    s.ack_pending_ = false;
    stream_acked_inbound();
    auto it = std::find_if(backlog_.begin(), backlog_.end(),
                           [&s](const std::shared_ptr<YamuxStream>& b) { return b.get() == &s; });
    if (it != backlog_.end()) backlog_.erase(it);
  }
  if (s.awaiting_ack_) {
    s.awaiting_ack_ = false;
    if (unacked_outbound_ > 0) --unacked_outbound_;
  }
  receive_windows_ -= s.recv_window_;
  // Callers hold their own reference: this may drop the table's last one.
  streams_.erase(s.id_);
  open_q_.notify_all();
}

// ---------------------------------------------------------------------------
// Failure

void YamuxSession::fail_everything() {
  auto streams = std::move(streams_);
  streams_.clear();
  receive_windows_ = 0;
  backlog_.clear();
  unacked_inbound_ = 0;
  unacked_outbound_ = 0;
  payload_stream_.reset();
  for (auto& [id, s] : streams) s->on_session_failed(failure_);
  pings_.clear();
  accept_q_.notify_all();
  open_q_.notify_all();
  ping_q_.notify_all();
  space_q_.notify_all();
  done_q_.notify_all();
}

void YamuxSession::begin_drain(Error why, std::optional<GoAwayCode> go_away, bool keep_reading) {
  if (!is_open()) return;
  failure_ = std::move(why);
  drain_reading_ = keep_reading;
  drain_deadline_ = Clock::now() + cfg_.close_timeout;
  fail_everything();
  if (go_away && !hard_ && conn_) {
    // Staged without the backlog check: it is the last frame we send.
    stage_header(FrameType::go_away, 0, 0, static_cast<std::uint32_t>(*go_away));
  }
  writer_q_.notify_all();
  timer_.cancel();
}

void YamuxSession::coroutine_finished() {
  if (--running_ == 0) {
    // Nothing uses the connection any more: release it (a graceful close
    // unless it was aborted).
    conn_.reset();
  }
  timer_.cancel();
  done_q_.notify_all();
}

}  // namespace weft
