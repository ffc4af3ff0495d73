// YamuxSession: the Yamux stream multiplexer (hashicorp/yamux spec.md,
// libp2p protocol id /yamux/1.0.0) over any ByteChannel.
//
// Threading: the session, its streams and the coroutines it spawns run on
// one strand (the connection's). Call every member from coroutines running
// on that strand; nothing here is thread-safe and nothing takes a lock.
//
// Structure: one reader coroutine takes large chunks of input as views of the
// connection's own buffer (read_view: Noise decrypts in place, so the bytes
// are not copied on the way) and parses frames, copying Data payloads into
// per-stream receive queues (yamux/buffers.hpp: chunks that a reader
// keeping what it reads takes without a copy). Streams stage their frames on the connection
// (ByteChannel::stage: the Noise channel encrypts them right away, bulk
// payloads straight from the writer's memory), and one writer coroutine
// flushes them in large batches while the next batch fills. One ticker
// coroutine owns the only timer (keep-alive pings, pong deadlines, teardown
// deadline). The session holds no buffer of its own, so an idle session
// costs little memory.
//
// Lifecycle: create() -> start() -> ... -> close() (graceful: GoAway, flush,
// wait for the remote to close, bounded by close_timeout) or abort()
// (immediate). A protocol violation by the remote sends GoAway(protocol
// error) and fails the session with errc::protocol_error. Once the session
// has failed, every pending operation of the session and its streams has
// completed; wait_closed() completes when its coroutines have all finished.
// Call start() before opening streams; a session that is dropped without
// close() or abort() lives until its connection ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/asio.hpp"
#include "core/byte_channel.hpp"
#include "core/error.hpp"
#include "core/live.hpp"
#include "core/wait_queue.hpp"
#include "yamux/buffers.hpp"
#include "yamux/config.hpp"
#include "yamux/frame.hpp"
#include "yamux/stream.hpp"

namespace weft {

inline constexpr std::string_view kYamuxProtocolId = "/yamux/1.0.0";

struct YamuxStats {
  std::uint64_t bytes_sent = 0;      // Data payload bytes queued for the connection
  std::uint64_t bytes_received = 0;  // Data payload bytes delivered to streams
  // Of those, bytes the connection put straight into the stream's buffer
  // (decrypted there by Noise) rather than copied there.
  std::uint64_t bytes_received_in_place = 0;
  // Room prepared in a stream's buffer for payload that then did not go
  // there (none fitted): an allocation and a fill for nothing.
  std::uint64_t in_place_rooms_unused = 0;
  std::uint64_t streams_opened = 0;
  std::uint64_t streams_accepted = 0;
  std::uint64_t streams_refused = 0;  // inbound SYNs answered with RST (limits, GoAway)
};

class YamuxSession : public std::enable_shared_from_this<YamuxSession> {
 public:
  // is_client: the dialer; it uses odd stream ids, the listener even ones.
  static std::shared_ptr<YamuxSession> create(Executor strand, std::unique_ptr<ByteChannel> conn,
                                              bool is_client, YamuxConfig cfg = {});
  ~YamuxSession();
  YamuxSession(const YamuxSession&) = delete;
  YamuxSession& operator=(const YamuxSession&) = delete;

  // Spawns the reader, writer and ticker coroutines on the strand and sends
  // the initial ping. Call once.
  void start();

  // Opens a stream (Window Update with SYN). Fails with errc::closed after
  // either side's GoAway or once the session has failed (its failure), with
  // errc::limit_exceeded at max_streams or when stream ids run out. Waits
  // while max_unacked_outbound of our streams are un-ACKed.
  Task<Result<std::shared_ptr<YamuxStream>>> open_stream();
  // Waits for an inbound stream and ACKs it. Fails with the session's
  // failure (errc::closed after a clean end) once the session is down.
  Task<Result<std::shared_ptr<YamuxStream>>> accept_stream();
  // Yamux-level round trip time.
  Task<Result<std::chrono::nanoseconds>> ping();
  // GoAway(normal), flush, close the connection's write side, wait for the
  // remote to close (at most close_timeout), release the connection. Streams
  // fail with errc::closed at once. Completes when the session is down.
  Task<Status> close();
  // Immediate: the connection is aborted and every pending operation of the
  // session and its streams completes with `why`. Idempotent; never blocks.
  void abort(Error why);
  // Completes once the session has failed and its coroutines have finished.
  Task<void> wait_closed();

