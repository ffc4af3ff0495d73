#include "core/varint.hpp"

namespace weft::varint {

std::size_t encoded_size(std::uint64_t value) {
  std::size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

std::size_t encode_to(std::uint64_t value, std::uint8_t* buf) {
  std::size_t n = 0;
  while (value >= 0x80) {
    buf[n++] = static_cast<std::uint8_t>(value | 0x80);
    value >>= 7;
  }
  buf[n++] = static_cast<std::uint8_t>(value);
  return n;
}

void encode(std::uint64_t value, Bytes& out) {
  std::uint8_t buf[10];
  std::size_t n = encode_to(value, buf);
  out.insert(out.end(), buf, buf + n);
}

Result<Decoded> decode(BytesView in) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (i == kMaxBytes) return Error{errc::parse_error, "varint longer than 9 bytes"};
    const std::uint8_t b = in[i];
    value |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) return Error{errc::parse_error, "varint not minimally encoded"};
      return Decoded{value, i + 1};
    }
  }
  if (in.size() >= kMaxBytes) return Error{errc::parse_error, "varint longer than 9 bytes"};
  return Error{errc::eof, "truncated varint"};
}

}  // namespace weft::varint
