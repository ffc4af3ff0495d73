// Multihash: <varint hash-function code><varint digest length><digest>,
// per https://github.com/multiformats/multihash.
//
// weft knows two hash functions, the ones peer ids use: identity (0x00, the
// "digest" is the data itself, at most kMaxIdentityDigestSize bytes to bound
// memory) and sha2-256 (0x12, exactly 32 bytes). decode() rejects any other
// code with errc::unsupported; decode_any() checks only the structure (for
// values such as /certhash/ whose hash function is not weft's concern).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace weft::multihash {

inline constexpr std::uint64_t kIdentity = 0x00;
inline constexpr std::uint64_t kSha2_256 = 0x12;

inline constexpr std::size_t kSha2_256Size = 32;
// Largest identity "digest" accepted (an inlined public key is ~36 bytes).
inline constexpr std::size_t kMaxIdentityDigestSize = 128;
// Largest digest decode_any() accepts, whatever the code (sha2-512 is 64).
inline constexpr std::size_t kMaxDigestSize = 128;

struct View {
  std::uint64_t code = 0;
  BytesView digest;      // a view into the decoded input
  std::size_t size = 0;  // bytes the whole multihash occupies
};

// Decodes the multihash at the start of `in`; bytes after it are left alone
// (View::size says where it ends).
//   parse_error  -> truncated, bad varint, wrong digest length for the code
//   unsupported  -> a well-formed multihash with a code other than identity / sha2-256
Result<View> decode_prefix(BytesView in);
// Like decode_prefix, but `in` must be exactly one multihash.
Result<View> decode(BytesView in);
// Structure only: any code, digest at most kMaxDigestSize; `in` must be
// exactly one multihash.
Result<View> decode_any(BytesView in);

// Encodes; the same rules as decode() (so encode(...) always decodes).
Result<Bytes> encode(std::uint64_t code, BytesView digest);

}  // namespace weft::multihash
