#include "net/tcp_channel.hpp"

namespace weft {

namespace {

bool would_block(const std::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

}  // namespace

TcpChannel::TcpChannel(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
  std::error_code ec;
  local_ = socket_.local_endpoint(ec);
  remote_ = socket_.remote_endpoint(ec);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // Reads and writes try the kernel directly first (see read_some_impl and
  // write_all); the asynchronous operations are unaffected by this flag.
  socket_.non_blocking(true, ec);
}

TcpChannel::~TcpChannel() {
  std::error_code ec;
  socket_.close(ec);
}

asio::ip::tcp::endpoint TcpChannel::local_endpoint() const { return local_; }
asio::ip::tcp::endpoint TcpChannel::remote_endpoint() const { return remote_; }

// Writes, and reads that follow a read which filled its buffer (more input
// is probably waiting), try a non-blocking system call first and go through
// the reactor only when the kernel cannot make progress now. An operation
// that completes at once then costs no round through the event loop (a
// posted completion, a poll of epoll, a coroutine resumption). A read after
// a short one goes to the reactor directly: input has probably not arrived
// yet, and the reactor tries the system call once before waiting anyway.

Task<Result<std::size_t>> TcpChannel::read_some_impl(MutableBytesView buf) {
  if (!drained_ || !held_.empty()) {
    std::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(buf.data(), buf.size()), ec);
    if (!ec) {
      drained_ = n < buf.size();
      co_return n;
    }
    if (!would_block(ec)) co_return Error::from(ec, "tcp read");
  }
  if (!held_.empty()) {
    // About to wait for the remote, which may be waiting for these bytes:
    // an empty write_all sends what is held.
    WEFT_CO_CHECK(co_await write_all(BytesView{}));
  }
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
  if (ec) co_return Error::from(ec, "tcp read");
  drained_ = n < buf.size();
  co_return n;
}

Task<Status> TcpChannel::write_more(BytesView data) {
  append(held_, data);
  co_return Status{};
}

Task<Status> TcpChannel::write_all(BytesView data) {
  Bytes joined;
  if (!held_.empty()) {
    // Only small protocol messages are ever held: one copy is cheaper than
    // a second system call and segment.
    joined = std::move(held_);
    held_.clear();
    append(joined, data);
    data = joined;
  }
  std::size_t done = 0;
  while (done < data.size()) {
    std::error_code ec;
    done += socket_.write_some(asio::buffer(data.data() + done, data.size() - done), ec);
    if (!ec) continue;
    if (!would_block(ec)) co_return Error::from(ec, "tcp write");
    // The socket buffer is full: the reactor finishes the rest.
    auto [wait_ec, n] = co_await asio::async_write(
        socket_, asio::buffer(data.data() + done, data.size() - done), use_tuple);
    if (wait_ec) co_return Error::from(wait_ec, "tcp write");
    break;
  }
  co_return Status{};
}

Task<Status> TcpChannel::close_write() {
  if (!held_.empty()) WEFT_CO_CHECK(co_await write_all(BytesView{}));  // sends what is held
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec && ec != asio::error::not_connected) co_return Error::from(ec, "tcp shutdown");
  co_return Status{};
}

void TcpChannel::abort() {
  if (!socket_.is_open()) return;
  std::error_code ec;
  socket_.set_option(asio::socket_base::linger(true, 0), ec);
  socket_.close(ec);
}

}  // namespace weft
