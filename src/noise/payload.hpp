// The libp2p Noise handshake payload (libp2p specs, noise/README.md), sent
// encrypted in handshake messages 2 and 3:
//
//   message NoiseExtensions {
//     repeated bytes webtransport_certhashes = 1;
//     repeated string stream_muxers = 2;
//   }
//   message NoiseHandshakePayload {
//     bytes identity_key = 1;        // a libp2p PublicKey protobuf
//     bytes identity_sig = 2;        // over "noise-libp2p-static-key:" + static key
//     NoiseExtensions extensions = 4;
//   }
//
// Decoding is a bounded, allocation-light parser of network input (fuzzed in
// tests/fuzz/fuzz_noise_payload.cpp); the caller bounds the input size.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace weft::noise {

// The prefix of the signed message that binds the Noise static key to the
// libp2p identity.
inline constexpr std::string_view kStaticKeySignaturePrefix = "noise-libp2p-static-key:";

struct HandshakePayload {
  Bytes identity_key;
  Bytes identity_sig;
  std::vector<Bytes> webtransport_certhashes;
  std::vector<std::string> stream_muxers;

  Bytes encode() const;
  // parse_error on malformed protobuf, wrong wire types, or a missing
  // identity_key / identity_sig. Unknown fields (including the legacy
  // `data = 3`) are ignored.
  static Result<HandshakePayload> decode(BytesView in);
};

}  // namespace weft::noise
