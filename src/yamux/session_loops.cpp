// The session's three coroutines (reader, writer, ticker) and the handling
// of every received frame.
#include <algorithm>
#include <cstring>
#include <string>

#include "yamux/session.hpp"

namespace weft {

using yamux::FrameHeader;
using yamux::FrameType;
using yamux::GoAwayCode;

namespace {

Error protocol_error(std::string detail) {
  return Error{errc::protocol_error, "yamux: " + std::move(detail)};
}

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

}  // namespace

// ---------------------------------------------------------------------------
// Reader

Task<void> YamuxSession::reader_loop(std::shared_ptr<YamuxSession> self) {
  while (!hard_ && (is_open() || drain_reading_)) {
    bool in_place = payload_in_place();
    if (!in_place && payload_wanted_in_place()) {
      // Waits for input without decrypting it, so a payload that fills
      // whole Noise frames is decrypted straight into its stream.
      auto ready = conn_->wait_ready();
      (void)co_await std::move(ready);  // a failure is the next read's
      in_place = !hard_ && payload_in_place();
    }
    if (!in_place) {
      auto input = co_await conn_->read_view(cfg_.read_buffer_size);
      if (!input) {
        if (is_open()) on_read_failure(std::move(input).error());
        break;
      }
      if (!is_open()) continue;  // closing: input is discarded until the remote closes
      Status st = parse_frames(*input);
      if (!st.ok()) {
        begin_drain(std::move(st).error(), GoAwayCode::protocol_error, false);
        break;
      }
    }
    // Reads that find input waiting complete without suspending, so under a
    // steady inflow this loop could run on and on. Letting the streams'
    // readers run every so often keeps their receive buffers small (hot in
    // cache, no page faults from growing them to the whole window) and lets
    // their window updates go out sooner.
    if (stats_.bytes_received - received_at_last_yield_ >= kReaderYieldBytes) {
      received_at_last_yield_ = stats_.bytes_received;
      co_await asio::post(strand_, asio::use_awaitable);
    }
  }
  reader_done_ = true;
  coroutine_finished();
}

void YamuxSession::on_read_failure(Error e) {
  if (e.code == errc::eof && (payload_left_ > 0 || partial_header_size_ > 0)) {
    // A yamux peer sends whole frames; a cut one is a broken peer.
    const std::string where =
        payload_left_ > 0 ? std::to_string(payload_left_) + " payload bytes missing"
                          : std::to_string(partial_header_size_) + " of 12 header bytes read";
    begin_drain(protocol_error("the connection ended inside a frame (" + where + ")"),
                GoAwayCode::protocol_error, false);
  } else if (e.code == errc::eof) {
    begin_drain(Error{errc::closed, "yamux: the remote closed the connection"}, std::nullopt,
                false);
  } else {
    abort(Error{e.code, "yamux: connection read failed: " + e.detail});
  }
}

bool YamuxSession::payload_in_place() {
  if (!payload_wanted_in_place()) return false;
  // Room is prepared only for a frame that has arrived and fits: one that
  // also carries the next header is bigger than the payload left and goes
  // through read_view, and a chunk prepared for it would be dropped unused.
  const std::size_t piece = conn_->ready_piece();
  if (piece == 0 || piece > payload_left_) return false;
  YamuxStream& s = *payload_stream_;
  const std::size_t n = conn_->read_ready(s.receive_room(payload_left_, conn_->read_ready_piece()));
  s.on_data_written(n);
  if (n == 0) {
    ++stats_.in_place_rooms_unused;
    return false;
  }
  stats_.bytes_received += n;
  stats_.bytes_received_in_place += n;
  payload_left_ -= static_cast<std::uint32_t>(n);
  if (payload_left_ == 0) finish_data_frame();
  return true;
}

Status YamuxSession::parse_frames(BytesView input) {
  while (is_open()) {
    if (payload_left_ > 0) {
      const std::size_t n = std::min<std::size_t>(payload_left_, input.size());
      if (n == 0) return Status{};
      if (payload_stream_ && payload_stream_->accepting_data()) {
        payload_stream_->on_data(input.first(n));
        stats_.bytes_received += n;
      } else if (payload_stream_) {
        payload_stream_->on_dropped_data(n);
      }
      input = input.subspan(n);
      payload_left_ -= static_cast<std::uint32_t>(n);
      if (payload_left_ == 0) finish_data_frame();
      continue;
    }
    FrameHeader h;
    if (partial_header_size_ == 0 && input.size() >= yamux::kHeaderSize) {
      h = yamux::decode_header(input.data());
      input = input.subspan(yamux::kHeaderSize);
    } else {
      // A header split between two reads is put together here.
      const std::size_t n = std::min(yamux::kHeaderSize - partial_header_size_, input.size());
      if (n == 0) return Status{};
      std::memcpy(partial_header_ + partial_header_size_, input.data(), n);
      partial_header_size_ += n;
      input = input.subspan(n);
      if (partial_header_size_ < yamux::kHeaderSize) return Status{};
      partial_header_size_ = 0;
      h = yamux::decode_header(partial_header_);
    }
    WEFT_CHECK(handle_header(h));
  }
  return Status{};
}

Status YamuxSession::handle_header(const FrameHeader& h) {
  if (h.version != yamux::kVersion) {
    return protocol_error("unsupported version " + std::to_string(h.version) +
                          " (expected 0) in " + yamux::describe(h));
  }
  if (h.type > yamux::kMaxFrameType) {
    return protocol_error("unknown frame type " + std::to_string(h.type) + " in " +
                          yamux::describe(h));
  }
  switch (h.frame_type()) {
    case FrameType::ping: return handle_ping(h);
    case FrameType::go_away: return handle_go_away(h);
    case FrameType::data:
    case FrameType::window_update: return handle_stream_frame(h);
  }
  return Status{};
}

Status YamuxSession::handle_ping(const FrameHeader& h) {
  if (h.stream_id != 0) {
    return protocol_error(yamux::describe(h) + " not on stream 0 (session frames use stream 0)");
  }
  const std::uint16_t kind = h.flags & (yamux::flag::syn | yamux::flag::ack);
  if (kind == yamux::flag::syn) {
    queue_control(FrameType::ping, yamux::flag::ack, 0, h.length);
    return Status{};
  }
  if (kind == yamux::flag::ack) {
    on_pong(h.length);
    return Status{};
  }
  return protocol_error("ping must carry exactly one of SYN and ACK: " + yamux::describe(h));
}

void YamuxSession::on_pong(std::uint32_t id) {
  // A pong we did not ask for (or already got) is ignored, as go-yamux does.
  auto it = std::find_if(pings_.begin(), pings_.end(),
                         [id](const PendingPing& p) { return p.id == id && !p.answered; });
  if (it == pings_.end()) return;
  it->answered = true;
  it->rtt = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - it->sent_at);
  rtt_ = std::max(it->rtt, std::chrono::nanoseconds{1});
  if (it->keepalive) {
    pings_.erase(it);
  } else {
    ping_q_.notify_all();
  }
  timer_.cancel();  // the ticker recomputes its deadline
}

