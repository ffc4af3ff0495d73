#include "core/live.hpp"

namespace weft {

namespace {
std::atomic<std::int64_t> counters[kLiveKinds + 1];
}

std::atomic<std::int64_t>& detail::live_counter(Live kind) noexcept {
  int i = static_cast<int>(kind);
  return counters[(i >= 1 && i <= kLiveKinds) ? i : 0];
}

std::uint64_t live_count(Live kind) noexcept {
  int i = static_cast<int>(kind);
  if (i < 1 || i > kLiveKinds) return 0;
  auto v = counters[i].load(std::memory_order_relaxed);
  return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}

}  // namespace weft
