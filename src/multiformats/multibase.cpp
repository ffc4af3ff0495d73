#include "multiformats/multibase.hpp"

#include <array>

namespace weft::multibase {
namespace {

constexpr char kBase58Alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr char kBase32Lower[] = "abcdefghijklmnopqrstuvwxyz234567";
constexpr char kBase32Upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr char kBase64Std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Reverse lookup tables: 0xff = not in the alphabet.
using Table = std::array<std::uint8_t, 256>;

constexpr Table make_table(const char* alphabet, std::size_t n, bool fold_case) {
  Table t{};
  for (auto& v : t) v = 0xff;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(alphabet[i]);
    t[c] = static_cast<std::uint8_t>(i);
    if (fold_case) {
      if (c >= 'a' && c <= 'z') t[c - 'a' + 'A'] = static_cast<std::uint8_t>(i);
      if (c >= 'A' && c <= 'Z') t[c - 'A' + 'a'] = static_cast<std::uint8_t>(i);
    }
  }
  return t;
}

constexpr Table kBase58Table = make_table(kBase58Alphabet, 58, false);
constexpr Table kBase32Table = make_table(kBase32Lower, 32, true);
constexpr Table kBase64StdTable = make_table(kBase64Std, 64, false);
constexpr Table kBase64UrlTable = make_table(kBase64Url, 64, false);
constexpr Table kBase16Table = make_table("0123456789abcdef", 16, true);

std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 15];
}

Error bad_char(const char* base, char c, std::size_t pos) {
  return Error{errc::parse_error, std::string(base) + ": invalid character " + describe_char(c) +
                                      " at position " + std::to_string(pos)};
}

}  // namespace

// ---- base58btc ----------------------------------------------------------------

std::string base58btc_encode(BytesView data) {
  std::size_t zeros = 0;
  while (zeros < data.size() && data[zeros] == 0) ++zeros;
  // log(256)/log(58) ~ 1.366: base58 digits, little-endian.
  std::vector<std::uint8_t> digits;
  digits.reserve((data.size() - zeros) * 138 / 100 + 1);
  for (std::size_t i = zeros; i < data.size(); ++i) {
    std::uint32_t carry = data[i];
    for (auto& d : digits) {
      carry += static_cast<std::uint32_t>(d) << 8;
      d = static_cast<std::uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<std::uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');
  out.reserve(zeros + digits.size());
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(kBase58Alphabet[*it]);
  return out;
}

Result<Bytes> base58btc_decode(std::string_view text) {
  if (text.size() > kMaxBase58Chars)
    return Error{errc::parse_error, "base58btc: input too long (" + std::to_string(text.size()) +
                                        " characters, max " + std::to_string(kMaxBase58Chars) + ")"};
  std::size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  // Bytes, little-endian.
  std::vector<std::uint8_t> bytes;
  bytes.reserve((text.size() - ones) * 733 / 1000 + 1);
  for (std::size_t i = ones; i < text.size(); ++i) {
    const std::uint8_t v = kBase58Table[static_cast<unsigned char>(text[i])];
    if (v == 0xff) return bad_char("base58btc", text[i], i);
    std::uint32_t carry = v;
    for (auto& b : bytes) {
      carry += static_cast<std::uint32_t>(b) * 58;
      b = static_cast<std::uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<std::uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  Bytes out(ones, 0);
  out.insert(out.end(), bytes.rbegin(), bytes.rend());
  return out;
}

// ---- base32 -----------------------------------------------------------------------

std::string base32_encode(BytesView data, bool upper, bool pad) {
  const char* alphabet = upper ? kBase32Upper : kBase32Lower;
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5 + 6);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t b : data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(alphabet[(acc >> bits) & 31]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (5 - bits)) & 31]);
  if (pad)
    while (out.size() % 8 != 0) out.push_back('=');
  return out;
}

Result<Bytes> base32_decode(std::string_view text, bool allow_pad) {
  std::size_t len = text.size();
  if (allow_pad && len % 8 == 0) {
    std::size_t pads = 0;
    while (pads < len && text[len - 1 - pads] == '=') ++pads;
    // Valid pad counts for 1..4 trailing bytes: 6, 4, 3, 1.
    if (pads != 0 && pads != 1 && pads != 3 && pads != 4 && pads != 6)
      return Error{errc::parse_error, "base32: invalid padding"};
    len -= pads;
  }
  Bytes out;
  out.reserve(len * 5 / 8);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const std::uint8_t v = kBase32Table[static_cast<unsigned char>(text[i])];
    if (v == 0xff) return bad_char("base32", text[i], i);
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
    acc &= (1u << bits) - 1;
  }
  // Checked after the characters, so a stray '=' is reported as such.
  // Unpadded lengths mod 8 that can occur: 0, 2, 4, 5, 7.
  const std::size_t rem = len % 8;
  if (rem == 1 || rem == 3 || rem == 6)
    return Error{errc::parse_error, "base32: invalid length " + std::to_string(text.size())};
  if (acc != 0) return Error{errc::parse_error, "base32: non-zero trailing bits"};
  return out;
}

