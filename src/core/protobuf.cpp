#include "core/protobuf.hpp"

#include "core/varint.hpp"

namespace weft::pb {

void Writer::tag(std::uint32_t field, WireType type) {
  varint::encode((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint8_t>(type), out_);
}

void Writer::varint_field(std::uint32_t field, std::uint64_t value) {
  tag(field, WireType::varint);
  varint::encode(value, out_);
}

void Writer::bytes_field(std::uint32_t field, BytesView value) {
  tag(field, WireType::length_delimited);
  varint::encode(value.size(), out_);
  append(out_, value);
}

bool Reader::fail(std::string detail) {
  status_ = Error{errc::parse_error, "protobuf: " + std::move(detail)};
  return false;
}

// Protobuf varints may legally be up to 10 bytes and need not be minimal, so
// this does not use weft::varint (which enforces the multiformats rules).
static bool read_pb_varint(BytesView in, std::size_t& pos, std::uint64_t& out) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos >= in.size()) return false;
    const std::uint8_t b = in[pos++];
    if (shift == 63 && (b & 0x7e) != 0) return false;  // overflow of 64 bits
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      out = v;
      return true;
    }
  }
  return false;
}

bool Reader::next(Field& f) {
  if (!status_.ok()) return false;
  if (pos_ == in_.size()) return false;
  std::uint64_t key = 0;
  if (!read_pb_varint(in_, pos_, key)) return fail("truncated or overlong field key");
  const std::uint64_t number = key >> 3;
  if (number == 0 || number > 0x1fffffff) return fail("invalid field number");
  f.number = static_cast<std::uint32_t>(number);
  f.bytes = {};
  f.varint = 0;
  switch (key & 7) {
    case 0:
      f.type = WireType::varint;
      if (!read_pb_varint(in_, pos_, f.varint)) return fail("truncated varint field");
      return true;
    case 1:
      f.type = WireType::fixed64;
      if (in_.size() - pos_ < 8) return fail("truncated fixed64 field");
      for (int i = 7; i >= 0; --i) f.varint = (f.varint << 8) | in_[pos_ + i];
      pos_ += 8;
      return true;
    case 2: {
      f.type = WireType::length_delimited;
      std::uint64_t len = 0;
      if (!read_pb_varint(in_, pos_, len)) return fail("truncated length");
      if (len > in_.size() - pos_) return fail("length-delimited field runs past the end");
      f.bytes = in_.subspan(pos_, static_cast<std::size_t>(len));
      pos_ += static_cast<std::size_t>(len);
      return true;
    }
    case 5:
      f.type = WireType::fixed32;
      if (in_.size() - pos_ < 4) return fail("truncated fixed32 field");
      for (int i = 3; i >= 0; --i) f.varint = (f.varint << 8) | in_[pos_ + i];
      pos_ += 4;
      return true;
    default:
      return fail("unsupported wire type " + std::to_string(key & 7));
  }
}

}  // namespace weft::pb
