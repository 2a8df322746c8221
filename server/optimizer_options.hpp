#pragma once
// How both sides of a split train in a round: SGD, a fresh optimizer per
// round. Torch-free, so the scenario's options can take their defaults from here.

namespace sflsim::protocol {

struct OptimizerOptions {
  double learning_rate = 0.05;
  double momentum = 0.9;
  double weight_decay = 5e-4;
};

}  // namespace sflsim::protocol
