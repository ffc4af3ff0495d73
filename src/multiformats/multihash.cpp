#include "multiformats/multihash.hpp"

#include <cstdio>
#include <string>

#include "core/varint.hpp"

namespace weft::multihash {
namespace {

std::string hex_code(std::uint64_t code) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%02llx", static_cast<unsigned long long>(code));
  return buf;
}

Error varint_error(const char* what, const Error& e) {
  // A truncated varint (eof) is malformed input here: the multihash is complete.
  return Error{errc::parse_error, std::string("multihash: ") + what + ": " + e.detail};
}

// Structure: code, length, digest present. `max_len` bounds the digest.
Result<View> decode_structure(BytesView in, std::size_t max_len) {
  if (in.empty()) return Error{errc::parse_error, "multihash: empty input"};
  auto code = varint::decode(in);
  if (!code) return varint_error("bad hash function code", code.error());
  auto len = varint::decode(in.subspan(code->size));
  if (!len) {
    if (len.code() == errc::eof && code->size == in.size())
      return Error{errc::parse_error, "multihash: missing digest length"};
    return varint_error("bad digest length", len.error());
  }
  if (len->value > max_len)
    return Error{errc::parse_error, "multihash: digest length " + std::to_string(len->value) +
                                        " exceeds the maximum of " + std::to_string(max_len)};
  const std::size_t header = code->size + len->size;
  const std::size_t n = static_cast<std::size_t>(len->value);
  if (in.size() - header < n)
    return Error{errc::parse_error, "multihash: truncated digest (" + std::to_string(in.size() - header) +
                                        " of " + std::to_string(n) + " bytes)"};
  return View{code->value, in.subspan(header, n), header + n};
}

Result<View> check_known(View v) {
  if (v.code == kIdentity) {
    if (v.digest.size() > kMaxIdentityDigestSize)
      return Error{errc::parse_error, "multihash: identity digest of " + std::to_string(v.digest.size()) +
                                          " bytes exceeds the maximum of " +
                                          std::to_string(kMaxIdentityDigestSize)};
    return v;
  }
  if (v.code == kSha2_256) {
    if (v.digest.size() != kSha2_256Size)
      return Error{errc::parse_error, "multihash: sha2-256 digest must be 32 bytes, not " +
                                          std::to_string(v.digest.size())};
    return v;
  }
  return Error{errc::unsupported, "multihash: unsupported hash function " + hex_code(v.code)};
}

Result<View> whole(Result<View> r, BytesView in) {
  if (r && r->size != in.size())
    return Error{errc::parse_error, "multihash: " + std::to_string(in.size() - r->size) +
                                        " trailing byte(s) after the digest"};
  return r;
}

}  // namespace

Result<View> decode_prefix(BytesView in) {
  // Bound by the larger limit first, then apply the per-code rules (so an
  // unknown code with a sane structure is reported as unsupported).
  WEFT_TRY(View v, decode_structure(in, kMaxDigestSize > kMaxIdentityDigestSize ? kMaxDigestSize
                                                                                 : kMaxIdentityDigestSize));
  return check_known(v);
}

Result<View> decode(BytesView in) { return whole(decode_prefix(in), in); }

Result<View> decode_any(BytesView in) { return whole(decode_structure(in, kMaxDigestSize), in); }

Result<Bytes> encode(std::uint64_t code, BytesView digest) {
  WEFT_TRY(View v, check_known(View{code, digest, 0}));
  (void)v;
  Bytes out;
  out.reserve(digest.size() + 4);
  varint::encode(code, out);
  varint::encode(digest.size(), out);
  append(out, digest);
  return out;
}

}  // namespace weft::multihash
