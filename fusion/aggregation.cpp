#include "fusion/aggregation.hpp"

#include <cmath>

namespace sflsim::fusion {

double aggregation_weight(const ClientUpdate& update, const AggregationOptions& options) {
  const double performance = options.performance_weighting ? std::exp(-update.mean_loss / options.temperature) : 1.0;
  return static_cast<double>(update.samples) * performance * std::pow(options.staleness_gamma, update.staleness);
}

void aggregate(supernet::Supernet& net, std::span<const ClientUpdate> updates, const AggregationOptions& options) {
  std::vector<supernet::Contribution> contributions;
  for (const ClientUpdate& update : updates) {
    if (update.samples <= 0) continue;
    const double weight = aggregation_weight(update, options);
    for (const supernet::SliceSet* slices : update.slices) contributions.push_back({slices, weight});
  }
  net.write_back(contributions);
}

}  // namespace sflsim::fusion
