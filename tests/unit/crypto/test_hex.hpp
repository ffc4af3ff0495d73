// Hex helpers for the crypto and key tests.
#pragma once

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

#include "core/bytes.hpp"

namespace weft::test {

inline Bytes unhex(std::string_view s) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("bad hex digit");
  };
  Bytes out;
  out.reserve(s.size() / 2);
  for (std::size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(s[i]) << 4 | nibble(s[i + 1])));
  return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> unhex_array(std::string_view s) {
  Bytes b = unhex(s);
  if (b.size() != N) throw std::invalid_argument("hex length");
  std::array<std::uint8_t, N> a{};
  std::copy(b.begin(), b.end(), a.begin());
  return a;
}

}  // namespace weft::test
