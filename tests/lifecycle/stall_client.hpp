// Raw TCP clients that connect to a weft listener and stop at a chosen point
// of the connection upgrade (seed 2: a close that waited for connections it
// could not see). Early stages send hand-made bytes; later ones run a real
// Noise initiator (weft's own, over a socket the client keeps) so the
// listener is truly inside message 3, the muxer negotiation or a stream's
// protocol negotiation when the client stops.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace lc {

enum class Stage {
  nothing_sent,            // connected, not a byte sent
  mid_multistream,         // half of the multistream-select header
  before_noise,            // header and "/noise" sent; Noise message 1 never comes
  mid_noise_message_1,     // the length prefix and half of the ephemeral key
  noise_message_2_unread,  // message 1 sent; the listener's message 2 is never read
  mid_noise_message_3,     // a real message 3, cut in half
  before_yamux,            // Noise done without early muxer; "/yamux/1.0.0" never proposed
  mid_stream_negotiation,  // Yamux up, a stream opened, half its multistream header sent
};
inline constexpr int kStages = 8;
const char* stage_name(Stage stage);
// True for the stages at which the listener counts the connection as
// handshaking (every stage before Yamux is up).
bool stage_is_handshaking(Stage stage);

class StalledClient {
 public:
  // Connects to 127.0.0.1:port and drives the connection to `stage`, then
  // stops sending for good. Null, with *error set, if that failed (e.g. the
  // connection was refused or closed first).
  static std::unique_ptr<StalledClient> start(std::uint16_t port, Stage stage, std::string* error);
  ~StalledClient();
  StalledClient(const StalledClient&) = delete;
  StalledClient& operator=(const StalledClient&) = delete;

  Stage stage() const { return stage_; }

  enum class End {
    eof,
    reset,
    // The listener's side was gone without the client being told (a Linux
    // race when a socket accepted at the moment its listener closes is
    // closed at once); a probe byte drew the RST.
    gone,
    still_open,
  };
  static const char* end_name(End end);
  // Reads and discards what the listener sends until it closes (EOF) or
  // resets the connection, or `limit` passes; then sends one probe byte and
  // waits a little more: only a listener that still holds the connection
  // leaves it open.
  End wait_end(std::chrono::milliseconds limit);

  struct Impl;

 private:
  explicit StalledClient(Stage stage);
  Stage stage_;
  std::unique_ptr<Impl> impl_;
};

// A plain socket connected to 127.0.0.1:port (-1 if refused or timed out
// after `limit`); the caller closes it.
int connect_loopback(std::uint16_t port, std::chrono::milliseconds limit);
// wait_end for any connected socket.
StalledClient::End wait_socket_end(int fd, std::chrono::milliseconds limit);

}  // namespace lc
