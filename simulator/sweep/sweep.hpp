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
#include "simulator/scenario/scenario.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace sflsim::cli {

// A cell to run: its resolved scenario, into its directory (resuming from
// its checkpoint there, if any).
struct CellJob {
  size_t index = 0;
  std::string scenario_text;
  std::filesystem::path dir;
  int checkpoint_every = 0;
};

// Runs cells somewhere else than here one after another (sflsim sweep --ranks:
// ranked_sweep.hpp). run() returns when every cell has finished, calling
// `finished(index)` (from any thread, one call at a time) as each does;
// a cell's failure is rethrown.
class CellRunner {
 public:
  virtual ~CellRunner() = default;
  virtual void run(const std::vector<CellJob>& cells, const std::function<void(size_t index)>& finished) = 0;
};

struct SweepOptions {
  std::filesystem::path out_dir = "sweep";
  int threads = 1;
  bool progress = true;
  int checkpoint_every = 0;  // each cell's (RunOptions); an unfinished cell resumes from its checkpoint
  // >= 0: run only this cell (0-based; a Slurm job array's task), leaving
  // sweep.csv to a later run of the whole sweep, which skips finished cells.
  int only_cell = -1;
  CellRunner* runner = nullptr;  // null: the cells run here, one after another
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
