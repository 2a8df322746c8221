#pragma once
// RaFL's cloud update (spec §4, after the authors' fedlib code): the uploaded
// knowledge networks are the teachers; the average of their softmax outputs
// at temperature T is distilled into the global knowledge network on a
// server-held, unlabelled proxy set with loss T^2 * KL(teachers || student).
// The student starts from the supernet's knowledge slice (which aggregation
// has already set to the uploads' weighted mean, as in FedDF) and is written
// back with weight 1.
//
// Runs synchronously; the caller charges the returned FLOPs as server time.
#include "server/protocol.hpp"
#include "supernet/supernet.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace sflsim::server {

// Filled from the scenario (its defaults: simulator/scenario.hpp, RaflOptions).
// RaFL's distillation step: SGD with this momentum (FedDF's), written once.
inline constexpr double kDistillationMomentum = 0.9;

struct DistillationOptions {
  double temperature = 0;
  int epochs = 0;                          // passes over the proxy set per round
  protocol::OptimizerOptions optimizer;    // of the student (a fresh SGD each round)
};

// Returns the forward + backward FLOPs spent: per proxy sample and epoch, one
// forward per teacher and 3 forwards' worth for the student.
int64_t distill_ensemble(supernet::Supernet& net, const supernet::SubnetConfig& knowledge,
                         const std::vector<const protocol::ModelUpload*>& teachers,
                         const std::vector<at::Tensor>& proxy_batches, const DistillationOptions& options);

}  // namespace sflsim::server
