#include "server/parts.hpp"

#include "server/strategy.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <tuple>

namespace sflsim::server {

int memory_cut(const supernet::Architecture& arch, int batch_size, double memory_gb) {
  const supernet::SubnetConfig whole = arch.full_config();
  int d = 1;
  while (d + 1 < arch.unit_count() &&
         static_cast<double>(arch.training_memory_bytes(whole, 1, d + 1, batch_size)) <= memory_gb * 1e9) {
    ++d;
  }
  return d;
}

int allocate_cut(const CutRule& rule, const supernet::Architecture& arch, int batch_size, double memory_gb,
                 core::SimDuration latency, core::SimDuration latency_min, core::SimDuration latency_max) {
  const int deepest = arch.unit_count() - 1;
  switch (rule.policy) {
    case CutRule::Policy::fixed:
      if (rule.fixed > deepest) {
        throw std::invalid_argument("scenario: $.algorithm.cut.fixed: cut " + std::to_string(rule.fixed) +
                                    " is outside 1.." + std::to_string(deepest) + " for this supernet");
      }
      return rule.fixed;
    case CutRule::Policy::flops: {
      const supernet::SubnetConfig whole = arch.full_config();
      int d = 1;
      while (d < deepest && static_cast<double>(arch.forward_flops(whole, 1, d + 1)) <= rule.flops_budget_gflops * 1e9) ++d;
      return d;
    }
    case CutRule::Policy::memory: return memory_cut(arch, batch_size, memory_gb);
    case CutRule::Policy::resource: break;
  }
  // Spec §1.3: d = clamp(floor(alpha * mem_GB) + floor(beta * r), 1, L - 1),
  // r = (lat_max - lat) / (lat_max - lat_min + eps): 1 for the fastest link.
  const double span = static_cast<double>((latency_max - latency_min).count()) + 1.0;
  const double rank = static_cast<double>((latency_max - latency).count()) / span;
  const int d = static_cast<int>(std::floor(rule.alpha * memory_gb)) + static_cast<int>(std::floor(rule.beta * rank));
  return std::clamp(d, 1, deepest);
}

std::vector<int> stage_end_units(const supernet::Architecture& arch) {
  std::vector<int> ends;
  for (int unit = 1; unit + 1 < arch.unit_count(); ++unit) {
    if (arch.stage_of_unit(unit) != arch.stage_of_unit(unit + 1)) ends.push_back(unit);
  }
  ends.push_back(arch.unit_count() - 1);
  return ends;
}

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

}  // namespace sflsim::server
