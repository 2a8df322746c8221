#include "simulator/core/time.hpp"

#include <cstdio>

namespace sflsim::core {

std::string to_string(SimDuration d) {
  const std::int64_t ns = d.count();
  const std::uint64_t magnitude = ns < 0 ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%s%llu.%09llus", ns < 0 ? "-" : "",
                static_cast<unsigned long long>(magnitude / 1'000'000'000),
                static_cast<unsigned long long>(magnitude % 1'000'000'000));
  return buffer;
}

std::string to_string(SimTime t) {
  if (t == kNever) return "never";
  return to_string(t.time_since_epoch());
}

}  // namespace sflsim::core