// ---- base16 -----------------------------------------------------------------------

std::string base16_encode(BytesView data, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (std::uint8_t b : data) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

Result<Bytes> base16_decode(std::string_view text) {
  if (text.size() % 2 != 0)
    return Error{errc::parse_error, "base16: odd length " + std::to_string(text.size())};
  Bytes out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const std::uint8_t hi = kBase16Table[static_cast<unsigned char>(text[i])];
    if (hi == 0xff) return bad_char("base16", text[i], i);
    const std::uint8_t lo = kBase16Table[static_cast<unsigned char>(text[i + 1])];
    if (lo == 0xff) return bad_char("base16", text[i + 1], i + 1);
    out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
  }
  return out;
}

// ---- base64 -----------------------------------------------------------------------

std::string base64_encode(BytesView data, bool url, bool pad) {
  const char* alphabet = url ? kBase64Url : kBase64Std;
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{data[i]} << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

Result<Bytes> base64_decode(std::string_view text, bool url, bool require_pad) {
  const char* name = url ? "base64url" : "base64";
  const Table& table = url ? kBase64UrlTable : kBase64StdTable;
  std::size_t len = text.size();
  std::size_t pads = 0;
  while (pads < len && pads < 3 && text[len - 1 - pads] == '=') ++pads;
  if (pads > 0) {
    if (len % 4 != 0 || pads > 2)
      return Error{errc::parse_error, std::string(name) + ": invalid padding"};
    len -= pads;
  } else if (require_pad && len % 4 != 0) {
    return Error{errc::parse_error, std::string(name) + ": missing padding"};
  }
  if (len % 4 == 1)
    return Error{errc::parse_error, std::string(name) + ": invalid length " + std::to_string(text.size())};
  Bytes out;
  out.reserve(len * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const std::uint8_t v = table[static_cast<unsigned char>(text[i])];
    if (v == 0xff) return bad_char(name, text[i], i);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
    acc &= (1u << bits) - 1;
  }
  if (acc != 0) return Error{errc::parse_error, std::string(name) + ": non-zero trailing bits"};
  return out;
}

// ---- multibase ----------------------------------------------------------------------

std::string encode(Base base, BytesView data) {
  std::string out(1, static_cast<char>(base));
  switch (base) {
    case Base::base58btc: out += base58btc_encode(data); break;
    case Base::base32: out += base32_encode(data, false, false); break;
    case Base::base32upper: out += base32_encode(data, true, false); break;
    case Base::base16: out += base16_encode(data, false); break;
    case Base::base16upper: out += base16_encode(data, true); break;
    case Base::base64: out += base64_encode(data, false, false); break;
    case Base::base64pad: out += base64_encode(data, false, true); break;
    case Base::base64url: out += base64_encode(data, true, false); break;
    case Base::base64urlpad: out += base64_encode(data, true, true); break;
  }
  return out;
}

Result<Bytes> decode(std::string_view text) {
  if (text.empty()) return Error{errc::parse_error, "multibase: empty string"};
  const std::string_view body = text.substr(1);
  const char prefix = text[0];
  switch (prefix) {
    case 'z': return base58btc_decode(body);
    case 'b':
    case 'B': return base32_decode(body, false);
    case 'f':
    case 'F': return base16_decode(body);
    case 'm': return base64_decode(body, false, false);
    case 'M': return base64_decode(body, false, true);
    case 'u': return base64_decode(body, true, false);
    case 'U': return base64_decode(body, true, true);
    default: break;
  }
  // Prefixes in the multibase table that weft does not implement.
  static constexpr std::string_view kKnown = "0579vVtTcChkKZp";
  if (kKnown.find(prefix) != std::string_view::npos ||
      text.substr(0, 4) == "\xF0\x9F\x9A\x80" /* base256emoji */)
    return Error{errc::unsupported, "multibase: unsupported base with prefix " + describe_char(prefix)};
  return Error{errc::parse_error, "multibase: unknown prefix " + describe_char(prefix)};
}

}  // namespace weft::multibase
