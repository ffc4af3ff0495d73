// Fuzzes the protobuf Reader: it must terminate, every field it returns must
// lie inside the input, and the fields re-encoded with the Writer must read
// back as the same fields.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/protobuf.hpp"

namespace {

struct Seen {
  std::uint32_t number;
  weft::pb::WireType type;
  std::uint64_t varint;
  weft::Bytes bytes;
  bool operator==(const Seen&) const = default;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  weft::BytesView in(data, size);
  weft::pb::Reader r(in);
  weft::pb::Field f;
  std::vector<Seen> seen;
  while (r.next(f)) {
    if (f.number == 0 || f.number > 0x1fffffff) __builtin_trap();
    if (f.type == weft::pb::WireType::length_delimited) {
      if (!f.bytes.empty() && (f.bytes.data() < data || f.bytes.data() + f.bytes.size() > data + size))
        __builtin_trap();
    } else if (!f.bytes.empty()) {
      __builtin_trap();
    }
    if (seen.size() > size) __builtin_trap();  // each field consumes at least one byte
    seen.push_back({f.number, f.type, f.varint, weft::Bytes(f.bytes.begin(), f.bytes.end())});
  }
  if (!r.status().ok()) {
    if (r.status().code() != weft::errc::parse_error) __builtin_trap();
    return 0;
  }
  // Re-encode what the Writer can express (varint and length-delimited fields).
  weft::pb::Writer w;
  std::vector<Seen> expressible;
  for (const auto& s : seen) {
    if (s.type == weft::pb::WireType::varint) {
      w.varint_field(s.number, s.varint);
      expressible.push_back(s);
    } else if (s.type == weft::pb::WireType::length_delimited) {
      w.bytes_field(s.number, s.bytes);
      expressible.push_back(s);
    }
  }
  weft::Bytes out = std::move(w).take();
  weft::pb::Reader r2(out);
  std::vector<Seen> again;
  while (r2.next(f)) again.push_back({f.number, f.type, f.varint, weft::Bytes(f.bytes.begin(), f.bytes.end())});
  if (!r2.status().ok() || again != expressible) __builtin_trap();
  return 0;
}
