// libp2p's Noise secure channel (libp2p specs, noise/README.md):
// Noise_XX_25519_ChaChaPoly_SHA256 with an empty prologue, 2-byte big-endian
// length-prefixed messages, and the signed handshake payload that binds each
// side's Noise static key to its libp2p identity.
//
//   auto conn = co_await noise_handshake(std::move(tcp), identity, true, &peer, cfg);
//   conn->channel->write_all(...);   // encrypted
//
// Protocol id for multistream-select: kNoiseProtocolId ("/noise").
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_channel.hpp"
#include "crypto/keys.hpp"
#include "noise/ephemeral_keys.hpp"
#include "noise/noise_channel.hpp"
#include "noise/verified_signatures.hpp"

namespace weft {

inline constexpr std::string_view kNoiseProtocolId = "/noise";

struct NoiseConfig {
  // Advertised in the handshake payload for early muxer negotiation, most
  // preferred first (e.g. {"/yamux/1.0.0"}). Empty: nothing is advertised.
  std::vector<std::string> muxers;
  // Bound on the remote's handshake payload (its identity key, signature and
  // extensions); a larger one fails the handshake with limit_exceeded.
  std::size_t max_payload_size = 8192;
  // Initiator only, optional: runs on the raw channel after message 1 is
  // sent and before message 2 is read. Connection setup proposes "/noise"
  // optimistically and sends message 1 right behind the proposal (a round
  // trip sooner); this reads the listener's answer, which arrives first.
  std::function<Task<Status>(ByteChannel&)> before_message_2;
  // Remote signatures already verified (see verified_signatures.hpp): a
  // remote presenting one again is not verified again. Null: always verify.
  std::shared_ptr<noise::VerifiedSignatures> verified_signatures;
  // Spare ephemeral keys (see ephemeral_keys.hpp): the handshake takes one
  // and makes the next while it waits for the remote. Null: each handshake
  // generates its own when it needs it.
  std::shared_ptr<noise::EphemeralKeys> ephemeral_keys;
};

struct SecureConnection {
  std::unique_ptr<ByteChannel> channel;  // the encrypted transport (owns the raw channel)
  PeerId remote_peer;
  PublicKey remote_key;
  // The agreed muxer if both sides listed muxers: the first entry of the
  // INITIATOR's list that the responder also lists; empty otherwise.
  std::string early_muxer;
};

// Runs the handshake over `raw` as initiator (the dialer) or responder.
// `expected_remote` (may be null) is the peer the caller dialled: any other
// identity fails with errc::peer_id_mismatch.
//
// Errors: peer_id_mismatch; crypto_error (bad signature, failed decryption,
// low-order key); parse_error (malformed payload or identity key);
// unsupported (remote identity key type weft cannot verify); limit_exceeded
// (oversized payload); protocol_error (malformed handshake message); and the
// raw channel's own errors (eof when the remote closes mid-handshake). On any
// failure the raw channel is aborted.
//
// The handshake has no timer of its own: the caller bounds it (e.g. with a
// deadline that aborts `raw`, or per-operation cancellation). `local` and
// `*expected_remote` must outlive the returned task; `cfg` is copied, since
// a task may start running after the caller's temporaries are gone.
Task<Result<SecureConnection>> noise_handshake(std::unique_ptr<ByteChannel> raw,
                                               const Identity& local, bool initiator,
                                               const PeerId* expected_remote, NoiseConfig cfg);

}  // namespace weft
