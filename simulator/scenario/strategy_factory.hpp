#pragma once
// The one place that knows the algorithms by name: builds the scenario's
// server::Strategy (server/strategies.hpp) with its options taken from the
// scenario, and the server-held training images it needs (HeteroFL's
// BatchNorm calibration set, RaFL's distillation proxy set).
#include "datasets/dataset.hpp"
#include "simulator/scenario/algorithms.hpp"
#include "server/strategy.hpp"
#include "simulator/scenario/scenario.hpp"

#include <memory>
#include <vector>

namespace sflsim::cli {

// Throws ScenarioError for a name not in algorithm_names().
std::unique_ptr<server::Strategy> make_strategy(const Scenario& scenario, const datasets::ImageDataset& train);

}  // namespace sflsim::cli