  bool is_open() const noexcept { return failure_.code == errc::ok; }
  bool is_client() const noexcept { return is_client_; }
  // Why the session ended; code ok while it is open.
  const Error& failure() const noexcept { return failure_; }
  bool remote_went_away() const noexcept { return remote_goaway_; }
  std::size_t num_streams() const noexcept { return streams_.size(); }
  // The receive windows of the open streams, summed (see max_receive_windows).
  std::uint64_t receive_windows() const noexcept { return receive_windows_; }
  // Latest measured ping RTT; zero before the first pong.
  std::chrono::nanoseconds rtt() const noexcept { return rtt_; }
  const YamuxStats& stats() const noexcept { return stats_; }
  const YamuxConfig& config() const noexcept { return cfg_; }
  const Executor& executor() const noexcept { return strand_; }

 private:
  friend class YamuxStream;
  using Clock = std::chrono::steady_clock;

  struct PendingPing {
    std::uint32_t id = 0;
    Clock::time_point sent_at;
    bool keepalive = false;  // no caller waits for it
    bool answered = false;
    std::chrono::nanoseconds rtt{0};
  };

  YamuxSession(Executor strand, std::unique_ptr<ByteChannel> conn, bool is_client, YamuxConfig cfg);

  // --- send side (session.cpp) ---
  void queue_control(yamux::FrameType type, std::uint16_t flags, std::uint32_t stream_id,
                     std::uint32_t value);
  void queue_data(std::uint16_t flags, std::uint32_t stream_id, BytesView payload);
  // Encodes a frame header and stages it on the connection (conn_ must be set).
  void stage_header(yamux::FrameType type, std::uint16_t flags, std::uint32_t stream_id,
                    std::uint32_t value);
  bool send_buffer_full() const { return conn_ && conn_->staged_size() >= cfg_.max_send_buffer; }
  // Whether `more` bytes of receive window fit within max_receive_windows.
  bool receive_window_fits(std::uint64_t more) const noexcept {
    return receive_windows_ + more <= cfg_.max_receive_windows;
  }
  // Whether a stream's receive window may grow by `more` bytes; if so, the
  // growth is counted.
  bool take_receive_window(std::uint64_t more) noexcept {
    if (!receive_window_fits(more)) return false;
    receive_windows_ += more;
    return true;
  }
  // Whether a stream that just staged frames should let the writer
  // coroutine run before it goes on. Staging is synchronous, so without this
  // (1) a stream write completes, and its completion is handled (for the C
  // ABI: an event delivered, a thread woken), before its bytes are even
  // sent, which adds that handling to every request/response round trip;
  // and (2) a producer writing in a loop holds the strand until the send
  // buffer is full, so the connection carries bursts of max_send_buffer
  // instead of a steady flow.
  bool writer_should_go_first() const {
    return writer_idle_ && conn_ && conn_->staged_size() > 0;
  }
  // For YamuxStream::write_more: the writer goes first only once this much
  // is staged, so small writes in one strand turn share a packet while a
  // producer writing in a loop still sends a steady flow.
  static constexpr std::size_t kSmallBatch = 64 * 1024;
  bool send_batch_full() const {
    return writer_idle_ && conn_ && conn_->staged_size() >= kSmallBatch;
  }
  std::uint32_t send_ping(bool keepalive);

  // --- stream bookkeeping (session.cpp) ---
  void stream_acked_inbound() noexcept;
  void remove_stream(YamuxStream& s);
  std::shared_ptr<YamuxStream> find_stream(std::uint32_t id) const;
  bool stream_id_was_used(std::uint32_t id) const noexcept;
  bool is_ours(std::uint32_t id) const noexcept { return ((id & 1u) == 1u) == is_client_; }

  // --- failure (session.cpp) ---
  // Fails the session but lets the writer flush (plus an optional GoAway);
  // keep_reading: the reader discards input until the remote closes.
  void begin_drain(Error why, std::optional<yamux::GoAwayCode> go_away, bool keep_reading);
  void fail_everything();
  void coroutine_finished();

