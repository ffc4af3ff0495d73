#include "yamux/config.hpp"

#include <algorithm>

#include "yamux/frame.hpp"

namespace weft {

YamuxConfig sanitize(YamuxConfig cfg) {
  cfg.initial_window = std::max(cfg.initial_window, yamux::kDefaultWindow);
  cfg.max_window = std::max(cfg.max_window, cfg.initial_window);
  cfg.max_receive_windows = std::max<std::uint64_t>(cfg.max_receive_windows, cfg.initial_window);
  cfg.max_streams = std::max<std::size_t>(cfg.max_streams, 1);
  cfg.max_unacked_outbound = std::max<std::size_t>(cfg.max_unacked_outbound, 1);
  cfg.max_pending_pings = std::max<std::size_t>(cfg.max_pending_pings, 1);
  cfg.max_send_buffer = std::max<std::size_t>(cfg.max_send_buffer, 1);
  cfg.max_frame_payload = std::max<std::uint32_t>(cfg.max_frame_payload, 1);
  cfg.read_buffer_size = std::max<std::size_t>(cfg.read_buffer_size, 4096);
  if (cfg.keepalive_interval.count() < 0) cfg.keepalive_interval = std::chrono::milliseconds{0};
  if (cfg.keepalive_timeout.count() <= 0) cfg.keepalive_timeout = YamuxConfig{}.keepalive_timeout;
  if (cfg.close_timeout.count() <= 0) cfg.close_timeout = YamuxConfig{}.close_timeout;
  return cfg;
}

}  // namespace weft
