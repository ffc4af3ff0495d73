#include "node/connection.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/spawn.hpp"
#include "mss/multistream.hpp"
#include "net/tcp_channel.hpp"
#include "node/node.hpp"
#include "noise/noise.hpp"
#include "protocols/ping.hpp"

namespace weft {

namespace {
constexpr std::string_view kNoise = "/noise";
constexpr std::string_view kYamux = "/yamux/1.0.0";
}  // namespace

Connection::Connection(Node& node, Strand strand, Direction dir, std::uint64_t id)
    : node_(node),
      strand_(std::move(strand)),
      dir_(dir),
      id_(id),
      resolver_(strand_),
      handshake_timer_(strand_),
      deadline_timer_(strand_) {}

// Registers `stream` with a deadline for as long as it exists (the scope of
// the work it bounds). Strand only.
class Connection::StreamDeadline {
 public:
  StreamDeadline(Connection& conn, const std::shared_ptr<YamuxStream>& stream,
                 std::chrono::milliseconds after)
      : conn_(conn),
        it_(conn.deadlines_.emplace(std::chrono::steady_clock::now() + after,
                                    DeadlineEntry{stream, false})) {
    if (!conn_.deadline_wait_pending_ || it_->first < conn_.deadline_wait_until_)
      conn_.arm_deadline_timer();
  }
  ~StreamDeadline() { conn_.deadlines_.erase(it_); }
  StreamDeadline(const StreamDeadline&) = delete;
  StreamDeadline& operator=(const StreamDeadline&) = delete;

  // Whether the deadline passed (and the stream was reset for it).
  bool expired() const { return it_->second.expired; }

 private:
  Connection& conn_;
  DeadlineMap::iterator it_;
};

void Connection::arm_deadline_timer() {
  auto next = std::find_if(deadlines_.begin(), deadlines_.end(),
                           [](const auto& d) { return !d.second.expired; });
  if (next == deadlines_.end()) return;
  // expires_at() cancels a pending wait, whose handler then sees
  // operation_aborted and does nothing: this wait replaces it.
  deadline_timer_.expires_at(next->first);
  deadline_wait_pending_ = true;
  deadline_wait_until_ = next->first;
  deadline_timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_deadline_timer();
  });
}

void Connection::on_deadline_timer() {
  deadline_wait_pending_ = false;
  const auto now = std::chrono::steady_clock::now();
  for (auto& [deadline, entry] : deadlines_) {
    if (deadline > now) break;
    if (entry.expired) continue;
    entry.expired = true;
    if (auto stream = entry.stream.lock()) stream->reset();
  }
  arm_deadline_timer();  // for the next deadline, if any
}

Status Connection::may_open_stream() const {
  if (node_.connections_.halted()) return Error{errc::stopped, "the node is stopping: no new streams"};
  if (state_ != State::open) return Error{errc::closed, "the connection is not open"};
  return Status{};
}

mss::Config Connection::stream_mss_config() const {
  mss::Config config;
  config.max_message_size = node_.config().limits.multistream_max_message_size;
  return config;
}

void Connection::set_state(State s) {
  state_ = s;
  state_changed_.notify_all();
}

void Connection::fail(Error why) {
  if (failure_.code == errc::ok) failure_ = std::move(why);
}

Task<Status> Connection::wait_open() {
  for (;;) {
    if (state_ == State::open) co_return Status{};
    if (state_ == State::closing || state_ == State::closed)
      co_return failure_.code != errc::ok ? failure_ : Error{errc::closed, "connection closed"};
    if (auto ec = co_await state_changed_.wait())
      co_return Error{errc::canceled, "waiting for the connection was cancelled"};
  }
}

Task<Result<std::shared_ptr<Connection>>> Connection::opened() {
  auto self = shared_from_this();
  auto st = co_await wait_open();
  if (!st) {
    // The dialler gave up: a connection nobody waits for is not left behind.
    if (st.code() == errc::canceled) abort(Error{errc::canceled, "the dial was cancelled"});
    co_return std::move(st).error();
  }
  co_return self;
}

