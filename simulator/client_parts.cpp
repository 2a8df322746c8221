#include "simulator/client_parts.hpp"

#include "simulator/core/rng.hpp"
#include "simulator/json_reader.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace sflsim::cli {

namespace {

// `policy` is the scenario's cut policy, or "fixed" for the SL/SFL baselines.
int allocate_cut(const Scenario& s, const std::string& policy, const supernet::Architecture& arch,
                 const supernet::SubnetConfig& config, const ClientProfile& p, core::SimDuration latency_min,
                 core::SimDuration latency_max) {
  const int deepest = arch.unit_count() - 1;
  const CutOptions& cut = s.algorithm.cut;
  if (policy == "fixed") {
    if (cut.fixed > deepest) {
      throw ScenarioError("scenario: $.algorithm.cut.fixed: cut " + std::to_string(cut.fixed) + " is outside 1.." +
                          std::to_string(deepest) + " for this supernet");
    }
    return cut.fixed;
  }
  if (policy == "flops") {
    int d = 1;
    while (d < deepest && static_cast<double>(arch.forward_flops(config, 1, d + 1)) <= cut.flops_budget_gflops * 1e9) ++d;
    return d;
  }
  // Spec §1.3: d = clamp(floor(alpha * mem_GB) + floor(beta * r), 1, L - 1),
  // r = (lat_max - lat) / (lat_max - lat_min + eps): 1 for the fastest link.
  const double span = static_cast<double>((latency_max - latency_min).count()) + 1.0;
  const double rank = static_cast<double>((latency_max - p.latency).count()) / span;
  const int d = static_cast<int>(std::floor(cut.alpha * p.memory_gb)) + static_cast<int>(std::floor(cut.beta * rank));
  return std::clamp(d, 1, deepest);
}

// RaFL: a random subnet (depth at a stage end or the full network, a width
// level per stage) whose forward cost is within [budget / 2, budget]; after
// 1000 draws the largest one seen under budget, else the smallest there is.
std::pair<supernet::SubnetConfig, int> sample_own_network(const supernet::Architecture& arch, int64_t budget,
                                                          core::RngStream& rng) {
  static constexpr double kLevels[] = {0.25, 0.5, 0.75, 1.0};
  std::vector<int> depths = stage_end_units(arch);
  depths.back() = arch.unit_count();  // the last stage ends in the supernet's own classifier
  supernet::SubnetConfig best = arch.full_config();
  best.width.fill(kLevels[0]);
  int best_depth = depths.front();
  int64_t best_flops = -1;
  for (int draw = 0; draw < 1000; ++draw) {
    supernet::SubnetConfig config = arch.full_config();
    const int depth = depths[rng.uniform_below(depths.size())];
    for (double& w : config.width) w = kLevels[rng.uniform_below(std::size(kLevels))];
    const int64_t flops = network_flops(arch, config, depth);
    if (flops > budget) continue;
    if (2 * flops >= budget) return {config, depth};
    if (flops > best_flops) std::tie(best, best_depth, best_flops) = std::tuple(config, depth, flops);
  }
  return {best, best_depth};
}

}  // namespace

int64_t network_flops(const supernet::Architecture& arch, const supernet::SubnetConfig& config, int depth) {
  return arch.forward_flops(config, 1, depth) + (depth < arch.unit_count() ? arch.head_forward_flops(config, depth) : 0);
}

std::vector<int> stage_end_units(const supernet::Architecture& arch) {
  std::vector<int> ends;
  for (int unit = 1; unit + 1 < arch.unit_count(); ++unit) {
    if (arch.stage_of_unit(unit) != arch.stage_of_unit(unit + 1)) ends.push_back(unit);
  }
  ends.push_back(arch.unit_count() - 1);
  return ends;
}

