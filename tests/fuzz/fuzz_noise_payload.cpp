// Fuzzes the Noise handshake payload decoder and the identity key decoder it
// feeds: whatever decodes must re-encode and decode again to the same fields.
#include <cstddef>
#include <cstdint>

#include "crypto/keys.hpp"
#include "noise/payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const weft::BytesView in(data, size);
  auto p = weft::noise::HandshakePayload::decode(in);
  if (p.ok()) {
    auto again = weft::noise::HandshakePayload::decode(p->encode());
    if (!again.ok() || again->identity_key != p->identity_key ||
        again->identity_sig != p->identity_sig || again->stream_muxers != p->stream_muxers ||
        again->webtransport_certhashes != p->webtransport_certhashes)
      __builtin_trap();
  }
  // The identity key decoder on the raw input as well as on the decoded key.
  for (weft::BytesView key : {in, p.ok() ? weft::BytesView(p->identity_key) : weft::BytesView{}}) {
    auto k = weft::PublicKey::decode(key);
    if (!k.ok()) continue;
    auto k2 = weft::PublicKey::decode(k->encode());
    if (!k2.ok() || !(*k2 == *k)) __builtin_trap();
    const weft::PeerId id = weft::crypto::peer_id_from_public_key(*k);
    if (!id.valid()) __builtin_trap();
    // Verification of a junk signature never succeeds.
    if (k->verify(key, weft::Bytes(64, 0)).ok()) __builtin_trap();
  }
  return 0;
}
