// Fuzzes PeerId parsing (base58 multihash and CIDv1 text) and
// PeerId::from_multihash: whatever is accepted must print, in both text
// forms, as text that parses back to the same PeerId.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "multiformats/peer_id.hpp"

namespace {

void check(const weft::PeerId& id) {
  if (!id.valid()) __builtin_trap();
  auto a = weft::PeerId::parse(id.to_base58());
  if (!a.ok() || *a != id) __builtin_trap();
  auto b = weft::PeerId::parse(id.to_cid());
  if (!b.ok() || *b != id) __builtin_trap();
  auto c = weft::PeerId::from_multihash(id.multihash());
  if (!c.ok() || *c != id) __builtin_trap();
  const auto key = id.inline_public_key();
  if (!key.empty() && (key.size() > 128 || id.multihash()[0] != 0x00)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto id = weft::PeerId::parse(text); id.ok()) {
    check(*id);
    // Legacy base58 text is canonical: it must print back exactly.
    if ((text[0] == '1' || text[0] == 'Q') && id->to_base58() != text) __builtin_trap();
  } else if (id.code() != weft::errc::parse_error && id.code() != weft::errc::unsupported) {
    __builtin_trap();
  }
  if (auto id = weft::PeerId::from_multihash(weft::BytesView(data, size)); id.ok()) {
    check(*id);
    if (id->multihash() != weft::Bytes(data, data + size)) __builtin_trap();
  }
  return 0;
}
