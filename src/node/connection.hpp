// Connection: one TCP connection from the moment it is accepted or its
// connect() starts, through the upgrade (multistream → Noise → Yamux), to
// its end. The connection manager tracks it for that whole life (seed 2:
// a connection still handshaking is never invisible to stop()).
//
// Everything here runs on the connection's strand.
#pragma once

#include <map>
#include <memory>
#include <optional>

#include "core/asio.hpp"
#include "core/live.hpp"
#include "core/wait_queue.hpp"
#include "mss/multistream.hpp"
#include "multiformats/multiaddr.hpp"
#include "multiformats/peer_id.hpp"
#include "protocols/identify.hpp"
#include "yamux/yamux.hpp"

namespace weft {

class Node;
class TcpChannel;

enum class Direction { inbound, outbound };
class Connection;

// The listener's answer to a protocol proposed without waiting for it
// (Connection::open_stream_lazy). Settled once, on the connection's strand.
class ProtocolAnswer {
 public:
  // Waits until the answer is in: ok if the listener accepted the protocol,
  // its error otherwise (the stream is reset by then). Cancellable.
  Task<Status> wait();
  void settle(Status result);

 private:
  std::optional<Status> result_;
  WaitQueue settled_;
};

// A stream and its protocol: the Yamux stream, its connection, the protocol,
// and for a stream opened lazily the listener's answer still to come, which
// readers wait for before reading (null when negotiated before handed out).
struct Stream {
  std::shared_ptr<YamuxStream> channel;
  std::shared_ptr<Connection> connection;
  std::string protocol;
  std::shared_ptr<ProtocolAnswer> answer;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State { connecting, handshaking, open, closing, closed };

  Connection(Node& node, Strand strand, Direction dir, std::uint64_t id);

  std::uint64_t id() const { return id_; }
  Direction direction() const { return dir_; }
  const Strand& strand() const { return strand_; }

  // Set once during the handshake, before the connection is reported open;
  // readable from any thread once dial() returned it or a handler got it.
  const PeerId& remote_peer() const { return remote_peer_; }
  const Multiaddr& remote_addr() const { return remote_addr_; }
  const Multiaddr& local_addr() const { return local_addr_; }

  // --- strand only -----------------------------------------------------------
  State state() const { return state_; }
  const std::shared_ptr<YamuxSession>& session() const { return session_; }
  // Why the connection failed or closed (errc::ok while healthy).
  const Error& failure() const { return failure_; }

  // Waits until the connection is open (ok) or has failed (its error).
  Task<Status> wait_open();
  // The same, returning the connection itself (what Node::dial reports).
  Task<Result<std::shared_ptr<Connection>>> opened();
  // One ping round trip, bounded by `timeout`. The stream of the last
  // successful ping is kept open for the next one (the protocol echoes any
  // number of payloads on one stream), so a ping after the first costs one
  // 32-byte exchange; a ping that finds it busy, closed or reset by the
  // remote uses a new stream.
  Task<Result<std::chrono::nanoseconds>> ping(std::chrono::milliseconds timeout);
  // Waits until the remote's identify message arrived (or identify failed).
  Task<Result<identify::Info>> wait_identified();

  // Opens a stream and negotiates one of `protocols` (bounded by the
  // negotiation timeout; the stream is reset when it passes).
  Task<Result<Stream>> open_stream(std::vector<std::string> protocols);
  // Opens a stream proposing `protocol` and returns it at once, without the
  // round trip of waiting for the listener's answer: the caller's first
  // bytes follow the proposal. The answer is read meanwhile (bounded by the
  // negotiation timeout) and settles Stream::answer; a refusal or failure
  // resets the stream. Read only after Stream::answer->wait() succeeded.
  Task<Result<Stream>> open_stream_lazy(std::string protocol);

  // Tears the connection down now, whatever its state; idempotent.
  void abort(Error why);
  // Graceful close: GoAway and flush when open; a connection still
  // handshaking is aborted (never waited for).
  void shutdown(Error why);

 private:
  friend class Node;

