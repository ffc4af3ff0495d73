// Fuzzes identify message decoding (protobuf fields, embedded multiaddrs).
#include <cstddef>
#include <cstdint>

#include "protocols/identify.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  weft::identify::Info info;
  if (weft::identify::decode_into(weft::BytesView(data, size), info).ok()) {
    // Whatever decoded must encode and decode again to the same fields.
    weft::identify::Info again;
    auto st = weft::identify::decode_into(weft::identify::encode(info), again);
    if (!st.ok() || again.protocols != info.protocols || again.agent_version != info.agent_version ||
        again.listen_addrs.size() != info.listen_addrs.size())
      __builtin_trap();
  }
  return 0;
}
