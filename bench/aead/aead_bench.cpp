// weft-aead-bench [--seconds S]: the single-core ChaCha20-Poly1305 rate of the crypto backend
// weft is built with, through weft's own ChaChaPoly wrapper, on full Noise transport frames
// (65519 plaintext bytes + 16-byte tag = the 65535-byte maximum Noise message). One thread, so
// the figure is the per-core bound on what one encrypted connection can carry each way.
//
// Prints one JSON line: {"backend":..., "frame_bytes":..., "seal_bytes_per_s":...,
// "seal_parts_bytes_per_s":..., "open_bytes_per_s":...} (plaintext bytes per second).
// seal_parts is the sender's bulk path: a 12-byte Yamux header and the payload sealed as one
// frame from two buffers.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "crypto/crypto.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using weft::crypto::ChaChaPoly;

constexpr std::size_t kFramePlaintext = 65535 - ChaChaPoly::kTagSize;

struct Rate {
  double bytes_per_second = 0;
  std::uint64_t frames = 0;
};

// Calls `one_frame(i)` until `seconds` have passed (checking the clock every 64 frames, so the
// clock is not what is measured) and returns the plaintext rate.
template <typename OneFrame>
Rate measure(double seconds, OneFrame one_frame) {
  Rate rate;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  auto now = start;
  do {
    for (int i = 0; i < 64; ++i) one_frame(rate.frames++);
    now = Clock::now();
  } while (now < until);
  const double elapsed = std::chrono::duration<double>(now - start).count();
  rate.bytes_per_second = static_cast<double>(rate.frames * kFramePlaintext) / elapsed;
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1.0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      char* end = nullptr;
      seconds = std::strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0' || seconds <= 0 || seconds > 600) {
        std::fprintf(stderr, "weft-aead-bench: --seconds needs a number in (0, 600]\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: weft-aead-bench [--seconds S]\n");
      return 2;
    }
  }

  std::array<std::uint8_t, 32> key{};
  weft::crypto::random_bytes(key);
  ChaChaPoly aead(key);
  const std::vector<std::uint8_t> no_ad;

  // Seal: in place, a new nonce per frame, as the Noise sender does.
  std::vector<std::uint8_t> frame(kFramePlaintext + ChaChaPoly::kTagSize);
  weft::crypto::random_bytes(frame);
  const weft::MutableBytesView whole(frame);
  const Rate seal = measure(seconds, [&](std::uint64_t n) {
    aead.seal(n, no_ad, whole.first(kFramePlaintext), whole);
  });

  // Seal in two parts, as the Noise sender seals bulk data: a Yamux header gathered in Noise's
  // buffer and the payload sealed straight from the caller's memory into the frame.
  constexpr std::size_t kYamuxHeader = 12;
  std::vector<std::uint8_t> header(kYamuxHeader);
  std::vector<std::uint8_t> payload(kFramePlaintext - kYamuxHeader);
  weft::crypto::random_bytes(header);
  weft::crypto::random_bytes(payload);
  const Rate seal_parts = measure(seconds, [&](std::uint64_t n) {
    aead.seal_parts(n, no_ad, {weft::BytesView(header), weft::BytesView(payload)}, whole);
  });

  // Open: one valid ciphertext authenticated and decrypted again and again (same nonce, into a
  // separate buffer so the ciphertext survives); the work per frame is the receiver's.
  std::vector<std::uint8_t> ciphertext(kFramePlaintext + ChaChaPoly::kTagSize);
  std::vector<std::uint8_t> plaintext(kFramePlaintext);
  aead.seal(0, no_ad, weft::BytesView(frame).first(kFramePlaintext), ciphertext);
  bool all_authentic = true;
  const Rate open = measure(seconds, [&](std::uint64_t) {
    all_authentic &= aead.open(0, no_ad, ciphertext, plaintext);
  });
  if (!all_authentic) {
    std::fprintf(stderr, "weft-aead-bench: a frame failed authentication\n");
    return 1;
  }

  std::printf(
      "{\"backend\":\"%s\",\"frame_bytes\":%zu,\"seconds\":%.3f,"
      "\"seal_bytes_per_s\":%.0f,\"seal_parts_bytes_per_s\":%.0f,\"open_bytes_per_s\":%.0f}\n",
      weft::crypto::backend_name(), kFramePlaintext, seconds, seal.bytes_per_second,
      seal_parts.bytes_per_second, open.bytes_per_second);
  return 0;
}
