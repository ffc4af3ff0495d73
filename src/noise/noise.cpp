#include "noise/noise.hpp"

#include <algorithm>

#include "noise/handshake_state.hpp"
#include "noise/payload.hpp"

namespace weft {
namespace {

using noise::XXHandshake;

// Fixed bytes of each XX message around its payload: message 1 is e;
// message 2 is e, encrypted s, payload tag; message 3 is encrypted s, payload tag.
constexpr std::size_t kMessageOverhead[3] = {
    noise::kDhLen,
    noise::kDhLen * 2 + noise::kTagLen * 2,
    noise::kDhLen + noise::kTagLen * 2,
};

struct RemoteIdentity {
  PeerId peer;
  PublicKey key;
  std::vector<std::string> muxers;
};

struct Outcome {
  XXHandshake::TransportCiphers ciphers;
  RemoteIdentity remote;
};

Error with_context(Error e, std::string_view context) {
  e.detail = std::string(context) + ": " + e.detail;
  return e;
}

Result<Bytes> make_payload(const Identity& local, const crypto::SignedX25519Key& static_key,
                           const NoiseConfig& cfg) {
  noise::HandshakePayload p;
  p.identity_key = local.public_key().encode();
  p.identity_sig.assign(static_key.signature.begin(), static_key.signature.end());
  p.stream_muxers = cfg.muxers;
  Bytes encoded = p.encode();
  if (encoded.size() > noise::kMaxMessageSize - kMessageOverhead[1])
    return Error{errc::invalid_argument, "noise: our handshake payload would be " +
                                             std::to_string(encoded.size()) +
                                             " bytes, too large for a Noise message"};
  return encoded;
}

Result<RemoteIdentity> verify_payload(BytesView payload, const noise::Key& remote_static,
                                      const PeerId* expected, const NoiseConfig& cfg) {
  WEFT_TRY(noise::HandshakePayload p, noise::HandshakePayload::decode(payload));
  auto key = PublicKey::decode(p.identity_key);
  if (!key) return with_context(std::move(key).error(), "noise: remote identity key");
  noise::VerifiedSignatures* verified = cfg.verified_signatures.get();
  if (verified == nullptr || !verified->contains(p.identity_key, remote_static, p.identity_sig)) {
    Bytes signed_msg(noise::kStaticKeySignaturePrefix.begin(),
                     noise::kStaticKeySignaturePrefix.end());
    append(signed_msg, remote_static);
    if (auto st = key->verify(signed_msg, p.identity_sig); !st)
      return with_context(std::move(st).error(), "noise: remote static key signature");
    if (verified != nullptr) verified->insert(p.identity_key, remote_static, p.identity_sig);
  }
  PeerId id = crypto::peer_id_from_public_key(*key);
  if (expected != nullptr && *expected != id)
    return Error{errc::peer_id_mismatch, "noise: dialled " + expected->to_string() +
                                             " but the remote is " + id.to_string()};
  return RemoteIdentity{std::move(id), std::move(*key), std::move(p.stream_muxers)};
}

std::string agree_muxer(const std::vector<std::string>& initiator_list,
                        const std::vector<std::string>& responder_list) {
  for (const std::string& m : initiator_list) {
    if (m.empty()) continue;
    if (std::find(responder_list.begin(), responder_list.end(), m) != responder_list.end())
      return m;
  }
  return {};
}

// Writes the next handshake message, framed with its 2-byte length.
Task<Status> send_message(ByteChannel& raw, XXHandshake& hs, BytesView payload) {
  const int index = hs.step() + 1;
  Bytes frame(2);
  WEFT_CO_CHECK(hs.write_message(payload, frame));
  const std::size_t len = frame.size() - 2;
  if (len > noise::kMaxMessageSize)
    co_return Error{errc::invalid_argument, "noise: handshake message " + std::to_string(index) +
                                                " would exceed 65535 bytes"};
  frame[0] = static_cast<std::uint8_t>(len >> 8);
  frame[1] = static_cast<std::uint8_t>(len);
  auto st = co_await raw.write_all(frame);
  if (!st)
    co_return with_context(std::move(st).error(),
                           "noise: sending handshake message " + std::to_string(index));
  co_return Status{};
}

// Reads the next handshake message (bounded before reading its body) and
// processes it; the decrypted payload replaces `payload`.
Task<Status> receive_message(ByteChannel& raw, XXHandshake& hs, const NoiseConfig& cfg,
                             Bytes& payload) {
  const int index = hs.step() + 1;
  const std::string context = "noise: receiving handshake message " + std::to_string(index);
  std::uint8_t header[2];
  if (auto st = co_await raw.read_exact(header); !st)
    co_return with_context(std::move(st).error(), context);
  const std::size_t len = static_cast<std::size_t>(header[0]) << 8 | header[1];
  const std::size_t overhead = kMessageOverhead[hs.step()];
  if (len > overhead + cfg.max_payload_size)
    co_return Error{errc::limit_exceeded,
                    context + ": " + std::to_string(len) + " bytes exceeds the payload limit (" +
                        std::to_string(cfg.max_payload_size) + " + " + std::to_string(overhead) +
                        " bytes)"};
  Bytes message(len);
  if (auto st = co_await raw.read_exact(message); !st)
    co_return with_context(std::move(st).error(), context);
  co_return hs.read_message(message, payload);
}

Task<Result<Outcome>> run_handshake(ByteChannel& raw, const Identity& local, bool initiator,
                                    const PeerId* expected, const NoiseConfig& cfg) {
  // One static key per identity (so per node), signed once: generating and
  // signing a key for every connection would add two of the handshake's most
  // expensive operations. The ephemeral key stays fresh per connection, so
  // every session still gets its own keys.
  const crypto::SignedX25519Key static_key =
      local.signed_x25519_key(noise::kStaticKeySignaturePrefix);
  std::optional<crypto::X25519KeyPair> ephemeral;
  if (cfg.ephemeral_keys) ephemeral = cfg.ephemeral_keys->take();
  XXHandshake hs(initiator, static_key.key, /*prologue=*/{}, ephemeral);
  // Our first message is out and the remote's answer takes at least a round
  // trip: the time to make the next handshake's ephemeral key.
  auto replenish = [&cfg] {
    if (cfg.ephemeral_keys) cfg.ephemeral_keys->replenish();
  };
  WEFT_CO_TRY(Bytes our_payload, make_payload(local, static_key, cfg));
  Bytes payload;
  RemoteIdentity remote;
  if (initiator) {
    WEFT_CO_CHECK(co_await send_message(raw, hs, {}));
    replenish();
    if (cfg.before_message_2) {
      auto before = cfg.before_message_2(raw);
      WEFT_CO_CHECK(co_await std::move(before));
    }
    WEFT_CO_CHECK(co_await receive_message(raw, hs, cfg, payload));
    // The responder is authenticated before we reveal who we are.
    WEFT_CO_TRY(remote, verify_payload(payload, hs.remote_static(), expected, cfg));
    WEFT_CO_CHECK(co_await send_message(raw, hs, our_payload));
  } else {
    WEFT_CO_CHECK(co_await receive_message(raw, hs, cfg, payload));  // its payload is unused
    WEFT_CO_CHECK(co_await send_message(raw, hs, our_payload));
    replenish();
    WEFT_CO_CHECK(co_await receive_message(raw, hs, cfg, payload));
    WEFT_CO_TRY(remote, verify_payload(payload, hs.remote_static(), expected, cfg));
  }
  co_return Outcome{hs.split(), std::move(remote)};
}

}  // namespace

Task<Result<SecureConnection>> noise_handshake(std::unique_ptr<ByteChannel> raw,
                                               const Identity& local, bool initiator,
                                               const PeerId* expected_remote, NoiseConfig cfg) {
  if (!raw) co_return Error{errc::invalid_argument, "noise: no channel to secure"};
  auto outcome = co_await run_handshake(*raw, local, initiator, expected_remote, cfg);
  if (!outcome) {
    // A failed handshake must not look like a completed connection to the remote.
    raw->abort();
    co_return std::move(outcome).error();
  }
  Outcome o = std::move(outcome).value();
  SecureConnection conn;
  conn.early_muxer = initiator ? agree_muxer(cfg.muxers, o.remote.muxers)
                               : agree_muxer(o.remote.muxers, cfg.muxers);
  conn.remote_peer = std::move(o.remote.peer);
  conn.remote_key = std::move(o.remote.key);
  conn.channel = std::make_unique<noise::NoiseChannel>(std::move(raw), std::move(o.ciphers.send),
                                                       std::move(o.ciphers.recv));
  co_return conn;
}

}  // namespace weft
