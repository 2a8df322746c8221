#pragma once
// Collaborative client-server aggregation (spec §1.6-1.7): every trained copy
// of a supernet slice (client prefixes, server-side suffix replicas, local
// heads) is written back with weight  w_i = n_i * exp(-loss_i / tau),
// normalised per element over the copies that cover it. Local heads are
// specs of their cut, so they average only within their depth group.
// A stale copy (trained from the model of s rounds ago) enters as the blend
// gamma^s * copy + (1 - gamma^s) * current value, at its full weight w_i: so
// where it is an element's only copy, the element moves gamma^s of the way
// to it (a plain weight w_i * gamma^s would be divided back out there).
#include "fusion/aggregation_options.hpp"
#include "supernet/supernet.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace sflsim::fusion {

// One client's contribution for the round. Pointers are borrowed for the call.
struct ClientUpdate {
  int64_t samples = 0;
  double mean_loss = 0.0;  // server loss this round, or local loss if it trained offline
  int staleness = 0;       // rounds between training and upload
  std::vector<const supernet::SliceSet*> slices;  // prefix, head, server replica(s)
};

double aggregation_weight(const ClientUpdate& update, const AggregationOptions& options);  // w_i
double staleness_share(const ClientUpdate& update, const AggregationOptions& options);     // gamma^s

// Adds one update's copies to a write-back with its weight (ignored with zero samples).
void fold(supernet::WriteBack& into, const ClientUpdate& update, const AggregationOptions& options);

// Writes all updates into `net`; clients with zero samples are ignored.
void aggregate(supernet::Supernet& net, std::span<const ClientUpdate> updates, const AggregationOptions& options);

}  // namespace sflsim::fusion
