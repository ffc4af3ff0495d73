// A minimal protobuf (proto2/proto3 wire format) reader and writer, enough
// for libp2p's small messages: keys, the Noise handshake payload, identify.
//
// weft does not link libprotobuf: the messages are a handful of fields, the
// peer-ids spec requires a deterministic encoding we must control anyway, and
// a hand-written reader is a small, fuzzable parser of network input.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace weft::pb {

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

class Writer {
 public:
  void varint_field(std::uint32_t field, std::uint64_t value);
  void bytes_field(std::uint32_t field, BytesView value);
  void string_field(std::uint32_t field, std::string_view value) { bytes_field(field, as_bytes(value)); }

  const Bytes& bytes() const& { return out_; }
  Bytes take() && { return std::move(out_); }

 private:
  void tag(std::uint32_t field, WireType type);
  Bytes out_;
};

struct Field {
  std::uint32_t number = 0;
  WireType type = WireType::varint;
  std::uint64_t varint = 0;   // for varint, fixed32, fixed64
  BytesView bytes;            // for length_delimited (a view into the input)

  std::string_view str() const { return as_string_view(bytes); }
};

// Iterates over the fields of one message. Unknown fields are returned like
// any other; the caller skips what it does not know. Group wire types (3, 4)
// and field number 0 are errors.
class Reader {
 public:
  explicit Reader(BytesView in) : in_(in) {}

  // Returns true and fills `f` for the next field, false at the clean end of
  // the message; a malformed message sets error() and returns false.
  bool next(Field& f);
  const Status& status() const { return status_; }

 private:
  bool fail(std::string detail);
  BytesView in_;
  std::size_t pos_ = 0;
  Status status_;
};

}  // namespace weft::pb