Task<Result<std::chrono::nanoseconds>> Connection::ping(std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  WEFT_CO_CHECK(may_open_stream());
  const auto start = std::chrono::steady_clock::now();
  if (auto kept = std::exchange(idle_ping_stream_, nullptr)) {
    auto pinging = ping_on(kept, false, timeout);
    auto rtt = co_await std::move(pinging);
    if (rtt) {
      auto keeping = keep_ping_stream(std::move(kept));
      co_await std::move(keeping);
      co_return *rtt;
    }
    // A remote may close or reset a ping stream it finds idle; any other
    // failure (no reply in time, cancelled, connection gone) is the answer.
    const errc code = rtt.error().code;
    if (code != errc::eof && code != errc::reset && code != errc::closed) co_return std::move(rtt).error();
    WEFT_CO_CHECK(may_open_stream());
  }
  const auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - start);
  if (left.count() <= 0)
    co_return Error{errc::timed_out, "ping: no reply within " + std::to_string(timeout.count()) + " ms"};
  auto opening = session_->open_stream();
  WEFT_CO_TRY(auto stream, co_await std::move(opening));
  auto pinging = ping_on(stream, true, left);
  auto rtt = co_await std::move(pinging);
  if (!rtt) co_return std::move(rtt).error();
  auto keeping = keep_ping_stream(std::move(stream));
  co_await std::move(keeping);
  co_return *rtt;
}

Task<Result<std::chrono::nanoseconds>> Connection::ping_on(std::shared_ptr<YamuxStream> stream,
                                                           bool negotiate,
                                                           std::chrono::milliseconds timeout) {
  // One deadline for negotiation and round trip; on timeout the stream is
  // reset, which fails the pending read.
  StreamDeadline deadline(*this, stream, timeout);
  auto pinging = negotiate ? ping::ping_once_negotiating(*stream, stream_mss_config())
                           : ping::ping_once(*stream);
  auto rtt = co_await std::move(pinging);
  if (deadline.expired())
    co_return Error{errc::timed_out, "ping: no reply within " + std::to_string(timeout.count()) + " ms"};
  if (!rtt) {
    stream->reset();  // its state is unknown: never used again
    co_return std::move(rtt).error();
  }
  co_return *rtt;
}

Task<void> Connection::keep_ping_stream(std::shared_ptr<YamuxStream> stream) {
  if (!idle_ping_stream_ && state_ == State::open) {
    idle_ping_stream_ = std::move(stream);
    co_return;
  }
  // Another ping's stream is kept already (or the connection is closing).
  auto closing = stream->close_write();
  (void)co_await std::move(closing);
}

Task<Result<identify::Info>> Connection::wait_identified() {
  for (;;) {
    if (identify_result_) co_return *identify_result_;
    if (state_ == State::closed)
      co_return failure_.code != errc::ok ? failure_ : Error{errc::closed, "connection closed"};
    if (auto ec = co_await identified_.wait())
      co_return Error{errc::canceled, "waiting for identify was cancelled"};
  }
}

void Connection::arm_handshake_timer(std::chrono::milliseconds after, const char* phase) {
  // Re-armed for each phase; expires_after() cancels the previous wait,
  // whose handler then sees operation_aborted and does nothing.
  handshake_timer_.expires_after(after);
  handshake_timer_.async_wait([weak = weak_from_this(), phase, after](std::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock())
      self->abort(Error{errc::timed_out, std::string(phase) + " did not finish within " +
                                             std::to_string(after.count()) + " ms"});
  });
}

void Connection::abort(Error why) {
  if (state_ == State::closed) return;
  fail(std::move(why));
  switch (state_) {
    case State::connecting: {
      resolver_.cancel();
      std::error_code ec;
      if (connecting_socket_) connecting_socket_->close(ec);
      break;
    }
    case State::handshaking:
      if (raw_) raw_->abort();
      break;
    case State::open:
    case State::closing:
      if (session_) session_->abort(failure_);
      break;
    case State::closed:
      break;
  }
  state_changed_.notify_all();
}

namespace {
Task<void> close_session(std::shared_ptr<YamuxSession> session) { (void)co_await session->close(); }
}  // namespace

void Connection::shutdown(Error why) {
  if (state_ != State::open) {
    abort(std::move(why));
    return;
  }
  fail(std::move(why));
  set_state(State::closing);
  spawn_detached(strand_, close_session(session_), "connection close");
}

