#pragma once
// A subnet of the supernet as a small value: how many units deep it is and how
// wide each stage is. Torch-free, so the simulator can reason about subnets.
#include <array>
#include <string>

namespace sflsim::supernet {

inline constexpr int kStages = 4;

struct SubnetConfig {
  // Units 1..depth of the supernet (1 = stem, then one unit per BasicBlock,
  // last = pool + classifier). depth == unit_count() is the whole network.
  int depth = 0;
  // Per stage, the fraction of the supernet's channels kept (leading slice).
  std::array<double, kStages> width{1.0, 1.0, 1.0, 1.0};

  friend bool operator==(const SubnetConfig&, const SubnetConfig&) = default;
  std::string to_string() const;
};

}  // namespace sflsim::supernet