Status YamuxSession::handle_go_away(const FrameHeader& h) {
  if (h.stream_id != 0) {
    return protocol_error(yamux::describe(h) + " not on stream 0 (session frames use stream 0)");
  }
  switch (h.length) {
    case static_cast<std::uint32_t>(GoAwayCode::normal):
      // Existing streams carry on; no new ones may be opened.
      remote_goaway_ = true;
      open_q_.notify_all();
      return Status{};
    case static_cast<std::uint32_t>(GoAwayCode::protocol_error):
      begin_drain(Error{errc::protocol_error, "yamux: the remote reported a protocol error (GoAway)"},
                  std::nullopt, false);
      return Status{};
    case static_cast<std::uint32_t>(GoAwayCode::internal_error):
      begin_drain(Error{errc::reset, "yamux: the remote ended the session with an internal error"},
                  std::nullopt, false);
      return Status{};
    default:
      return protocol_error("GoAway with unknown code " + std::to_string(h.length));
  }
}

Status YamuxSession::handle_stream_frame(const FrameHeader& h) {
  const std::uint32_t id = h.stream_id;
  const bool is_data = h.frame_type() == FrameType::data;
  if (id == 0) return protocol_error(yamux::describe(h) + " on stream 0 (reserved for the session)");

  std::shared_ptr<YamuxStream> s;
  if (h.has(yamux::flag::syn)) {
    WEFT_TRY(s, handle_syn(h));
  } else {
    s = find_stream(id);
    // Frames for a stream that ended (we reset or closed it) may still be in
    // flight and are dropped; a stream that never existed is a violation.
    if (!s && !stream_id_was_used(id)) {
      return protocol_error(yamux::describe(h) + " for a stream that was never opened");
    }
  }

  if (!s) {  // refused or already gone: skip the payload
    if (is_data) {
      if (h.length > cfg_.max_window) {
        return protocol_error("data frame of " + std::to_string(h.length) +
                              " bytes exceeds the largest window we grant (" +
                              std::to_string(cfg_.max_window) + ")");
      }
      payload_left_ = h.length;
      payload_flags_ = 0;
      payload_stream_.reset();
    }
    return Status{};
  }

  if (h.has(yamux::flag::ack) && s->awaiting_ack_) {
    s->awaiting_ack_ = false;
    if (unacked_outbound_ > 0) --unacked_outbound_;
    open_q_.notify_all();
  }

  if (!is_data) {
    WEFT_CHECK(s->on_window_update(h.length));
    apply_end_flags(*s, h.flags);
    return Status{};
  }
  WEFT_CHECK(s->begin_data(h.length));
  payload_left_ = h.length;
  payload_flags_ = h.flags;
  payload_stream_ = std::move(s);
  if (payload_left_ == 0) finish_data_frame();
  return Status{};
}

