// Yamux framing (hashicorp/yamux spec.md): a fixed 12-byte big-endian header
// (version, type, flags, stream id, length), followed by `length` payload
// bytes for Data frames only. For the other types `length` is a value: the
// window delta, the ping's opaque value, or the GoAway code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace weft::yamux {

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::uint8_t kVersion = 0;
// The window both sides assume for a new stream before any window update.
inline constexpr std::uint32_t kDefaultWindow = 256 * 1024;

enum class FrameType : std::uint8_t {
  data = 0,
  window_update = 1,
  ping = 2,
  go_away = 3,
};
inline constexpr std::uint8_t kMaxFrameType = 3;

namespace flag {
inline constexpr std::uint16_t syn = 0x1;
inline constexpr std::uint16_t ack = 0x2;
inline constexpr std::uint16_t fin = 0x4;
inline constexpr std::uint16_t rst = 0x8;
}  // namespace flag

enum class GoAwayCode : std::uint32_t {
  normal = 0,
  protocol_error = 1,
  internal_error = 2,
};

struct FrameHeader {
  std::uint8_t version = kVersion;
  std::uint8_t type = 0;
  std::uint16_t flags = 0;
  std::uint32_t stream_id = 0;
  std::uint32_t length = 0;

  FrameType frame_type() const noexcept { return static_cast<FrameType>(type); }
  bool has(std::uint16_t f) const noexcept { return (flags & f) != 0; }
};

inline FrameHeader make_header(FrameType type, std::uint16_t flags, std::uint32_t stream_id,
                               std::uint32_t length) {
  return FrameHeader{kVersion, static_cast<std::uint8_t>(type), flags, stream_id, length};
}

// Writes exactly kHeaderSize bytes.
void encode_header(const FrameHeader& h, std::uint8_t* out) noexcept;
// Reads exactly kHeaderSize bytes; no validation (the session validates).
FrameHeader decode_header(const std::uint8_t* in) noexcept;

// "Data(stream 3, flags SYN|FIN, length 10)", for error details and logs.
std::string describe(const FrameHeader& h);
const char* type_name(std::uint8_t type) noexcept;

}  // namespace weft::yamux
