#include "net/tcp_channel.hpp"

namespace weft {

TcpChannel::TcpChannel(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
  std::error_code ec;
  local_ = socket_.local_endpoint(ec);
  remote_ = socket_.remote_endpoint(ec);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

TcpChannel::~TcpChannel() {
  std::error_code ec;
  socket_.close(ec);
}

asio::ip::tcp::endpoint TcpChannel::local_endpoint() const { return local_; }
asio::ip::tcp::endpoint TcpChannel::remote_endpoint() const { return remote_; }

Task<Result<std::size_t>> TcpChannel::read_some_impl(MutableBytesView buf) {
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
  if (ec) co_return Error::from(ec, "tcp read");
  co_return n;
}

Task<Status> TcpChannel::write_all(BytesView data) {
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()), use_tuple);
  if (ec) co_return Error::from(ec, "tcp write");
  co_return Status{};
}

Task<Status> TcpChannel::close_write() {
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