Result<std::shared_ptr<YamuxStream>> YamuxSession::handle_syn(const FrameHeader& h) {
  const std::uint32_t id = h.stream_id;
  if (is_ours(id)) {
    return protocol_error("SYN for stream " + std::to_string(id) + ", an id of our parity (both " +
                          "ends act as " + (is_client_ ? "client" : "server") + ")");
  }
  if (streams_.count(id) != 0) {
    return protocol_error("duplicate SYN for open stream " + std::to_string(id));
  }
  // Ids need not arrive in order: a peer that allocates ids 1 and 3 may send
  // their SYNs from two tasks (go-libp2p opens identify and ping at once),
  // so 3 can come first. The spec only forbids an id that is open now.
  highest_inbound_id_ = std::max(highest_inbound_id_, id);
  // The window the stream gets once accepted must fit in the session's.
  if (local_goaway_ || streams_.size() >= cfg_.max_streams ||
      unacked_inbound_ >= cfg_.max_unacked_inbound || backlog_.size() >= cfg_.accept_backlog ||
      !receive_window_fits(cfg_.initial_window)) {
    queue_control(FrameType::window_update, yamux::flag::rst, id, 0);
    ++stats_.streams_refused;
    return std::shared_ptr<YamuxStream>{};
  }
  auto s = std::shared_ptr<YamuxStream>(new YamuxStream(shared_from_this(), id, false));
  receive_windows_ += s->recv_window_;  // the 256 KiB both ends assume
  s->ack_pending_ = true;
  ++unacked_inbound_;
  streams_.emplace(id, s);
  backlog_.push_back(s);
  accept_q_.notify_all();
  return s;
}

void YamuxSession::apply_end_flags(YamuxStream& s, std::uint16_t flags) {
  if (flags & yamux::flag::fin) s.on_remote_fin();
  if (flags & yamux::flag::rst) s.on_remote_reset();
}

void YamuxSession::finish_data_frame() {
  auto s = std::move(payload_stream_);
  payload_stream_.reset();
  if (s) apply_end_flags(*s, payload_flags_);
}

// ---------------------------------------------------------------------------
// Writer

Task<void> YamuxSession::writer_loop(std::shared_ptr<YamuxSession> self) {
  while (!hard_) {
    if (conn_->staged_size() == 0) {
      if (!is_open()) break;  // drained
      writer_idle_ = true;
      co_await writer_q_.async_wait(use_tuple);
      writer_idle_ = false;
      continue;
    }
    // The flush takes everything staged before it first waits, so stream
    // writers waiting for room may go on (they run after that point); the
    // next batch fills while this one goes out.
    space_q_.notify_all();
    Status st = co_await conn_->flush_staged();
    if (!st.ok()) {
      if (!hard_) abort(Error{st.code(), "yamux: connection write failed: " + st.error().detail});
      break;
    }
  }
  if (!hard_) {
    Status st = co_await conn_->close_write();
    flush_ok_ = st.ok() && !hard_;
  }
  writer_done_ = true;
  coroutine_finished();
}

// ---------------------------------------------------------------------------
// Ticker: the session's only timer. Every pass recomputes the next deadline
// from the current state and re-arms the timer, whether the previous wait
// fired or was cancelled; state changes cancel the wait to force a pass.

Task<void> YamuxSession::ticker_loop(std::shared_ptr<YamuxSession> self) {
  const bool keepalive = cfg_.keepalive_interval.count() > 0;
  auto next_keepalive = Clock::now() + cfg_.keepalive_interval;
  while (!(reader_done_ && writer_done_)) {
    const auto now = Clock::now();
    auto wake = Clock::time_point::max();
    if (is_open()) {
      if (keepalive) {
        if (now >= next_keepalive) {
          const bool outstanding = std::any_of(pings_.begin(), pings_.end(),
                                               [](const PendingPing& p) { return p.keepalive; });
          if (!outstanding) send_ping(true);
          next_keepalive = now + cfg_.keepalive_interval;
        }
        wake = std::min(wake, next_keepalive);
      }
      bool expired = false;
      for (const PendingPing& p : pings_) {
        if (p.answered) continue;
        const auto deadline = p.sent_at + cfg_.keepalive_timeout;
        if (now >= deadline) expired = true;
        wake = std::min(wake, deadline);
      }
      if (expired) {
        abort(Error{errc::timed_out,
                    "yamux: no pong within keepalive_timeout (" + ms_text(cfg_.keepalive_timeout) + ")"});
        continue;
      }
    } else if (!hard_) {
      if (now >= drain_deadline_) {
        drain_timed_out_ = true;
        abort(failure_);
        continue;
      }
      wake = std::min(wake, drain_deadline_);
    }
    timer_.expires_at(wake);
    co_await timer_.async_wait(use_tuple);
  }
  coroutine_finished();
}

}  // namespace weft
