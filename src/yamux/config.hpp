// Limits and tunables of a Yamux session. Every bound the session applies to
// what the network sends is a field here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace weft {

struct YamuxConfig {
  // Receive window of a new stream. Both ends assume 256 KiB when a stream
  // opens (spec), so smaller values are raised to 256 KiB; anything larger is
  // announced in the SYN (outbound) or ACK (inbound) window update.
  std::uint32_t initial_window = 256 * 1024;
  // Receive window auto-tuning cap (go-yamux and js-libp2p use 16 MiB).
  std::uint32_t max_window = 16 * 1024 * 1024;
  // The receive windows of all streams of the session together, which bound
  // the bytes the remote may make us hold (received, not yet read). An
  // inbound SYN that would take the sum over it is refused with RST, and
  // windows do not grow past it. Streams we open count too, but are not
  // refused for it. At least initial_window. Without it, a remote could fill
  // max_streams windows: 256 MiB at the defaults.
  std::uint64_t max_receive_windows = 64 * 1024 * 1024;
  // Open streams per session, both directions. Inbound SYNs beyond it get RST.
  std::size_t max_streams = 1024;
  // Inbound streams not yet ACKed (ACK goes out on accept). Beyond it: RST.
  std::size_t max_unacked_inbound = 256;
  // Our streams the remote has not ACKed yet (the libp2p spec's "ACK
  // backlog"); open_stream() waits while this many are outstanding.
  std::size_t max_unacked_outbound = 256;
  // Inbound streams waiting for accept_stream(). Beyond it: RST.
  std::size_t accept_backlog = 256;
  // Ping(SYN) every interval; 0 = off. js-libp2p pings every 30 s too.
  std::chrono::milliseconds keepalive_interval{30000};
  // A ping (keep-alive or ping()) not answered in time fails the session
  // with errc::timed_out. Values <= 0 are replaced by the default.
  std::chrono::milliseconds keepalive_timeout{10000};
  // Send a ping as soon as the session starts: it measures the RTT the
  // receive window auto-tuning needs (js-libp2p and go-yamux do the same).
  bool initial_ping = true;
  // ping() calls in flight at once; more fail with errc::limit_exceeded.
  std::size_t max_pending_pings = 16;
  // Session-wide bytes of Data frames queued for the writer before stream
  // writers wait. The writer has one more such batch in flight.
  std::size_t max_send_buffer = 1 << 20;
  // Extra room for control frames (window updates, pongs, RSTs) on top of a
  // full send buffer. A remote that makes us queue more while not reading
  // what we send fails the session with errc::limit_exceeded.
  std::size_t max_control_backlog = 256 * 1024;
  // Largest Data frame payload we send (also bounded by the send window).
  std::uint32_t max_frame_payload = 256 * 1024;
  // Largest chunk of input the reader takes from the connection at once
  // (a view of the connection's own buffer); at least 4 KiB.
  std::size_t read_buffer_size = 256 * 1024;
  // Receive window auto-tuning: when a window update is due sooner than
  // this many RTTs after the previous one, the window doubles (up to
  // max_window). 0 = never grow.
  std::uint32_t window_growth_rtt_factor = 2;
  // close() and protocol-error teardown: how long flushing the last frames
  // and waiting for the remote to close may take before the connection is
  // aborted. Values <= 0 are replaced by the default.
  std::chrono::milliseconds close_timeout{5000};
};

// Returns cfg with out-of-range values replaced as documented per field.
YamuxConfig sanitize(YamuxConfig cfg);

}  // namespace weft
