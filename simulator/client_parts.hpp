#pragma once
// What each client trains under the scenario's algorithm: its subnet, its cut
// and whether a server trains the rest, its classifiers, RaFL's own network,
// and whether its memory excludes it. Torch-free: decided from the
// architecture's analytic costs and the client's device.
#include "simulator/core/time.hpp"
#include "simulator/scenario.hpp"
#include "supernet/architecture.hpp"

#include <optional>
#include <vector>

namespace sflsim::cli {

struct ClientProfile {
  int tier = 0;
  double memory_gb = 0;
  int64_t flops_per_s = 0;
  int64_t up_bps = 0;
  int64_t down_bps = 0;
  core::SimDuration latency{};
  int cut = 1;                    // units 1..cut on the client
  bool split = true;              // a server trains units cut+1..L (false: the client trains alone)
  supernet::SubnetConfig config;  // the client's subnet (HeteroFL: narrower; RaFL: the knowledge network)
  std::vector<int> head_cuts;     // its local classifiers (SuperSFL: at the cut; DepthFL: its exits)
  std::optional<supernet::SubnetConfig> own_config;  // RaFL: the client's own network (units 1..own_depth)
  int own_depth = 0;
  bool excluded = false;          // its memory cannot hold its part: never selected
  int64_t memory_needed = 0;      // bytes, training_memory_bytes of its part
};

// Fills cut, split, config, head_cuts, own_config/own_depth, memory_needed and
// excluded of every profile (device fields must be set). Returns the subnet
// the server evaluates: the whole supernet, or RaFL's knowledge network.
// Throws ScenarioError for a cut outside the supernet.
supernet::SubnetConfig assign_parts(const Scenario& scenario, const supernet::Architecture& arch,
                                    std::vector<ClientProfile>& profiles);

// Forward FLOPs per sample of a standalone network: units 1..depth of
// `config`, plus a local head when depth is short of the classifier (RaFL's
// own networks).
int64_t network_flops(const supernet::Architecture& arch, const supernet::SubnetConfig& config, int depth);

// The last unit of every stage (DepthFL's exits, RaFL's depth choices), ascending.
std::vector<int> stage_end_units(const supernet::Architecture& arch);

}  // namespace sflsim::cli
