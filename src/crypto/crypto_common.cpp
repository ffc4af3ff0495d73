// Backend-independent parts of crypto.hpp.
#include "crypto/crypto.hpp"

namespace weft::crypto {

ChaChaPoly::Nonce ChaChaPoly::noise_nonce(std::uint64_t n) {
  // Noise (section 5.1, ChaChaPoly): 32 bits of zeros, then the 64-bit
  // counter little-endian.
  Nonce nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
  return nonce;
}

void ChaChaPoly::seal(std::uint64_t nonce, BytesView ad, BytesView in, MutableBytesView out) {
  seal(noise_nonce(nonce), ad, in, out);
}

bool ChaChaPoly::open(std::uint64_t nonce, BytesView ad, BytesView in, MutableBytesView out) {
  return open(noise_nonce(nonce), ad, in, out);
}

Ed25519KeyPair ed25519_generate() {
  std::array<std::uint8_t, 32> seed{};
  random_bytes(seed);
  return ed25519_from_seed(seed);
}

}  // namespace weft::crypto
