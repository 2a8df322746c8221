#pragma once
// `sflsim sweep SWEEP.json --out DIR`: one base scenario, axes over any
// scenario path, one run per cell of their product (first axis slowest).
//
//   {"base": "../quickstart.json",            // path relative to this file, or a scenario object
//    "set": {"training.rounds": 5},            // optional: applied to every cell first
//    "axes": [{"path": "clients.count", "values": [10, 50, 100]},
//             {"path": "clients.network", "values": ["3g", "4g", "wifi"]}]}
//
// DIR/<cell>/ holds the cell's run (see run_scenario.hpp); DIR/sweep.csv has
// one row per finished cell: the axis values and the summary metrics (no
// wall-clock figures, so an interrupted and resumed sweep writes the same
// bytes as an uninterrupted one). A cell whose summary.json exists and whose
// scenario.resolved.json equals the cell's scenario is skipped on a rerun;
// a cell interrupted after a checkpoint (checkpoint.bin beside the same
// scenario.resolved.json) resumes from it; any other cell (never started, or
// changed) runs from scratch.
// Every cell's scenario is checked before the first runs: a bad sweep file or
// cell is a ScenarioError naming the file, the JSON path and the cell.
#include "simulator/scenario.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace sflsim::cli {

struct SweepOptions {
  std::filesystem::path out_dir = "sweep";
  int threads = 1;
  bool progress = true;
  int checkpoint_every = 0;  // each cell's (RunOptions); an unfinished cell resumes from its checkpoint
};

struct SweepCell {
  std::string directory;                // under out_dir
  std::vector<std::string> assignments;  // "path=value" per axis
  std::string label;                     // "clients.count=10 clients.network=3g"
};

struct SweepResult {
  int cells = 0;
  int ran = 0;
  int skipped = 0;
};

// The cells of a sweep file, in run order (validates the sweep file itself).
std::vector<SweepCell> sweep_cells(const std::filesystem::path& sweep_file);

// Every cell's scenario, parsed (no data is read): what run_sweep checks first.
std::vector<Scenario> sweep_scenarios(const std::filesystem::path& sweep_file);

SweepResult run_sweep(const std::filesystem::path& sweep_file, const SweepOptions& options);

}  // namespace sflsim::cli
