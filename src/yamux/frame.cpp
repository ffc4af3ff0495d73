#include "yamux/frame.hpp"

#include <cstdio>

namespace weft::yamux {

void encode_header(const FrameHeader& h, std::uint8_t* out) noexcept {
  out[0] = h.version;
  out[1] = h.type;
  out[2] = static_cast<std::uint8_t>(h.flags >> 8);
  out[3] = static_cast<std::uint8_t>(h.flags);
  out[4] = static_cast<std::uint8_t>(h.stream_id >> 24);
  out[5] = static_cast<std::uint8_t>(h.stream_id >> 16);
  out[6] = static_cast<std::uint8_t>(h.stream_id >> 8);
  out[7] = static_cast<std::uint8_t>(h.stream_id);
  out[8] = static_cast<std::uint8_t>(h.length >> 24);
  out[9] = static_cast<std::uint8_t>(h.length >> 16);
  out[10] = static_cast<std::uint8_t>(h.length >> 8);
  out[11] = static_cast<std::uint8_t>(h.length);
}

namespace {
std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
}  // namespace

FrameHeader decode_header(const std::uint8_t* in) noexcept {
  FrameHeader h;
  h.version = in[0];
  h.type = in[1];
  h.flags = static_cast<std::uint16_t>((std::uint16_t{in[2]} << 8) | in[3]);
  h.stream_id = load_be32(in + 4);
  h.length = load_be32(in + 8);
  return h;
}

const char* type_name(std::uint8_t type) noexcept {
  switch (type) {
    case 0: return "Data";
    case 1: return "WindowUpdate";
    case 2: return "Ping";
    case 3: return "GoAway";
    default: return "Unknown";
  }
}

std::string describe(const FrameHeader& h) {
  std::string s = type_name(h.type);
  if (h.type > kMaxFrameType) s += "#" + std::to_string(h.type);
  s += "(stream " + std::to_string(h.stream_id) + ", flags ";
  if (h.flags == 0) {
    s += "none";
  } else {
    const char* names[] = {"SYN", "ACK", "FIN", "RST"};
    bool first = true;
    for (int bit = 0; bit < 4; ++bit) {
      if (h.flags & (1u << bit)) {
        if (!first) s += "|";
        s += names[bit];
        first = false;
      }
    }
    if (h.flags & 0xfff0u) {
      if (!first) s += "|";
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%x", static_cast<unsigned>(h.flags & 0xfff0u));
      s += hex;
    }
  }
  s += ", length " + std::to_string(h.length) + ")";
  return s;
}

}  // namespace weft::yamux
