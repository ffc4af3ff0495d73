// Fuzzes multibase decoding (and the raw codecs): anything that decodes must
// re-encode, in every base, to text that decodes to the same bytes; for the
// case-sensitive bases the canonical re-encoding is the input itself.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "multiformats/multibase.hpp"

namespace {

using weft::multibase::Base;

constexpr Base kBases[] = {Base::base58btc, Base::base32,  Base::base32upper, Base::base16,       Base::base16upper,
                           Base::base64,    Base::base64pad, Base::base64url, Base::base64urlpad};

void check_round_trips(const weft::Bytes& bytes) {
  for (Base b : kBases) {
    const std::string text = weft::multibase::encode(b, bytes);
    auto again = weft::multibase::decode(text);
    if (!again.ok() || *again != bytes) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = weft::multibase::decode(text);
  if (r.ok()) {
    check_round_trips(*r);
    // base58btc and unpadded base64 / base64url have exactly one spelling.
    const char p = text[0];
    if (p == 'z' || p == 'U' || p == 'M' ||
        ((p == 'u' || p == 'm') && text.find('=') == std::string_view::npos)) {
      if (weft::multibase::encode(static_cast<Base>(p), *r) != text) __builtin_trap();
    }
  } else if (r.code() != weft::errc::parse_error && r.code() != weft::errc::unsupported) {
    __builtin_trap();
  }
  // The raw codecs on the same input (no prefix).
  if (auto b = weft::multibase::base58btc_decode(text); b.ok() && weft::multibase::base58btc_encode(*b) != text)
    __builtin_trap();
  if (auto b = weft::multibase::base32_decode(text, true); b.ok()) check_round_trips(*b);
  if (auto b = weft::multibase::base16_decode(text); b.ok()) check_round_trips(*b);
  if (auto b = weft::multibase::base64_decode(text, false); b.ok()) check_round_trips(*b);
  if (auto b = weft::multibase::base64_decode(text, true, true); b.ok()) check_round_trips(*b);
  // Encoding arbitrary bytes always decodes back.
  if (size <= 512) check_round_trips(weft::Bytes(data, data + size));
  return 0;
}
