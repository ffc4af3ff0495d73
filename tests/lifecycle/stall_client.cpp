#include "stall_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "core/asio.hpp"
#include "crypto/crypto.hpp"
#include "crypto/keys.hpp"
#include "mss/multistream.hpp"
#include "noise/noise.hpp"

// Coroutines here follow the GCC 12 rule of core/asio.hpp.

namespace lc {

using namespace weft;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// "/multistream/1.0.0\n" and "/noise\n", each behind its varint length.
const std::string kMultistreamHeader = std::string("\x13", 1) + "/multistream/1.0.0\n";
const std::string kNoiseProposal = std::string("\x07", 1) + "/noise\n";
const std::string kYamuxMuxer = "/yamux/1.0.0";

// A ByteChannel over a socket it does not own, so that a handshake that
// fails (on purpose) leaves the socket open, stalled where it stopped.
class BorrowedSocketChannel final : public ByteChannel {
 public:
  explicit BorrowedSocketChannel(tcp::socket& socket) : socket_(socket) {}

  // The write with this index (1 = the next one) sends only the first half
  // of its bytes and then fails: the peer is left mid-message.
  void cut_write(int index) { cut_at_ = writes_ + index; }

  Task<Status> write_all(BytesView data) override {
    ++writes_;
    std::size_t n = data.size();
    if (writes_ == cut_at_) n = data.size() / 2;
    auto [ec, written] = co_await asio::async_write(socket_, asio::buffer(data.data(), n), use_tuple);
    (void)written;
    if (ec) co_return Error::from(ec, "write");
    if (n != data.size()) co_return Error{errc::io_error, "stalled here on purpose"};
    co_return Status{};
  }
  Task<Status> close_write() override { co_return Status{}; }
  void abort() override {}  // the socket stays as it is

 protected:
  Task<Result<std::size_t>> read_some_impl(MutableBytesView buf) override {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
    if (ec) co_return Error::from(ec, "read");
    co_return n;
  }

 private:
  tcp::socket& socket_;
  int writes_ = 0;
  int cut_at_ = -1;
};

// The Yamux frames that open stream 1 and send the first `n` bytes of its
// multistream-select header (hashicorp/yamux spec: 12-byte big-endian header).
Bytes open_stream_frames(std::size_t n) {
  auto header = [](Bytes& out, std::uint8_t type, std::uint16_t flags, std::uint32_t id, std::uint32_t len) {
    auto put32 = [&out](std::uint32_t v) {
      for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::uint8_t(v >> shift));
    };
    out.push_back(0);  // version
    out.push_back(type);
    out.push_back(std::uint8_t(flags >> 8));
    out.push_back(std::uint8_t(flags));
    put32(id);
    put32(len);
  };
  Bytes out;
  header(out, /*window update*/ 1, /*SYN*/ 1, 1, 0);
  header(out, /*data*/ 0, 0, 1, static_cast<std::uint32_t>(n));
  out.insert(out.end(), kMultistreamHeader.begin(), kMultistreamHeader.begin() + static_cast<std::ptrdiff_t>(n));
  return out;
}

// Drives a connected socket to one of the stages that need a real Noise
// initiator. Sets *error on failure (empty on success).
Task<void> drive_noise(tcp::socket* socket, Stage stage, const Identity* identity, std::string* error) {
  BorrowedSocketChannel raw(*socket);
  std::vector<std::string> proposals{std::string(kNoiseProtocolId)};
  auto selecting = mss::select(raw, std::move(proposals), mss::Config{});
  auto selected = co_await std::move(selecting);
  if (!selected) {
    *error = "multistream: " + selected.error().message();
    co_return;
  }
  NoiseConfig config;
  if (stage == Stage::mid_stream_negotiation) config.muxers = {kYamuxMuxer};
  auto owned = std::make_unique<BorrowedSocketChannel>(*socket);
  // The initiator's writes are message 1, then message 3.
  if (stage == Stage::mid_noise_message_3) owned->cut_write(2);
  auto handshake = noise_handshake(std::move(owned), *identity, true, nullptr, std::move(config));
  auto secured = co_await std::move(handshake);
  if (stage == Stage::mid_noise_message_3) {
    if (secured || secured.error().detail.find("on purpose") == std::string::npos)
      *error = "noise: message 3 was not cut as planned";
    co_return;
  }
  if (!secured) {
    *error = "noise: " + secured.error().message();
    co_return;
  }
  if (stage == Stage::before_yamux) co_return;
  if (secured->early_muxer != kYamuxMuxer) {
    *error = "noise: the listener did not agree on Yamux in the handshake";
    co_return;
  }
  const Bytes frames = open_stream_frames(kMultistreamHeader.size() / 2);
  auto writing = secured->channel->write_all(frames);
  auto written = co_await std::move(writing);
  if (!written) *error = "yamux: " + written.error().message();
}

bool send_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::nothing_sent: return "nothing sent";
    case Stage::mid_multistream: return "mid multistream header";
    case Stage::before_noise: return "multistream done, before Noise";
    case Stage::mid_noise_message_1: return "mid Noise message 1";
    case Stage::noise_message_2_unread: return "Noise message 2 unread";
    case Stage::mid_noise_message_3: return "mid Noise message 3";
    case Stage::before_yamux: return "Noise done, before Yamux";
    case Stage::mid_stream_negotiation: return "mid stream negotiation";
  }
  return "?";
}