  // The connection's one top-level coroutine: upgrade, serve, clean up.
  // raw is null for an outbound connection: run() connects to dial_addr first.
  Task<void> run(std::unique_ptr<TcpChannel> raw, Multiaddr dial_addr);
  Task<Result<std::unique_ptr<TcpChannel>>> connect(const Multiaddr& addr);
  Task<Status> upgrade(std::unique_ptr<TcpChannel> raw, const std::optional<PeerId>& expected_peer);
  Task<void> accept_streams();
  Task<void> serve_stream(std::shared_ptr<YamuxStream> stream);
  // Multistream negotiation of one stream, bounded by the negotiation timeout.
  Task<Result<std::string>> answer_protocol(std::shared_ptr<YamuxStream> stream);
  Task<Result<std::string>> select_protocol(std::shared_ptr<YamuxStream> stream,
                                            std::vector<std::string> protocols);
  // One ping on `stream`, negotiating the protocol first if it is new; the
  // stream is reset on failure.
  Task<Result<std::chrono::nanoseconds>> ping_on(std::shared_ptr<YamuxStream> stream, bool negotiate,
                                                 std::chrono::milliseconds timeout);
  // Keeps `stream` as the idle ping stream, or closes it if one is kept.
  Task<void> keep_ping_stream(std::shared_ptr<YamuxStream> stream);
  // Reads the answer to open_stream_lazy's proposal and settles `answer`.
  Task<void> read_protocol_answer(std::shared_ptr<YamuxStream> stream, std::string protocol,
                                  std::shared_ptr<ProtocolAnswer> answer);
  Task<void> identify_remote();
  // Opens /ipfs/id/1.0.0 and reads the remote's answer, bounded by the identify timeout.
  Task<Result<identify::Info>> receive_identify();
  // Sends our current identify information on /ipfs/id/push/1.0.0, if the
  // remote said it takes pushes.
  Task<void> push_identify();
  void arm_handshake_timer(std::chrono::milliseconds after, const char* phase);
  void set_state(State s);
  void fail(Error why);
  // Whether a new outbound stream may be opened now (node not stopping, connection open).
  Status may_open_stream() const;
  // Multistream limits for negotiating a stream's protocol.
  mss::Config stream_mss_config() const;

  // Deadlines of work on this connection's streams (negotiations, identify,
  // pings): a stream still registered when its deadline passes is reset.
  // All of them share one timer, which is armed only when no wait is pending
  // (or a new deadline comes earlier) and re-armed after it fires. A timer
  // per stream would cost a timer system call and a cancelled wait's
  // completion for every stream opened, which dominates the price of a
  // short-lived stream.
  class StreamDeadline;
  struct DeadlineEntry {
    std::weak_ptr<YamuxStream> stream;
    bool expired = false;
  };
  using DeadlineMap = std::multimap<std::chrono::steady_clock::time_point, DeadlineEntry>;
  void arm_deadline_timer();
  void on_deadline_timer();

  Node& node_;
  Strand strand_;
  Direction dir_;
  std::uint64_t id_;
  State state_ = State::connecting;
  PeerId remote_peer_;
  Multiaddr remote_addr_, local_addr_;
  asio::ip::tcp::resolver resolver_;             // while connecting
  std::optional<Socket> connecting_socket_;
  TcpChannel* raw_ = nullptr;  // while handshaking: the socket to abort
  std::shared_ptr<YamuxSession> session_;
  // The last successful ping's stream, open for the next ping; null while a
  // ping uses it.
  std::shared_ptr<YamuxStream> idle_ping_stream_;
  Timer handshake_timer_;
  DeadlineMap deadlines_;
  Timer deadline_timer_;
  bool deadline_wait_pending_ = false;
  std::chrono::steady_clock::time_point deadline_wait_until_;
  LiveToken<Live::connections> live_;
  Error failure_;
  WaitQueue state_changed_;
  std::optional<Result<identify::Info>> identify_result_;
  friend Task<void> receive_identify_push(Stream);
  WaitQueue identified_;
};

}  // namespace weft
