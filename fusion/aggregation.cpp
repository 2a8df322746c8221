#include "fusion/aggregation.hpp"

#include <cmath>

namespace sflsim::fusion {

double aggregation_weight(const ClientUpdate& update, const AggregationOptions& options) {
  const double performance = options.performance_weighting ? std::exp(-update.mean_loss / options.temperature) : 1.0;
  return static_cast<double>(update.samples) * performance;
}

double staleness_share(const ClientUpdate& update, const AggregationOptions& options) {
  return std::pow(options.staleness_gamma, update.staleness);
}

void fold(supernet::WriteBack& into, const ClientUpdate& update, const AggregationOptions& options) {
  if (update.samples <= 0) return;
  const double weight = aggregation_weight(update, options);
  const double share = staleness_share(update, options);
  if (!(share > 0.0)) return;  // gamma = 0: late copies are ignored
  for (const supernet::SliceSet* slices : update.slices) into.add({slices, weight, share});
}

void aggregate(supernet::Supernet& net, std::span<const ClientUpdate> updates, const AggregationOptions& options) {
  supernet::WriteBack write(net);
  for (const ClientUpdate& update : updates) fold(write, update, options);
  write.apply();
}

}  // namespace sflsim::fusion
