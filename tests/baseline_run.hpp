#pragma once
// A small heterogeneous scenario on synthetic data, and running it into a
// temporary directory: what the baseline tests share.
#include "simulator/run/run_scenario.hpp"
#include "simulator/world/world.hpp"
#include "csv_file.hpp"
#include "temp_dir.hpp"

#include <ATen/Parallel.h>

#include <string>

namespace sflsim::test {

// 6 clients in two tiers (2 GB / 5 GFLOP/s on 4G, 8 GB / 50 GFLOP/s on Wi-Fi), 2 rounds of 48 samples.
inline cli::Scenario baseline_scenario(const std::string& algorithm) {
  cli::Scenario s;
  s.dataset.name = "synthetic";
  s.dataset.augment = false;
  s.algorithm.name = algorithm;
  s.training.rounds = 2;
  s.training.batch_size = 16;
  s.training.max_samples_per_round = 48;
  s.training.eval_samples = 200;
  s.clients.count = 6;
  cli::DeviceTier small{"small", 0.5, 2.0, 5.0, "4g"};
  cli::DeviceTier large{"large", 0.5, 8.0, 50.0, "wifi"};
  s.clients.tiers = {small, large};
  return s;
}

struct RunOutputs {
  std::string metrics, clients;
};

// `options` may carry observers; its output directory is a temporary one.
inline RunOutputs run_outputs(cli::World& world, cli::RunOptions options = {}) {
  at::set_num_threads(1);
  TempDir dir;
  options.out_dir = dir.path();
  options.progress = false;
  cli::run_world(world, options);
  return {read_file(dir.path() / "metrics.csv"), read_file(dir.path() / "clients.csv")};
}

inline RunOutputs run_outputs(const cli::Scenario& scenario) {
  cli::World world(scenario);
  return run_outputs(world);
}

}  // namespace sflsim::test