  // --- coroutines and frame handling (session_loops.cpp) ---
  Task<void> reader_loop(std::shared_ptr<YamuxSession> self);
  Task<void> writer_loop(std::shared_ptr<YamuxSession> self);
  Task<void> ticker_loop(std::shared_ptr<YamuxSession> self);
  Status parse_frames(BytesView input);
  // Whether the rest of the current data frame's payload (kInPlaceMin bytes
  // or more) may go straight into its stream.
  bool payload_wanted_in_place() const noexcept {
    return payload_left_ >= kInPlaceMin && payload_stream_ && is_open() &&
           payload_stream_->accepting_data() && conn_->read_ready_piece() > 0;
  }
  // Has the connection put payload of the current data frame straight into
  // its stream's receive buffer, from input that arrived already? Noise
  // decrypts it there then, sparing the copy out of read_view's buffer.
  bool payload_in_place();
  // The connection's read failed (e is its error): the session ends.
  void on_read_failure(Error e);
  // Below this, what is left of a payload usually shares its Noise frame
  // with the next frame's header, and is parsed from read_view.
  static constexpr std::uint32_t kInPlaceMin = 16 * 1024;
  Status handle_header(const yamux::FrameHeader& h);
  Status handle_stream_frame(const yamux::FrameHeader& h);
  Result<std::shared_ptr<YamuxStream>> handle_syn(const yamux::FrameHeader& h);
  Status handle_ping(const yamux::FrameHeader& h);
  Status handle_go_away(const yamux::FrameHeader& h);
  void apply_end_flags(YamuxStream& s, std::uint16_t flags);
  void finish_data_frame();
  void on_pong(std::uint32_t id);

  Executor strand_;
  std::unique_ptr<ByteChannel> conn_;
  const bool is_client_;
  const YamuxConfig cfg_;

  // Lifecycle.
  bool started_ = false;
  Error failure_;               // code ok while open
  bool hard_ = false;           // abort(): connection aborted, nothing more is written
  bool drain_reading_ = false;  // after close(): read and discard until the remote closes
  bool drain_timed_out_ = false;
  bool closed_by_us_ = false;
  bool flush_ok_ = false;  // the writer flushed everything and closed the write side
  bool local_goaway_ = false;
  bool remote_goaway_ = false;
  Clock::time_point drain_deadline_;
  int running_ = 0;  // reader, writer, ticker
  bool reader_done_ = false;
  bool writer_done_ = false;
  bool writer_idle_ = false;  // the writer waits for frames (writer_q_)

  // Streams.
  std::unordered_map<std::uint32_t, std::shared_ptr<YamuxStream>> streams_;
  std::deque<std::shared_ptr<YamuxStream>> backlog_;  // inbound, not accepted yet
  std::uint64_t next_outbound_id_;
  std::uint32_t highest_inbound_id_ = 0;
  std::size_t unacked_inbound_ = 0;
  std::size_t unacked_outbound_ = 0;
  // Sum of recv_window_ over streams_ (see max_receive_windows).
  std::uint64_t receive_windows_ = 0;

  // Receive side: the reader lets other coroutines run after delivering
  // this many bytes without suspending.
  static constexpr std::uint64_t kReaderYieldBytes = 1024 * 1024;
  std::uint64_t received_at_last_yield_ = 0;
  // The start of a frame header cut by the end of a read.
  std::uint8_t partial_header_[yamux::kHeaderSize] = {};
  std::size_t partial_header_size_ = 0;
  // Data frame payload still to come (it may span many reads).
  std::uint32_t payload_left_ = 0;
  std::uint16_t payload_flags_ = 0;
  std::shared_ptr<YamuxStream> payload_stream_;  // null: discard the payload

  // Pings.
  std::vector<PendingPing> pings_;
  std::uint32_t next_ping_id_ = 0;
  std::chrono::nanoseconds rtt_{0};

  YamuxStats stats_;
  Timer timer_;

  WaitQueue writer_q_;  // frames were staged, or failure
  WaitQueue space_q_;   // a flush took the staged frames (room for data frames)
  WaitQueue accept_q_;  // backlog_ grew, or failure
  WaitQueue open_q_;    // a stream slot or ACK-backlog slot freed, GoAway, failure
  WaitQueue ping_q_;    // a pong arrived, or failure
  WaitQueue done_q_;    // a coroutine finished
};

}  // namespace weft
