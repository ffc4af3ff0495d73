// Multibase: self-describing base encodings (a one-character prefix names
// the base), per https://github.com/multiformats/multibase.
//
// Supported bases (prefix):
//   base58btc 'z'   bitcoin alphabet
//   base32    'b'   RFC 4648, lowercase, no padding
//   base32upper 'B' RFC 4648, uppercase, no padding
//   base16    'f'   lowercase hex;  base16upper 'F'
//   base64    'm'   RFC 4648 standard alphabet, no padding;  base64pad 'M'
//   base64url 'u'   RFC 4648 URL-safe alphabet, no padding;  base64urlpad 'U'
//
// Decoding is strict where the spec is: characters outside the alphabet, impossible
// lengths and non-zero trailing bits are parse_error. Per the spec, base16 and
// base32 decode case-insensitively (whatever the prefix's case); base58 and
// base64 are case-sensitive. base64/base64url accept input with or without
// correct '=' padding; the *pad variants require it. A prefix the multibase
// table defines but weft does not implement (base2, base36, ...) is
// errc::unsupported; any other prefix is parse_error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace weft::multibase {

enum class Base : char {
  base58btc = 'z',
  base32 = 'b',
  base32upper = 'B',
  base16 = 'f',
  base16upper = 'F',
  base64 = 'm',
  base64pad = 'M',
  base64url = 'u',
  base64urlpad = 'U',
};

// base58 decoding is quadratic in the input length; longer inputs are
// rejected (parse_error) to bound the work an untrusted string can cause.
// Multiformats values (peer ids, multihashes) are far shorter.
inline constexpr std::size_t kMaxBase58Chars = 4096;

// With the prefix character.
std::string encode(Base base, BytesView data);
// Dispatches on the prefix character.
Result<Bytes> decode(std::string_view text);

// The raw codecs (no prefix).
std::string base58btc_encode(BytesView data);
Result<Bytes> base58btc_decode(std::string_view text);

std::string base32_encode(BytesView data, bool upper = false, bool pad = false);
// Case-insensitive; padding is accepted only if `allow_pad` (and then must be correct).
Result<Bytes> base32_decode(std::string_view text, bool allow_pad = false);

std::string base16_encode(BytesView data, bool upper = false);
Result<Bytes> base16_decode(std::string_view text);  // case-insensitive

std::string base64_encode(BytesView data, bool url, bool pad);
// `require_pad`: the padded form only; otherwise padding is optional but, if
// present, must be correct.
Result<Bytes> base64_decode(std::string_view text, bool url, bool require_pad = false);

}  // namespace weft::multibase
