#include "simulator/core/network_profiles.hpp"

#include <array>
#include <stdexcept>

namespace sflsim::core {
namespace {

constexpr std::int64_t kMs = 1'000'000;  // ns
constexpr std::int64_t kUs = 1'000;      // ns

// Typical ranges of sustained throughput and one-way latency to a nearby
// server, in the spirit of FedScale's device traces; a scenario that needs
// other numbers passes its own NetworkProfile.
const std::array<NetworkProfile, 5> kProfiles{{
    {"3g", {kbps(400), mbps(2)}, {mbps(1), mbps(7)}, {80 * kMs, 200 * kMs}},
    {"4g", {mbps(5), mbps(20)}, {mbps(20), mbps(80)}, {25 * kMs, 60 * kMs}},
    {"5g", {mbps(20), mbps(100)}, {mbps(100), mbps(800)}, {5 * kMs, 20 * kMs}},
    {"wifi", {mbps(20), mbps(100)}, {mbps(50), mbps(300)}, {2 * kMs, 10 * kMs}},
    {"lan", {gbps(1), gbps(1)}, {gbps(1), gbps(1)}, {200 * kUs, 500 * kUs}},
}};

}  // namespace

std::span<const NetworkProfile> builtin_network_profiles() { return kProfiles; }

const NetworkProfile& network_profile(std::string_view name) {
  for (const NetworkProfile& p : kProfiles) {
    if (p.name == name) return p;
  }
  std::string known;
  for (const NetworkProfile& p : kProfiles) known += (known.empty() ? "" : ", ") + p.name;
  throw std::invalid_argument("unknown network profile '" + std::string(name) + "' (known: " + known + ")");
}

ClientNetwork draw_client_network(const NetworkProfile& profile, RngStream& rng) {
  ClientNetwork n;
  n.up_bps = rng.uniform_int(profile.up_bps.min, profile.up_bps.max);
  n.down_bps = rng.uniform_int(profile.down_bps.min, profile.down_bps.max);
  n.latency = SimDuration{rng.uniform_int(profile.latency_ns.min, profile.latency_ns.max)};
  return n;
}

}  // namespace sflsim::core
