// YamuxStream: one logical stream of a YamuxSession, used as a ByteChannel.
//
// Runs on the session's strand; call it only from coroutines running there.
// Unlike other ByteChannels, any number of coroutines may call write_all()
// concurrently: writes are served in FIFO order and each write's bytes are
// contiguous on the stream (a write holds the stream's send turn until all
// its bytes are queued). Reads also allow several concurrent callers; each
// byte goes to exactly one of them, but a reader that starts while another
// is being woken may overtake it (callers that need order take turns, as
// the C ABI does).
//
// Every operation completes exactly once: with its result, with
// errc::canceled when cancelled through Asio per-operation cancellation, with
// errc::reset after a reset (either side), or with the session's failure.
// A cancelled read loses no data (it never took any); a write cancelled
// before any of its bytes were queued sends nothing (one cancelled midway
// has sent a prefix, and the stream's byte stream holds that prefix).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "core/byte_channel.hpp"
#include "core/live.hpp"
#include "core/turn_queue.hpp"
#include "core/wait_queue.hpp"
#include "yamux/buffers.hpp"
#include "yamux/config.hpp"
#include "yamux/frame.hpp"

namespace weft {

class YamuxSession;

class YamuxStream final : public ByteChannel, public std::enable_shared_from_this<YamuxStream> {
 public:
  ~YamuxStream() override;

  std::uint32_t id() const noexcept { return id_; }
  bool is_outbound() const noexcept { return outbound_; }

  // Queues data as Data frames, waiting for send window and session send
  // buffer space as needed. Completes once every byte is queued.
  Task<Status> write_all(BytesView data) override;
  // Like write_all, but does not make way for the session's writer unless
  // its batch is full: what the caller writes next in the same strand turn
  // (a FIN, the reply after a protocol answer) goes out in the same packet.
  Task<Status> write_more(BytesView data) override;
  // write_all that also counts, in *handed_over (which the caller sets to 0
  // and keeps alive until the write completes), the bytes of the start of
  // `data` handed to the session so far: on success all of them; on failure
  // (cancellation, reset...) a prefix, which still goes out unless the
  // connection fails, while the rest never does.
  Task<Status> write_all_counted(BytesView data, std::size_t* handed_over);
  // Sends FIN after every write queued before it. Idempotent.
  Task<Status> close_write() override;
  // Sends RST (unless the stream already ended) and fails local pending and
  // later operations with errc::reset. Idempotent; never blocks.
  void reset();
  void abort() override { reset(); }

  // Received bytes not read yet.
  std::size_t readable() const noexcept { return recv_buf_.size(); }
  std::uint32_t receive_window() const noexcept { return recv_window_; }
  std::uint64_t send_window() const noexcept { return send_window_; }
  // Writers (write_all / close_write calls) queued for or holding the send turn.
  std::size_t queued_writers() const noexcept { return send_turns_.size(); }
  bool write_closed() const noexcept { return fin_sent_; }
  bool read_closed() const noexcept { return fin_received_; }
  bool is_reset() const noexcept { return reset_; }

 protected:
  Task<Result<std::size_t>> read_some_impl(MutableBytesView buf) override;
  Task<Result<Bytes>> read_bytes_impl(std::size_t max) override;
  // The oldest received chunk itself when the view takes all of it.
  Task<Result<BytesView>> read_view_impl(std::size_t max) override;

 private:
  LiveToken<Live::streams> live_;
  // Waits until received bytes are buffered (ok) or no more can come: eof,
  // reset, the session's failure, or cancellation.
  Task<Status> wait_readable();
  friend class YamuxSession;

  YamuxStream(std::shared_ptr<YamuxSession> session, std::uint32_t id, bool outbound);

  // --- called by the session's reader ---
  // Checks a Data frame header against the stream state and window.
  Status begin_data(std::uint32_t length);
  void on_data(BytesView chunk);
  // In place of on_data: room in the receive buffer for up to `want` bytes
  // of the frame's payload, `at_least` of them in one piece if it can, and
  // how many of them were written there (0 too: an unused new chunk goes
  // back).
  MutableBytesView receive_room(std::size_t want, std::size_t at_least) {
    return recv_buf_.prepare(want, at_least);
  }
  void on_data_written(std::size_t n);
  // Payload of the current frame that arrives after the stream stopped
  // accepting data: dropped, but no longer in flight.
  void on_dropped_data(std::size_t n) noexcept { recv_in_flight_ -= static_cast<std::uint32_t>(n); }
  bool accepting_data() const noexcept { return !reset_ && !removed_ && error_.code == errc::ok; }
  Status on_window_update(std::uint32_t delta);
  void on_remote_fin();
  void on_remote_reset();
  void on_session_failed(const Error& why);
  // Inbound stream handed to the application: send the ACK now.
  void acknowledge();

  Status writable() const;
  Task<Status> write_frames(BytesView data, bool more, std::size_t* handed_over = nullptr);
  bool writer_goes_first(const asio::cancellation_state& cs) const;
  // Flags every first frame we send carries (ACK for an inbound stream).
  std::uint16_t take_open_flags();
  void update_receive_window();
  void wake_all();

  std::shared_ptr<YamuxSession> session_;
  const YamuxConfig& cfg_;
  const std::uint32_t id_;
  const bool outbound_;

  bool ack_pending_ = false;   // inbound: our ACK is not sent yet
  bool awaiting_ack_ = false;  // outbound: the remote has not ACKed our SYN
  bool fin_sent_ = false;
  bool fin_received_ = false;
  bool reset_ = false;    // RST sent or received: buffered data is dropped
  bool removed_ = false;  // no longer in the session's stream table
  Error error_;           // why operations fail; code ok while healthy

  // Receive side. recv_credit_ is what the remote may still send;
  // recv_in_flight_ is the rest of a data frame whose header was counted
  // against the credit but whose payload has not fully arrived. The bytes
  // read since the last window update are
  // recv_window_ - buffered - credit - in flight.
  yamux::ReceiveQueue recv_buf_;
  // What the last read_view returned lives here until the next read: kept
  // out of recv_buf_, so a reset meanwhile (which empties the queue and
  // recycles its chunks) cannot pull it from under the reader.
  Bytes viewed_;
  std::uint32_t recv_window_ = yamux::kDefaultWindow;
  std::uint32_t recv_credit_ = yamux::kDefaultWindow;
  std::uint32_t recv_in_flight_ = 0;
  std::chrono::steady_clock::time_point epoch_start_;

  // Send side. Wider than the wire's 32 bits only to detect overflow.
  std::uint64_t send_window_ = yamux::kDefaultWindow;

  // Writers (write_all, close_write) in order; the head holds the send turn.
  TurnQueue send_turns_;

  WaitQueue read_q_;    // data, FIN, reset or failure arrived
  WaitQueue window_q_;  // send window grew, or reset / failure
};

}  // namespace weft
