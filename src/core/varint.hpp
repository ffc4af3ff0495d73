// Unsigned varints as used by multiformats and libp2p: LEB128, at most
// 9 bytes (63 bits of value), minimal encoding enforced when decoding.
#pragma once

#include <cstdint>
#include <optional>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace weft::varint {

inline constexpr std::size_t kMaxBytes = 9;

void encode(std::uint64_t value, Bytes& out);
std::size_t encoded_size(std::uint64_t value);
// Writes into buf (at least kMaxBytes long); returns the bytes written.
std::size_t encode_to(std::uint64_t value, std::uint8_t* buf);

struct Decoded {
  std::uint64_t value;
  std::size_t size;  // bytes consumed
};

// Decodes one varint at the start of `in`.
//   ok                -> value and size
//   errc::eof         -> `in` ends before the varint does (need more bytes)
//   errc::parse_error -> not minimal, or longer than 9 bytes
Result<Decoded> decode(BytesView in);

}  // namespace weft::varint