Task<Result<std::unique_ptr<TcpChannel>>> Connection::connect(const Multiaddr& addr) {
  WEFT_CO_TRY(auto target, to_tcp_target(addr));
  std::vector<asio::ip::tcp::endpoint> endpoints;
  if (target.is_dns) {
    auto [ec, results] = co_await resolver_.async_resolve(target.host, std::to_string(target.port), use_tuple);
    if (ec) co_return Error::from(ec, "resolving " + target.host);
    for (const auto& r : results) {
      const auto& ep = r.endpoint();
      if ((target.family == 4 && !ep.address().is_v4()) || (target.family == 6 && !ep.address().is_v6()))
        continue;
      endpoints.push_back(ep);
    }
    if (endpoints.empty()) co_return Error{errc::unreachable, "no usable address for " + target.host};
  } else {
    std::error_code ec;
    auto ip = asio::ip::make_address(target.host, ec);
    if (ec) co_return Error{errc::invalid_argument, "bad IP address " + target.host};
    endpoints.emplace_back(ip, target.port);
  }
  Error last{errc::unreachable, "no address tried"};
  for (const auto& ep : endpoints) {
    if (failure_.code != errc::ok) co_return failure_;  // aborted meanwhile
    connecting_socket_.emplace(strand_);
    auto [ec] = co_await connecting_socket_->async_connect(ep, use_tuple);
    if (!ec) {
      auto raw = std::make_unique<TcpChannel>(std::move(*connecting_socket_));
      connecting_socket_.reset();
      co_return raw;
    }
    connecting_socket_.reset();
    last = Error::from(ec, "connecting to " + ep.address().to_string() + ":" + std::to_string(ep.port()));
  }
  if (failure_.code != errc::ok) co_return failure_;
  co_return last;
}

Task<Status> Connection::upgrade(std::unique_ptr<TcpChannel> raw,
                                 const std::optional<PeerId>& expected_peer) {
  raw_ = raw.get();
  local_addr_ = from_tcp_endpoint(raw->local_endpoint());
  remote_addr_ = from_tcp_endpoint(raw->remote_endpoint());
  set_state(State::handshaking);
  const auto& limits = node_.config().limits;
  mss::Config mss_config{limits.multistream_max_message_size};
  const bool initiator = dir_ == Direction::outbound;

  NoiseConfig noise_config;
  // Calls whose arguments are temporaries are made before the co_await
  // (the GCC 12 rule in core/asio.hpp).
  if (initiator) {
    // "/noise" is the only security protocol we speak, so it is proposed
    // optimistically: Noise message 1 follows the proposal at once and the
    // answer is read just before message 2 (one round trip less). An "na"
    // fails the dial exactly as a waited-for one would.
    auto proposing = mss::select_lazy(*raw, std::string(kNoise), mss_config);
    WEFT_CO_CHECK(co_await std::move(proposing));
    noise_config.before_message_2 = [mss_config](ByteChannel& channel) {
      return mss::confirm(channel, std::string(kNoise), mss_config);
    };
  } else {
    auto security =
        mss::handle(*raw, [](std::string_view p) { return p == kNoise; }, mss_config);
    auto sec = co_await std::move(security);
    if (!sec) co_return std::move(sec).error();
  }

  noise_config.muxers = {std::string(kYamux)};  // yamux only: see INTEROP notes on muxer order
  noise_config.verified_signatures = node_.config().noise_verified_signatures;
  noise_config.ephemeral_keys = node_.ephemeral_keys_;
  auto handshake = noise_handshake(std::move(raw), node_.identity(), initiator,
                                   expected_peer ? &*expected_peer : nullptr, noise_config);
  WEFT_CO_TRY(auto secured, co_await std::move(handshake));
  remote_peer_ = secured.remote_peer;
  if (secured.early_muxer.empty()) {
    std::vector<std::string> yamux{std::string(kYamux)};
    Task<Result<std::string>> muxer = initiator
        ? mss::select(*secured.channel, std::move(yamux), mss_config)
        : mss::handle(*secured.channel, [](std::string_view p) { return p == kYamux; }, mss_config);
    auto mux = co_await std::move(muxer);
    if (!mux) co_return std::move(mux).error();
  } else if (secured.early_muxer != kYamux) {
    co_return Error{errc::unsupported, "muxer " + secured.early_muxer + " agreed in Noise is not supported"};
  }
  WEFT_CO_CHECK(node_.connections_.upgraded(shared_from_this(), remote_peer_));

  YamuxConfig yamux = node_.config().yamux;
  yamux.max_streams = limits.max_streams_per_connection;
  session_ = YamuxSession::create(strand_, std::move(secured.channel), initiator, yamux);
  raw_ = nullptr;  // owned by the session from here on
  session_->start();
  co_return Status{};
}

