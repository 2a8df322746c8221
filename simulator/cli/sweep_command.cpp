// `sflsim sweep`: every cell of a sweep, in this process, over ranks, or one cell (--cell).
#include "simulator/cli/commands.hpp"
#include "simulator/cli/rank_flags.hpp"
#include "simulator/ranks/messages.hpp"
#include "simulator/ranks/run_on_ranks.hpp"
#include "simulator/ranks/sweep_on_ranks.hpp"
#include "simulator/run/interrupt.hpp"
#include "simulator/sweep/sweep.hpp"

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace sflsim::cli {

namespace {

struct SweepFlags {
  std::string path;
  std::string out_dir = "sweep";
  bool quiet = false;
  int checkpoint_every = 0;
  int cell = -1;
  RankOptions ranks;
};

int sweep(const SweepFlags& flags, const GlobalOptions& global) {
  if (flags.ranks.worker()) return serve_as_worker(flags.ranks, global.threads, global.device, "sweep", flags.path);
  SweepOptions options;
  options.out_dir = flags.out_dir;
  options.threads = global.threads;
  options.progress = !flags.quiet;
  options.checkpoint_every = flags.checkpoint_every;
  options.only_cell = flags.cell;
  install_stop_handlers();
  at::set_num_threads(1);  // as for run: results must not depend on --threads
  SweepResult result;
  if (flags.ranks.active()) {
    if (flags.cell >= 0) throw std::invalid_argument("--cell runs one cell here: drop --ranks / --world");
    sweep_cells(flags.path);  // a bad sweep file fails before any worker starts
    RankWorld ranks(flags.ranks, global.threads, global.device, "sweep", flags.path);
    RankPool pool(ranks.comm(), rank_message(RankMessageKind::hello), rank_pool_options(flags.ranks, ranks));
    RankCellRunner runner(pool, global.threads);
    options.runner = &runner;
    result = run_sweep(flags.path, options);
  } else {
    result = run_sweep(flags.path, options);
  }
  if (flags.cell >= 0) {
    std::printf("cell %d of %d done; the whole sweep's command (without --cell) writes %s/sweep.csv\n", flags.cell,
                result.cells, flags.out_dir.c_str());
  } else {
    std::printf("%d cells: %d run, %d finished earlier; table in %s/sweep.csv\n", result.cells, result.ran,
                result.skipped, flags.out_dir.c_str());
  }
  return 0;
}

}  // namespace

Command add_sweep_command(CLI::App& app) {
  auto flags = std::make_shared<SweepFlags>();
  CLI::App* command = app.add_subcommand(
      "sweep", "Run every cell of a sweep (a base scenario and axes over scenario keys); rerunning skips finished cells");
  command->add_option("sweep", flags->path, "Sweep JSON file: {\"base\": FILE, \"set\": {...}, \"axes\": [{\"path\", \"values\"}]}")
      ->required();
  command->add_option("--out", flags->out_dir, "Directory for sweep.csv and one directory per cell")->capture_default_str();
  command->add_flag("--no-progress", flags->quiet, "Only the one line per cell, no per-round bar");
  command->add_option("--cell", flags->cell,
                      "Run only cell K (0-based; e.g. a Slurm job array's $SLURM_ARRAY_TASK_ID); sweep.csv is left to "
                      "a later run of the whole sweep, which skips finished cells")
      ->check(CLI::Range(0, 1000000));
  command->add_option("--checkpoint-every", flags->checkpoint_every,
                      "Checkpoint each cell every N rounds; a rerun resumes an interrupted cell from its checkpoint")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  add_rank_flags(*command, flags->ranks);
  return {command, [flags](const GlobalOptions& global) { return sweep(*flags, global); }};
}

}  // namespace sflsim::cli
