#pragma once
// How the collaborative aggregation weighs a client's copies (spec §1.6-1.7).
// Torch-free, so the scenario's options can take their defaults from here.

namespace sflsim::fusion {

struct AggregationOptions {
  bool performance_weighting = true;  // n_i * exp(-loss_i / tau); false: plain FedAvg weights n_i (as SFL-V1)
  double temperature = 1.0;           // tau of the performance factor
  double staleness_gamma = 0.5;       // discount per missed round; 1 disables it
};

}  // namespace sflsim::fusion
