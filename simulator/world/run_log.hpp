#pragma once
// What a run has reported so far (the rows of metrics.csv and clients.csv and
// the running totals they are computed from): kept by run_world, saved whole
// in checkpoints.
#include "client/client.hpp"
#include "server/coordinator.hpp"

#include <unordered_set>
#include <vector>

namespace sflsim::cli {

struct MetricsRow {
  server::RoundSummary summary;
  client::TrafficCounters traffic;  // this round's
  double energy_j = 0.0;
};

struct RunLog {
  std::vector<MetricsRow> rows;
  std::vector<client::RoundRecord> records;  // in the order the clients made them
  std::vector<double> wall_seconds;          // by round (not deterministic)
  client::TrafficCounters traffic_before;    // the totals when the last round was reported
  double energy_before = 0.0;
  double last_accuracy = 0.0;
  double best_accuracy = 0.0;
  double wall_before_s = 0.0;  // wall-clock seconds of earlier runs this one resumed
  std::unordered_set<int> has_own_model;  // the coordinator's: RaFL clients that hold their own network
};

}  // namespace sflsim::cli
