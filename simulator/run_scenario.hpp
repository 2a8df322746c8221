#pragma once
// `sflsim run`: builds the world of a scenario, runs it in virtual time, and
// writes the results (all files atomically: written aside, then renamed):
//   metrics.csv              one row per round (deterministic: no wall-clock figures)
//   clients.csv              one row per client per round it took part in
//   wall.csv                 wall-clock seconds per round (not deterministic)
//   summary.json             final/best accuracy, rounds and time to target (first crossing and
//                            sustained: from then on never below), totals, scenario hash, versions
//   scenario.resolved.json   the scenario with every default filled in
#include "simulator/scenario.hpp"

#include <filesystem>
#include <functional>
#include <string>

namespace sflsim::client {
struct RoundRecord;
}
namespace sflsim::server {
struct RoundSummary;
}

namespace sflsim::cli {

struct RunOptions {
  std::filesystem::path out_dir = "results";
  std::string scenario_text;  // the resolved scenario, hashed into summary.json
  bool progress = true;
  int threads = 1;  // see World
  // Observers (tests): each client record as it is made, each round as it is reported.
  std::function<void(const client::RoundRecord&)> observe_record;
  std::function<void(const server::RoundSummary&)> observe_round;
};

struct RunResult {
  double final_accuracy = 0.0;
  double best_accuracy = 0.0;
  double virtual_seconds = 0.0;
};

struct World;

RunResult run_scenario(const Scenario& scenario, const RunOptions& options);
// The same on a world built by the caller (tests inspect it afterwards).
RunResult run_world(World& world, const RunOptions& options);

// Writes `contents` to `path` through a temporary file and a rename, so a
// reader never sees a half-written file and an interrupted run leaves the old one.
void write_atomically(const std::filesystem::path& path, const std::string& contents);

}  // namespace sflsim::cli