Task<void> Connection::run(std::unique_ptr<TcpChannel> raw, Multiaddr dial_addr) {
  auto self = shared_from_this();
  const auto& limits = node_.config().limits;
  std::optional<PeerId> expected;
  if (!raw) {
    expected = dial_addr.peer_id();
    arm_handshake_timer(limits.dial_timeout, "connect");
    auto connected = co_await connect(dial_addr);
    if (!connected) {
      fail(std::move(connected).error());
    } else {
      raw = std::move(*connected);
    }
  }
  if (raw && failure_.code == errc::ok) {
    arm_handshake_timer(limits.handshake_timeout, "the connection handshake");
    auto upgraded = co_await upgrade(std::move(raw), expected);
    raw_ = nullptr;
    if (!upgraded) fail(std::move(upgraded).error());
  }
  handshake_timer_.cancel();

  if (failure_.code == errc::ok && session_) {
    ++node_.connections_opened_;
    set_state(State::open);
    WEFT_LOG(debug, "connection " + std::to_string(id_) + " open to " + remote_peer_.to_string());
    spawn_detached(strand_, accept_streams(), "stream acceptor");
    spawn_detached(strand_, identify_remote(), "identify");
    co_await session_->wait_closed();
    fail(session_->failure().code != errc::ok ? session_->failure() : Error{errc::closed, "connection closed"});
    WEFT_LOG(debug, "connection " + std::to_string(id_) + " to " + remote_peer_.to_string() +
                        " ended: " + failure_.message());
  } else {
    ++node_.connections_failed_;
    if (session_) {
      session_->abort(failure_);
      co_await session_->wait_closed();
    }
    WEFT_LOG(debug, "connection " + std::to_string(id_) + " failed: " + failure_.message());
  }
  deadline_timer_.cancel();  // nothing left to bound
  idle_ping_stream_.reset();
  set_state(State::closed);
  identified_.notify_all();
  node_.connections_.remove(self);
}

Task<void> Connection::accept_streams() {
  auto self = shared_from_this();
  for (;;) {
    auto stream = co_await session_->accept_stream();
    if (!stream) break;
    if (node_.connections_.halted()) {
      (*stream)->reset();  // stopping: no new streams
      continue;
    }
    spawn_detached(strand_, serve_stream(std::move(*stream)), "stream handler");
  }
}

// The negotiation and identify steps below are coroutines of their own, so
// that each deadline lives in a flat function body: GCC 12 mishandled an
// awaited task held in a nested block next to a deadline object (a crash
// after hours of soak, in the destruction of that block).

Task<Result<std::string>> Connection::answer_protocol(std::shared_ptr<YamuxStream> stream) {
  const mss::Config config = stream_mss_config();
  std::function<bool(std::string_view)> supported = [this](std::string_view p) {
    return node_.handler_for(p).has_value();
  };
  StreamDeadline deadline(*this, stream, node_.config().limits.negotiation_timeout);
  auto negotiation = mss::handle(*stream, std::move(supported), config);
  auto proto = co_await std::move(negotiation);
  co_return proto;
}

Task<Result<std::string>> Connection::select_protocol(std::shared_ptr<YamuxStream> stream,
                                                      std::vector<std::string> protocols) {
  const mss::Config config = stream_mss_config();
  StreamDeadline deadline(*this, stream, node_.config().limits.negotiation_timeout);
  auto negotiation = mss::select(*stream, std::move(protocols), config);
  auto proto = co_await std::move(negotiation);
  co_return proto;
}

Task<Result<identify::Info>> Connection::receive_identify() {
  std::vector<std::string> protos;
  protos.emplace_back(identify::kProtocol);
  auto opening = open_stream(std::move(protos));
  auto opened = co_await std::move(opening);
  if (!opened) co_return std::move(opened).error();
  identify::Config config;
  config.max_message_size = node_.config().limits.identify_max_message_size;
  StreamDeadline deadline(*this, opened->channel, node_.config().limits.identify_timeout);
  auto receiving = identify::receive(*opened->channel, config);
  auto info = co_await std::move(receiving);
  if (!info) {
    opened->channel->reset();
    co_return info;
  }
  // The remote closed its side after its message; closing ours ends the
  // stream. Left half open, it would stay in both sessions (and count
  // against the remote's stream limits) until the connection ends.
  auto closing = opened->channel->close_write();
  (void)co_await std::move(closing);
  co_return info;
}