supernet::SubnetConfig assign_parts(const Scenario& s, const supernet::Architecture& arch,
                                    std::vector<ClientProfile>& profiles) {
  const std::string& name = s.algorithm.name;
  const int units = arch.unit_count();
  const supernet::SubnetConfig whole = arch.full_config();
  const bool split_baseline = name == "sl" || name == "sfl-v1" || name == "sfl-v2";
  double largest_memory = 0.0;
  int64_t fastest = 1;
  core::SimDuration latency_min = profiles.front().latency, latency_max = latency_min;
  for (const ClientProfile& p : profiles) {
    largest_memory = std::max(largest_memory, p.memory_gb);
    fastest = std::max(fastest, p.flops_per_s);
    latency_min = std::min(latency_min, p.latency);
    latency_max = std::max(latency_max, p.latency);
  }
  const std::vector<int> exits = stage_end_units(arch);
  supernet::SubnetConfig knowledge = whole;  // RaFL: per stage, the narrowest own network covering it
  for (size_t c = 0; c < profiles.size(); ++c) {
    ClientProfile& p = profiles[c];
    p.config = whole;
    p.head_cuts.clear();
    p.split = true;
    if (name == "supersfl") {
      p.cut = allocate_cut(s, s.algorithm.cut.policy, arch, whole, p, latency_min, latency_max);
      p.head_cuts = {p.cut};
    } else if (split_baseline) {
      p.cut = allocate_cut(s, "fixed", arch, whole, p, latency_min, latency_max);
    } else if (name == "fedavg" || name == "heterofl") {
      p.cut = units;
      p.split = false;
      if (name == "heterofl") {
        // HeteroFL's width levels 1, 1/2, 1/4, 1/8: the widest whose share of the
        // largest device's memory this device has.
        double level = 1.0;
        while (level > 0.125 && p.memory_gb < level * largest_memory) level /= 2;
        p.config.width.fill(level);
      }
    } else if (name == "depthfl") {
      // DepthFL: the deepest of the stage levels 1..S whose share k/S of the
      // largest device's memory this device has; a classifier after each stage
      // it holds (the last stage's is the supernet's own classifier).
      const int levels = static_cast<int>(exits.size());
      int level = levels;
      while (level > 1 && p.memory_gb < static_cast<double>(level) / levels * largest_memory) --level;
      p.split = false;
      p.cut = level == levels ? units : exits[static_cast<size_t>(level - 1)];
      p.head_cuts.assign(exits.begin(), exits.begin() + (level == levels ? level - 1 : level));
    } else if (name == "rafl") {
      // RaFL: a MAC budget in proportion to the device's speed (the fastest
      // may run the whole supernet); the knowledge network is trained whole.
      p.cut = units;
      p.split = false;
      const double share = static_cast<double>(p.flops_per_s) / static_cast<double>(fastest);
      const auto budget = static_cast<int64_t>(share * static_cast<double>(arch.forward_flops(whole, 1, units)));
      core::RngStream rng(s.seed, core::EntityId{static_cast<uint64_t>(c) + 1}, "rafl-architecture");
      std::tie(p.own_config, p.own_depth) = sample_own_network(arch, budget, rng);
      for (int unit = 1; unit <= p.own_depth && unit < units; ++unit) {
        const int stage = arch.stage_of_unit(unit);
        double& width = knowledge.width[static_cast<size_t>(stage)];
        width = std::min(width, p.own_config->width[static_cast<size_t>(stage)]);
      }
    }
  }
  // RaFL's knowledge network is known once every own network is drawn.
  const supernet::SubnetConfig& evaluated = name == "rafl" ? knowledge : whole;
  for (ClientProfile& p : profiles) {
    if (p.own_config) p.config = knowledge;
    p.memory_needed = arch.training_memory_bytes(p.config, 1, p.cut, s.training.batch_size);
    if (p.own_config) p.memory_needed += arch.training_memory_bytes(*p.own_config, 1, p.own_depth, s.training.batch_size);
    // SuperSFL's cut rule, HeteroFL's widths, DepthFL's depths and RaFL's
    // budgets follow the device; SL, SFL and FedAvg exclude the devices their
    // one shape does not fit.
    const bool fits = static_cast<double>(p.memory_needed) <= p.memory_gb * 1e9;
    p.excluded = (split_baseline || name == "fedavg") && !fits && !s.algorithm.include_excluded;
  }
  return evaluated;
}

}  // namespace sflsim::cli
