// Identify (/ipfs/id/1.0.0) and identify push (/ipfs/id/push/1.0.0), per
// libp2p/specs identify/README.md. The responder (or pusher) writes one
// varint-delimited protobuf message and closes the stream. Some peers split
// a large message in several (go-libp2p sends the signed peer record in a
// second one), so the reader merges messages until the end of the stream.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_channel.hpp"
#include "multiformats/multiaddr.hpp"

namespace weft::identify {

inline constexpr std::string_view kProtocol = "/ipfs/id/1.0.0";
inline constexpr std::string_view kPushProtocol = "/ipfs/id/push/1.0.0";
inline constexpr std::string_view kProtocolVersion = "ipfs/0.1.0";

struct Info {
  Bytes public_key;                      // protobuf-encoded PublicKey (may be empty)
  std::vector<Multiaddr> listen_addrs;
  std::vector<std::string> protocols;
  std::optional<Multiaddr> observed_addr;
  std::string protocol_version;
  std::string agent_version;
  Bytes signed_peer_record;              // kept opaque: an envelope we do not interpret yet
};

struct Config {
  std::size_t max_message_size = 8 * 1024;  // one message
  std::size_t max_messages = 4;             // messages merged into one Info
  std::size_t max_entries = 256;            // addresses or protocols per Info
};

Bytes encode(const Info& info);

// Merges one message into `info` (repeated fields append, scalars replace).
// Addresses that do not parse are skipped: a peer may list transports weft
// does not know, which is not an error.
Status decode_into(BytesView message, Info& info, const Config& config = {});

// Writes `info` as one delimited message, then closes the write side.
Task<Status> send(ByteChannel& stream, Info info);

// Reads delimited messages until the remote closes, merging them.
Task<Result<Info>> receive(ByteChannel& stream, Config config = {});

}  // namespace weft::identify
