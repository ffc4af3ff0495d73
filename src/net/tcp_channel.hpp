// TcpChannel: a ByteChannel over a connected TCP socket.
#pragma once

#include "core/asio.hpp"
#include "core/byte_channel.hpp"
#include "core/live.hpp"

namespace weft {

class TcpChannel final : public ByteChannel {
 public:
  explicit TcpChannel(asio::ip::tcp::socket socket);
  ~TcpChannel() override;

  Task<Status> write_all(BytesView data) override;
  // Held until the next write_all (which sends both with one system call),
  // close_write, or a read that has to wait for input: during connection
  // setup a protocol proposal or answer joins the Noise message behind it in
  // one segment, so the remote wakes once for both.
  Task<Status> write_more(BytesView data) override;
  Task<Status> close_write() override;
  // Closes with SO_LINGER 0, so the remote sees a reset rather than a clean
  // end: an aborted connection must not look like a completed one.
  void abort() override;

  asio::ip::tcp::socket& socket() { return socket_; }
  asio::ip::tcp::endpoint local_endpoint() const;
  asio::ip::tcp::endpoint remote_endpoint() const;

 protected:
  Task<Result<std::size_t>> read_some_impl(MutableBytesView buf) override;

 private:
  asio::ip::tcp::socket socket_;
  asio::ip::tcp::endpoint local_;
  asio::ip::tcp::endpoint remote_;
  bool drained_ = true;  // the last read was short: the next one waits in the reactor
  Bytes held_;           // write_more's bytes, not sent yet
  LiveToken<Live::sockets> live_;
};

}  // namespace weft
