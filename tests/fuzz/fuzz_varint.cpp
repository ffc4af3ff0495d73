// Fuzzes the multiformats varint decoder: whatever decodes must be minimal,
// at most 9 bytes, and re-encode to exactly the bytes consumed.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/varint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  weft::BytesView in(data, size);
  auto r = weft::varint::decode(in);
  if (!r.ok()) {
    const auto c = r.code();
    if (c != weft::errc::eof && c != weft::errc::parse_error) __builtin_trap();
    return 0;
  }
  if (r->size == 0 || r->size > weft::varint::kMaxBytes || r->size > size) __builtin_trap();
  std::uint8_t buf[16];
  const std::size_t n = weft::varint::encode_to(r->value, buf);
  if (n != r->size || n != weft::varint::encoded_size(r->value) || std::memcmp(buf, data, n) != 0)
    __builtin_trap();
  weft::Bytes again;
  weft::varint::encode(r->value, again);
  if (again.size() != n || std::memcmp(again.data(), data, n) != 0) __builtin_trap();
  return 0;
}