bool stage_is_handshaking(Stage stage) { return stage != Stage::mid_stream_negotiation; }

const char* StalledClient::end_name(End end) {
  switch (end) {
    case End::eof: return "EOF";
    case End::reset: return "RST";
    case End::gone: return "RST to a probe";
    case End::still_open: return "still open";
  }
  return "?";
}

int connect_loopback(std::uint16_t port, std::chrono::milliseconds limit) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = ::poll(&p, 1, static_cast<int>(limit.count())) == 1 ? 0 : -1;
    if (rc != 0) errno = ETIMEDOUT;
    int err = 0;
    socklen_t len = sizeof err;
    if (rc == 0 && (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)) {
      rc = -1;
      errno = err;
    }
  }
  if (rc != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  // Blocking from here: sends of a few bytes, reads through poll().
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

namespace {

// Drains `fd` until EOF or an error, or `limit` passes.
StalledClient::End drain_until_end(int fd, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  char buf[16384];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (left < 0) return StalledClient::End::still_open;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return StalledClient::End::still_open;
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return StalledClient::End::eof;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return StalledClient::End::reset;  // ECONNRESET (or another hard error)
    }
  }
}

}  // namespace

StalledClient::End wait_socket_end(int fd, std::chrono::milliseconds limit) {
  const auto end = drain_until_end(fd, limit);
  if (end != StalledClient::End::still_open) return end;
  // Nothing came: either the listener still holds the connection (the
  // failure this looks for) or its side is gone and only a byte sent to it
  // draws the RST that says so.
  const char probe = 0;
  if (::send(fd, &probe, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN) return StalledClient::End::gone;
  const auto after = drain_until_end(fd, std::chrono::milliseconds(500));
  return after == StalledClient::End::still_open ? after : StalledClient::End::gone;
}

struct StalledClient::Impl {
  int fd = -1;  // owned when `socket` is empty
  // For the Noise stages: the socket lives in weft's I/O objects.
  std::optional<asio::io_context> io;
  std::optional<tcp::socket> socket;
};

StalledClient::StalledClient(Stage stage) : stage_(stage), impl_(std::make_unique<Impl>()) {}

StalledClient::~StalledClient() {
  if (impl_->socket) {
    std::error_code ec;
    impl_->socket->close(ec);
    impl_->socket.reset();
    impl_->io.reset();
  } else if (impl_->fd >= 0) {
    ::close(impl_->fd);
  }
}

std::unique_ptr<StalledClient> StalledClient::start(std::uint16_t port, Stage stage, std::string* error) {
  std::unique_ptr<StalledClient> client(new StalledClient(stage));
  Impl& impl = *client->impl_;
  const int fd = connect_loopback(port, std::chrono::milliseconds(3000));
  if (fd < 0) {
    *error = "connect to port " + std::to_string(port) + " failed: " + std::strerror(errno);
    return nullptr;
  }
  if (stage >= Stage::mid_noise_message_3) {
    impl.io.emplace();
    impl.socket.emplace(*impl.io, tcp::v4(), fd);
    static const Identity identity = Identity::generate();
    std::string failure;
    asio::co_spawn(*impl.io, drive_noise(&*impl.socket, stage, &identity, &failure), asio::detached);
    // Bounded: a listener that neither answers nor closes must not hang the test.
    impl.io->run_for(std::chrono::seconds(10));
    if (!impl.io->stopped()) failure = "the listener neither answered nor closed within 10 s";
    if (!failure.empty()) {
      *error = std::string(stage_name(stage)) + ": " + failure;
      return nullptr;
    }
    impl.fd = impl.socket->native_handle();
    return client;
  }
  impl.fd = fd;
  std::string bytes;
  switch (stage) {
    case Stage::nothing_sent:
      break;
    case Stage::mid_multistream:
      bytes = kMultistreamHeader.substr(0, kMultistreamHeader.size() / 2);
      break;
    case Stage::before_noise:
      bytes = kMultistreamHeader + kNoiseProposal;
      break;
    case Stage::mid_noise_message_1:
    case Stage::noise_message_2_unread: {
      std::array<std::uint8_t, 32> key;  // any 32 bytes are an X25519 public key
      crypto::random_bytes(key);
      std::string message1 = std::string("\x00\x20", 2) + std::string(key.begin(), key.end());
      if (stage == Stage::mid_noise_message_1) message1.resize(2 + 16);
      bytes = kMultistreamHeader + kNoiseProposal + message1;
      break;
    }
    default:
      break;
  }
  if (!bytes.empty() && !send_all(fd, bytes)) {
    *error = std::string(stage_name(stage)) + ": send failed: " + std::strerror(errno);
    return nullptr;
  }
  return client;
}

StalledClient::End StalledClient::wait_end(std::chrono::milliseconds limit) {
  return wait_socket_end(impl_->fd, limit);
}

}  // namespace lc
