#pragma once
// The pieces strategies build clients' parts from: cut rules, stage ends and
// RaFL's own-network draws. Torch-free: the architecture's analytic costs only.
#include "server/client_profile.hpp"
#include "simulator/core/rng.hpp"
#include "supernet/architecture.hpp"
#include "supernet/batch_charges.hpp"

#include <cstdint>
#include <utility>
#include <vector>

namespace sflsim::server {

struct CutRule;

// The cut `rule` gives a client with memory `memory_gb` and link latency
// `latency` among clients whose latencies span [latency_min, latency_max],
// training batches of `batch_size`. Throws std::invalid_argument naming
// $.algorithm.cut.fixed for a fixed cut outside 1..L-1.
int allocate_cut(const CutRule& rule, const supernet::Architecture& arch, int batch_size, double memory_gb,
                 core::SimDuration latency, core::SimDuration latency_min, core::SimDuration latency_max);

// The deepest cut d in 1..L-1 whose prefix 1..d trains within `memory_gb` at
// `batch_size` (1 if even the first unit does not fit).
int memory_cut(const supernet::Architecture& arch, int batch_size, double memory_gb);

using supernet::network_flops;  // RaFL's own networks: supernet/batch_charges.hpp

// The last unit of every stage (DepthFL's exits, RaFL's depth choices), ascending.
std::vector<int> stage_end_units(const supernet::Architecture& arch);

// RaFL: a random subnet (depth at a stage end or the full network, a width
// level per stage) whose forward cost is within [budget / 2, budget]; after
// 1000 draws the largest one seen under budget, else the smallest there is.
std::pair<supernet::SubnetConfig, int> sample_own_network(const supernet::Architecture& arch, int64_t budget,
                                                          core::RngStream& rng);

}  // namespace sflsim::server
