#pragma once
// Named network profiles as data: up/down bandwidth and latency ranges per
// access technology, and the per-client draw from them.
//
// A client's link parameters are drawn uniformly from each range with the
// client's own RNG stream (seed, client, "network"), in integer bit/s and
// nanoseconds, so adding a client never changes another client's network.
#include "simulator/core/bandwidth.hpp"
#include "simulator/core/rng.hpp"
#include "simulator/core/time.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sflsim::core {

struct IntRange {
  std::int64_t min = 0;
  std::int64_t max = 0;  // inclusive; min == max for a fixed value
};

struct NetworkProfile {
  std::string name;
  IntRange up_bps;      // client -> server
  IntRange down_bps;    // server -> client
  IntRange latency_ns;  // one way
};

// What one client gets from a profile.
struct ClientNetwork {
  std::int64_t up_bps = 0;
  std::int64_t down_bps = 0;
  SimDuration latency{};
};

// The built-in profiles: 3g, 4g, 5g, wifi, lan (values in network_profiles.cpp).
std::span<const NetworkProfile> builtin_network_profiles();
// Throws std::invalid_argument naming the known profiles if `name` is unknown.
const NetworkProfile& network_profile(std::string_view name);
// One client's draw; three draws from `rng` in the order up, down, latency.
ClientNetwork draw_client_network(const NetworkProfile& profile, RngStream& rng);

}  // namespace sflsim::core
