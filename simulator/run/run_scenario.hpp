#pragma once
// `sflsim run`: builds the world of a scenario, runs it in virtual time, and
// writes the results (all files atomically: written aside, then renamed):
//   metrics.csv              one row per round (deterministic: no wall-clock figures)
//   clients.csv              one row per client per round it took part in
//   wall.csv                 wall-clock seconds per round (not deterministic)
//   summary.json             final/best accuracy, rounds and time to target (first crossing and
//                            sustained: from then on never below), totals, scenario hash, versions
//   scenario.resolved.json   the scenario with every default filled in
//   checkpoint.bin           while the run is unfinished: the state to resume from (checkpoint.hpp)
// SIGINT/SIGTERM stop the run at its next round boundary at rest, after a
// checkpoint: run_world then throws Interrupted.
#include "simulator/scenario/scenario.hpp"
#include "supernet/evaluate.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sflsim::client {
struct RoundRecord;
}
namespace sflsim::server {
struct RoundSummary;
}

namespace sflsim::cli {

class RoundComputer;

struct RunOptions {
  std::filesystem::path out_dir = "results";
  std::string scenario_text;  // the resolved scenario, hashed into summary.json
  bool progress = true;
  int threads = 1;  // see World
  // Write DIR/checkpoint.bin every N rounds (at the first boundary at rest
  // from then on; see checkpoint.hpp); 0 = only when stopped by a signal.
  int checkpoint_every = 0;
  // Continue from out_dir/checkpoint.bin when there is one (else start at round 1).
  bool resume = false;
  // Without resume: discard an unfinished run's checkpoint.bin in out_dir and
  // start over. Without either, such a checkpoint is refused (invalid_argument).
  bool fresh = false;
  // Stop as a signal would, at the first boundary at rest after this round (tests).
  int stop_after_round = 0;
  // Set: the clients' rounds are recorded and computed there (another
  // process, or through the same bytes here), for the algorithms whose server
  // side is per client; see remote_rounds.hpp. Must outlive the World.
  RoundComputer* round_computer = nullptr;
  // Set: evaluates the test set elsewhere in batches of `batch_size` (the
  // scores combined in batch order, as here); nullopt: here after all.
  std::function<std::optional<supernet::Evaluation>(const supernet::BodyPart& model, int batch_size)> evaluate_elsewhere;
  // Running totals (name, value) read at every round's end; wall.csv gets a
  // column per name with each round's increase (run_on_ranks: bytes between
  // ranks, workers' compute time, rank 0's CPU time).
  std::function<std::vector<std::pair<std::string, double>>()> wall_counters;
  // Observers (tests): each client record as it is made, each round as it is reported.
  std::function<void(const client::RoundRecord&)> observe_record;
  std::function<void(const server::RoundSummary&)> observe_round;
};

struct RunResult {
  double final_accuracy = 0.0;
  double best_accuracy = 0.0;
  double virtual_seconds = 0.0;
  int resumed_at = 0;   // the round a checkpoint was resumed at (0: none)
  int checkpoints = 0;  // written by this run
};

struct World;

RunResult run_scenario(const Scenario& scenario, const RunOptions& options);
// The same on a world built by the caller (tests inspect it afterwards).
RunResult run_world(World& world, const RunOptions& options);

// Throws std::invalid_argument (exit 2 in the CLI) if `dir` holds an
// unfinished run's checkpoint and neither `resume` nor `fresh` says what to do with it.
void check_unfinished_run(const std::filesystem::path& dir, bool resume, bool fresh);

// Whether `dir` holds a finished run of this resolved scenario (summary.json,
// no checkpoint left); throws std::invalid_argument if it is another scenario's.
bool finished_run(const std::filesystem::path& dir, const std::string& scenario_text);

}  // namespace sflsim::cli
