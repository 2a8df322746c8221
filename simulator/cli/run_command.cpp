// `sflsim run`: one scenario in virtual time, in this process or spread over ranks.
#include "simulator/cli/commands.hpp"
#include "simulator/cli/rank_flags.hpp"
#include "simulator/ranks/run_on_ranks.hpp"
#include "simulator/run/interrupt.hpp"
#include "simulator/run/run_scenario.hpp"
#include "simulator/scenario/json_reader.hpp"
#include "simulator/scenario/scenario_io.hpp"

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace sflsim::cli {

namespace {

struct RunFlags {
  std::string scenario_path;
  std::vector<std::string> overrides;
  std::string out_dir = "results";
  int checkpoint_every = 0;
  std::string resume_dir;
  bool fresh = false;
  RankOptions ranks;
};

// `--resume DIR` writes into DIR and reads its resolved scenario unless a file is given.
void apply_resume(CLI::App& command, RunFlags& flags) {
  if (flags.resume_dir.empty()) return;
  if (command.count("--out") > 0 && std::filesystem::path(flags.out_dir) != std::filesystem::path(flags.resume_dir)) {
    throw std::invalid_argument("--resume " + flags.resume_dir + " writes into " + flags.resume_dir + "; drop --out " +
                                flags.out_dir);
  }
  flags.out_dir = flags.resume_dir;
  if (flags.scenario_path.empty()) {
    flags.scenario_path = (std::filesystem::path(flags.resume_dir) / "scenario.resolved.json").string();
  }
  if (!flags.overrides.empty() && command.count("scenario") == 0) {
    throw std::invalid_argument("--set with --resume needs the scenario file the run started with");
  }
}

int run(CLI::App& command, RunFlags& flags, const GlobalOptions& global) {
  if (flags.ranks.worker()) return serve_as_worker(flags.ranks, global.threads, global.device, "run", flags.scenario_path);
  apply_resume(command, flags);
  if (flags.scenario_path.empty()) throw std::invalid_argument("run: a scenario file is required");
  try {
    const Scenario scenario = load_scenario(flags.scenario_path, flags.overrides);
    RunOptions options;
    options.out_dir = flags.out_dir;
    options.scenario_text = resolved_json(scenario);
    options.checkpoint_every = flags.checkpoint_every;
    options.resume = !flags.resume_dir.empty();
    options.fresh = flags.fresh;
    check_unfinished_run(options.out_dir, options.resume, options.fresh);
    if (options.resume && finished_run(options.out_dir, options.scenario_text)) {
      std::printf("%s: the run is complete (summary.json); nothing to resume\n", flags.out_dir.c_str());
      return 0;
    }
    install_stop_handlers();
    // A run spreads clients over threads instead of splitting each operation:
    // LibTorch's CPU kernels reduce in thread-count-dependent order, and
    // --threads must not change the results.
    at::set_num_threads(1);
    options.threads = global.threads;
    RunResult result;
    if (flags.ranks.active()) {
      RankWorld ranks(flags.ranks, global.threads, global.device, "run", flags.scenario_path);
      result = run_on_ranks(scenario, options, ranks, flags.ranks);
    } else {
      result = run_scenario(scenario, options);
    }
    std::printf("final test accuracy %.4f (best %.4f) after %.1f s of virtual time; results in %s/\n",
                result.final_accuracy, result.best_accuracy, result.virtual_seconds, flags.out_dir.c_str());
    if (result.resumed_at > 0) std::printf("(resumed at round %d)\n", result.resumed_at);
    if (result.checkpoints > 0) std::printf("(%d checkpoints written)\n", result.checkpoints);
    return 0;
  } catch (const ScenarioError& e) {
    throw with_file(e, flags.scenario_path);
  }
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* command = app.add_subcommand("run", "Run a scenario in virtual time and write its results");
  command->add_option("scenario", flags->scenario_path,
                      "Scenario JSON file (with --resume: optional, default DIR/scenario.resolved.json)");
  command->add_option("--checkpoint-every", flags->checkpoint_every,
                      "Write OUT/checkpoint.bin every N rounds (at the first round boundary at rest from then on), "
                      "to continue with --resume after a crash or kill; 0 = only on SIGINT/SIGTERM")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  command->add_option("--resume", flags->resume_dir,
                      "Continue the run in DIR from its checkpoint.bin (outputs byte-identical to an uninterrupted "
                      "run); without one it starts at round 1. Implies --out DIR");
  command->add_flag("--fresh", flags->fresh,
                    "Start over in OUT even if it holds an unfinished run's checkpoint.bin (which is discarded); "
                    "without --fresh or --resume such a directory is refused")
      ->excludes("--resume");
  command->add_option("--out", flags->out_dir, "Directory for metrics.csv, clients.csv, summary.json, ...")
      ->capture_default_str();
  command->add_option("--set", flags->overrides, "Override a scenario key: path=value (repeatable), e.g. clients.count=50");
  add_rank_flags(*command, flags->ranks);
  return {command, [command, flags](const GlobalOptions& global) { return run(*command, *flags, global); }};
}

}  // namespace sflsim::cli
