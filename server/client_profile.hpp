#pragma once
// One client as its strategy sees it: the device and links it has (set by the
// runner from the scenario), the part its strategy gives it, and that part's
// costs at nominal speeds. Torch-free: decided from the architecture's
// analytic costs. Filled once per run; read-only while the rounds run.
#include "simulator/core/time.hpp"
#include "supernet/subnet_config.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace sflsim::server {

struct ClientProfile {
  // The device and its links (the runner's).
  int tier = 0;
  double memory_gb = 0;
  int64_t flops_per_s = 0;
  int64_t up_bps = 0;
  int64_t down_bps = 0;
  core::SimDuration latency{};
  int64_t samples = 0;  // trained per round, local epochs included

  // The part (Strategy::assign_parts).
  int cut = 1;                    // units 1..cut on the client
  bool split = true;              // a server trains units cut+1..L (false: the client trains alone)
  supernet::SubnetConfig config;  // the client's subnet (HeteroFL: narrower; RaFL: the knowledge network)
  std::vector<int> head_cuts;     // its local classifiers (SuperSFL: at the cut; DepthFL: its exits)
  std::optional<supernet::SubnetConfig> own_config;  // RaFL: the client's own network (units 1..own_depth)
  int own_depth = 0;
  bool excluded = false;          // its memory cannot hold its part: never selected
  int64_t memory_needed = 0;      // bytes, training_memory_bytes of its part

  // Costs of the part without contention (Strategy::assign_parts).
  core::SimDuration nominal_round_time{};
  core::SimDuration gradient_timeout{};  // per batch, from when its activations are sent (split clients)
};

}  // namespace sflsim::server