Task<void> Connection::serve_stream(std::shared_ptr<YamuxStream> stream) {
  auto self = shared_from_this();
  auto answering = answer_protocol(stream);
  auto proto = co_await std::move(answering);
  if (!proto) {
    WEFT_LOG(debug, "inbound stream negotiation failed: " + proto.error().message());
    stream->reset();
    co_return;
  }
  WEFT_LOG(trace, "inbound stream speaks " + *proto);
  auto handler = node_.handler_for(*proto);
  if (!handler) {
    stream->reset();
    co_return;
  }
  // The handler's task is created outside the co_await expression: GCC 12
  // mishandles non-trivial temporaries inside co_await operands.
  auto handling = (*handler)(Stream{stream, self, *proto, nullptr});
  co_await std::move(handling);
}

Task<Result<Stream>> Connection::open_stream(std::vector<std::string> protocols) {
  auto self = shared_from_this();
  WEFT_CO_CHECK(may_open_stream());
  WEFT_CO_TRY(auto stream, co_await session_->open_stream());
  WEFT_LOG(trace, "outbound stream opened, proposing " + protocols.front());
  auto selecting = select_protocol(stream, std::move(protocols));
  auto proto = co_await std::move(selecting);
  if (!proto) {
    stream->reset();
    co_return std::move(proto).error();
  }
  co_return Stream{stream, self, *proto, nullptr};
}

Task<Result<Stream>> Connection::open_stream_lazy(std::string protocol) {
  auto self = shared_from_this();
  WEFT_CO_CHECK(may_open_stream());
  auto opening = session_->open_stream();
  WEFT_CO_TRY(auto stream, co_await std::move(opening));
  auto proposing = mss::select_lazy(*stream, protocol, stream_mss_config());
  auto proposed = co_await std::move(proposing);
  if (!proposed) {
    stream->reset();
    co_return std::move(proposed).error();
  }
  auto answer = std::make_shared<ProtocolAnswer>();
  spawn_detached(strand_, read_protocol_answer(stream, protocol, answer), "protocol answer");
  co_return Stream{stream, self, std::move(protocol), std::move(answer)};
}

Task<void> Connection::read_protocol_answer(std::shared_ptr<YamuxStream> stream, std::string protocol,
                                            std::shared_ptr<ProtocolAnswer> answer) {
  auto self = shared_from_this();
  const auto timeout = node_.config().limits.negotiation_timeout;
  StreamDeadline deadline(*this, stream, timeout);
  auto confirming = mss::confirm(*stream, protocol, stream_mss_config());
  Status result = co_await std::move(confirming);
  if (deadline.expired()) {
    result = Error{errc::timed_out, "multistream: no answer to the proposal of " + protocol + " within " +
                                        std::to_string(timeout.count()) + " ms"};
  }
  if (!result) stream->reset();
  answer->settle(std::move(result));
}

Task<Status> ProtocolAnswer::wait() {
  while (!result_) {
    auto waiting = settled_.wait();
    const std::error_code ec = co_await std::move(waiting);
    if (ec) co_return Error{errc::canceled, "waiting for the protocol answer was cancelled"};
  }
  co_return *result_;
}

void ProtocolAnswer::settle(Status result) {
  result_ = std::move(result);
  settled_.notify_all();
}

Task<void> Connection::identify_remote() {
  auto self = shared_from_this();
  auto receiving = receive_identify();
  auto result = co_await std::move(receiving);
  if (result && !result->public_key.empty()) {
    // The key the remote claims must be the one Noise authenticated.
    auto key = PublicKey::decode(result->public_key);
    if (!key || peer_id_from_public_key(*key) != remote_peer_)
      result = Error{errc::peer_id_mismatch, "identify: public key does not match the peer id"};
  }
  if (!result) WEFT_LOG(debug, "identify with " + remote_peer_.to_string() + " failed: " + result.error().message());
  identify_result_ = std::move(result);
  identified_.notify_all();
}

Task<void> Connection::push_identify() {
  auto self = shared_from_this();
  if (state_ != State::open) co_return;
  // The change may race with the connection's first identify exchange: wait
  // for it, since only the remote's answer says whether it takes pushes.
  auto remote = co_await wait_identified();
  if (!remote || state_ != State::open) co_return;
  const auto& theirs = remote->protocols;
  if (std::find(theirs.begin(), theirs.end(), identify::kPushProtocol) == theirs.end()) co_return;
  std::vector<std::string> protos{std::string(identify::kPushProtocol)};
  auto opened = co_await open_stream(std::move(protos));
  if (!opened) co_return;
  StreamDeadline deadline(*this, opened->channel, node_.config().limits.identify_timeout);
  identify::Info info = node_.local_identify_info(*this);
  auto sending = identify::send(*opened->channel, std::move(info));
  if (!co_await std::move(sending)) opened->channel->reset();
}

}  // namespace weft
