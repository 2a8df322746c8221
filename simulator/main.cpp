// sflsim: the command line. Exit codes: 0 ok, 1 runtime failure, 2 bad input.
#include "datasets/compute_device.hpp"
#include "datasets/dataset.hpp"
#include "simulator/bench_ranks.hpp"
#include "simulator/bench_suite.hpp"
#include "simulator/bench_train.hpp"
#include "simulator/core/des_benchmark.hpp"
#include "simulator/interrupt.hpp"
#include "simulator/json_reader.hpp"
#include "simulator/rank_launch.hpp"
#include "simulator/rank_worker.hpp"
#include "simulator/ranked_run.hpp"
#include "simulator/ranked_sweep.hpp"
#include "simulator/run_scenario.hpp"
#include "simulator/scenario_io.hpp"
#include "simulator/sweep.hpp"
#include "simulator/world.hpp"
#include "simulator/train_central.hpp"

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace {
constexpr int kExitRuntime = 1;
constexpr int kExitBadInput = 2;

int run(int argc, char** argv) {
  CLI::App app{"sflsim: a discrete-event simulator of federated split learning with weight-sharing supernets"};
  app.require_subcommand(1);
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--threads", threads,
                 "Threads (default: number of cores). run: clients' work spread over threads, each with one "
                 "LibTorch thread, so results do not depend on it; train-central and bench: LibTorch intra-op threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  std::string device = "cpu";
  app.add_option("--device", device,
                 "Where tensors live: cpu, cuda or cuda:N (needs a CUDA LibTorch: cmake -DSFLSIM_TORCH_PREFIX=...). "
                 "On CUDA reruns are close, not byte-identical")
      ->capture_default_str();

  sflsim::cli::TrainCentralOptions central;
  std::string data_dir;
  std::string csv;
  bool no_augment = false;
  CLI::App* train = app.add_subcommand("train-central", "Train one subnet of the supernet centrally (no federation)");
  train->add_option("--dataset", central.dataset, "fashion-mnist, mnist, cifar10, cifar100, cifar100-coarse, synthetic")
      ->capture_default_str();
  train->add_option("--data-dir", data_dir, "Directory of the dataset files (default: its standard location)");
  train->add_option("--width", central.width_multiplier, "Width multiplier of the supernet (1.0 = ResNet-18)")
      ->check(CLI::Range(0.01, 4.0))
      ->capture_default_str();
  train->add_option("--subnet-width", central.subnet_width, "Fraction of every stage's channels the subnet keeps")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  train->add_option("--epochs", central.epochs, "Training epochs")->check(CLI::Range(1, 10000))->capture_default_str();
  train->add_option("--batch-size", central.batch_size)->check(CLI::Range(1, 65536))->capture_default_str();
  train->add_option("--lr", central.learning_rate, "Peak learning rate (cosine decay)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  train->add_option("--train-samples", central.train_samples, "Use only the first N training samples (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  train->add_option("--seed", central.seed)->capture_default_str();
  train->add_flag("--no-augment", no_augment, "Disable random crop and flip");
  train->add_option("--csv", csv, "Write per-epoch metrics to this CSV file");

  std::string scenario_path;
  std::vector<std::string> overrides;
  std::string out_dir = "results";
  CLI::App* run_cmd = app.add_subcommand("run", "Run a scenario in virtual time and write its results");
  int checkpoint_every = 0;
  std::string resume_dir;
  run_cmd->add_option("scenario", scenario_path,
                      "Scenario JSON file (with --resume: optional, default DIR/scenario.resolved.json)");
  run_cmd->add_option("--checkpoint-every", checkpoint_every,
                      "Write OUT/checkpoint.bin every N rounds (at the first round boundary at rest from then on), "
                      "to continue with --resume after a crash or kill; 0 = only on SIGINT/SIGTERM")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  run_cmd->add_option("--resume", resume_dir,
                      "Continue the run in DIR from its checkpoint.bin (outputs byte-identical to an uninterrupted "
                      "run); without one it starts at round 1. Implies --out DIR");
  run_cmd->add_option("--out", out_dir, "Directory for metrics.csv, clients.csv, summary.json, ...")
      ->capture_default_str();
  run_cmd->add_option("--set", overrides, "Override a scenario key: path=value (repeatable), e.g. clients.count=50");
  CLI::App* validate = app.add_subcommand("validate", "Check a scenario file and print it with every default filled in");
  validate->add_option("scenario", scenario_path, "Scenario JSON file")->required();
  validate->add_option("--set", overrides, "Override a scenario key: path=value (repeatable)");
  std::string sweep_path;
  std::string sweep_out = "sweep";
  bool sweep_quiet = false;
  CLI::App* sweep = app.add_subcommand(
      "sweep", "Run every cell of a sweep (a base scenario and axes over scenario keys); rerunning skips finished cells");
  sweep->add_option("sweep", sweep_path, "Sweep JSON file: {\"base\": FILE, \"set\": {...}, \"axes\": [{\"path\", \"values\"}]}")
      ->required();
  sweep->add_option("--out", sweep_out, "Directory for sweep.csv and one directory per cell")->capture_default_str();
  sweep->add_flag("--no-progress", sweep_quiet, "Only the one line per cell, no per-round bar");
  int sweep_checkpoint_every = 0;
  int sweep_cell = -1;
  sweep->add_option("--cell", sweep_cell,
                    "Run only cell K (0-based; e.g. a Slurm job array's $SLURM_ARRAY_TASK_ID); sweep.csv is left to "
                    "a later run of the whole sweep, which skips finished cells")
      ->check(CLI::Range(0, 1000000));
  sweep->add_option("--checkpoint-every", sweep_checkpoint_every,
                    "Checkpoint each cell every N rounds; a rerun resumes an interrupted cell from its checkpoint")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  sflsim::cli::RankOptions rank_options;
  for (CLI::App* sub : {run_cmd, sweep}) {
    sub->add_option("--ranks", rank_options.spawn,
                    "Start N worker processes here and spread the work over them (run: the clients' rounds; "
                    "sweep: the cells); the outputs are the bytes of a run in one process")
        ->check(CLI::Range(0, 4096));
    const char* group = "Ranks started by a launcher (mpirun, srun), on one or several machines";
    sub->add_option("--world", rank_options.world, "Processes in all: rank 0 runs, the others serve it")
        ->check(CLI::Range(2, 4096))->group(group);
    sub->add_option("--rank", rank_options.rank, "This process's rank, 0..N-1")->check(CLI::Range(0, 4095))->group(group);
    sub->add_option("--store", rank_options.store,
                    "Where the ranks meet: HOST:PORT of rank 0 (it listens there) or a file path every rank can open")
        ->group(group);
    sub->add_option("--bind", rank_options.bind_host, "This machine's address as the other ranks reach it")->group(group);
    sub->add_option("--rank-timeout", rank_options.timeout_s,
                    "Seconds of silence after which a worker rank is lost and its work goes to the others")
        ->check(CLI::Range(1.0, 86400.0))
        ->capture_default_str();
  }
  CLI::App* schema = app.add_subcommand("schema", "Print every scenario key with its type, default and meaning (Markdown)");

  sflsim::cli::TrainBenchmarkOptions bench_train_options;
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks; each prints JSON on stdout");
  bench->require_subcommand(1);
  CLI::App* bench_train = bench->add_subcommand(
      "train", "Training images/s of one subnet: supernet code path vs a plain torch::nn model");
  bench_train->add_option("--widths", bench_train_options.widths, "Supernet width multipliers")
      ->capture_default_str();
  bench_train->add_option("--batch-size", bench_train_options.batch_size)->capture_default_str();
  bench_train->add_option("--image-size", bench_train_options.image_size, "Image height and width")
      ->check(CLI::Range(8, 512))
      ->capture_default_str();
  bench_train->add_option("--channels", bench_train_options.channels, "Image channels (1 for Fashion-MNIST)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  sflsim::core::DesBenchmarkOptions bench_des_options;
  CLI::App* bench_des = bench->add_subcommand(
      "des", "Discrete-event kernel: actors ping-ponging over links (events_per_s, bytes_per_actor)");
  bench_des->add_option("--actors", bench_des_options.actors, "Actors (even)")->check(CLI::Range(2, 10000000))
      ->capture_default_str();
  bench_des->add_option("--messages", bench_des_options.messages, "Messages in total")->check(CLI::PositiveNumber)
      ->capture_default_str();
  bench_des->add_option("--seed", bench_des_options.seed)->capture_default_str();
  bench_train->add_option("--seconds", bench_train_options.seconds_per_measurement, "Seconds per measurement")
      ->capture_default_str();

  sflsim::cli::RanksBenchOptions bench_ranks_options;
  CLI::App* bench_ranks = bench->add_subcommand(
      "ranks", "Samples/s, bytes between ranks and rank 0's waiting at --ranks 1, 2, 3 vs one process; a model of 16 "
               "and 64 ranks");
  bench_ranks->add_option("--scenario", bench_ranks_options.scenario)->capture_default_str();
  bench_ranks->add_option("--rounds", bench_ranks_options.rounds)->check(CLI::Range(1, 1000))->capture_default_str();
  bench_ranks->add_option("--ranks", bench_ranks_options.ranks, "Worker counts to measure")->capture_default_str();
  bench_ranks->add_option("--model-threads-per-rank", bench_ranks_options.model_threads_per_rank)
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  bench_ranks->add_option("--model-link-gbps", bench_ranks_options.model_link_gbps, "Rank 0's network in the model")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  sflsim::cli::SuiteOptions suite;
  int child_clients = -1;
  CLI::App* bench_round = bench->add_subcommand(
      "round", "Wall seconds per round at 10/100/300 clients (Fashion-MNIST, width 0.25) vs a plain LibTorch loop");
  bench_round->add_option("--clients", suite.clients, "Client counts")->capture_default_str();
  CLI::App* bench_memory = bench->add_subcommand(
      "memory", "Peak RSS with 1,000 and 10,000 registered, idle clients: bytes_per_idle_client");
  for (CLI::App* sub : {bench_round, bench_memory}) {
    sub->add_option("--rounds", suite.rounds, "Rounds per measurement (the last one evaluates)")
        ->check(CLI::Range(2, 1000))
        ->capture_default_str();
    sub->add_option("--samples", suite.samples_per_client, "Training samples per client per round")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    sub->add_option("--child", child_clients, "Internal: run one measurement in this process")->group("");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitBadInput;
  }
  at::set_num_threads(threads);
  sflsim::datasets::set_compute_device(device);
  if ((run_cmd->parsed() || sweep->parsed()) && rank_options.worker()) {
    // A worker rank: rank 0 sends it everything it needs.
    at::set_num_threads(1);
    sflsim::cli::RankWorld ranks(rank_options, threads, device, run_cmd->parsed() ? "run" : "sweep",
                                 run_cmd->parsed() ? scenario_path : sweep_path);
    return sflsim::cli::serve_rank_zero(ranks.comm(), threads);
  }

  if (run_cmd->parsed() && !resume_dir.empty()) {
    if (run_cmd->count("--out") > 0 && std::filesystem::path(out_dir) != std::filesystem::path(resume_dir)) {
      throw std::invalid_argument("--resume " + resume_dir + " writes into " + resume_dir + "; drop --out " + out_dir);
    }
    out_dir = resume_dir;
    if (scenario_path.empty()) scenario_path = (std::filesystem::path(resume_dir) / "scenario.resolved.json").string();
    if (!overrides.empty() && run_cmd->count("scenario") == 0) {
      throw std::invalid_argument("--set with --resume needs the scenario file the run started with");
    }
  }
  if (run_cmd->parsed() && scenario_path.empty()) throw std::invalid_argument("run: a scenario file is required");
  if (run_cmd->parsed() || validate->parsed()) try {
    const sflsim::cli::Scenario scenario = sflsim::cli::load_scenario(scenario_path, overrides);
    const std::string resolved = sflsim::cli::resolved_json(scenario);
    if (validate->parsed()) {
      const sflsim::cli::World world(scenario);  // loads the data and checks what needs it (cuts, client ids)
      std::cout << resolved;
      return 0;
    }
    sflsim::cli::RunOptions run_options;
    run_options.out_dir = out_dir;
    run_options.scenario_text = resolved;
    run_options.checkpoint_every = checkpoint_every;
    run_options.resume = !resume_dir.empty();
    if (run_options.resume && sflsim::cli::finished_run(out_dir, resolved)) {
      std::printf("%s: the run is complete (summary.json); nothing to resume\n", out_dir.c_str());
      return 0;
    }
    sflsim::cli::install_stop_handlers();
    // A run spreads clients over threads instead of splitting each operation:
    // LibTorch's CPU kernels reduce in thread-count-dependent order, and
    // --threads must not change the results.
    at::set_num_threads(1);
    run_options.threads = threads;
    sflsim::cli::RunResult result;
    if (rank_options.active()) {
      sflsim::cli::RankWorld ranks(rank_options, threads, device, "run", scenario_path);
      result = sflsim::cli::run_on_ranks(scenario, run_options, ranks, rank_options);
    } else {
      result = sflsim::cli::run_scenario(scenario, run_options);
    }
    std::printf("final test accuracy %.4f (best %.4f) after %.1f s of virtual time; results in %s/\n",
                result.final_accuracy, result.best_accuracy, result.virtual_seconds, out_dir.c_str());
    if (result.resumed_at > 0) std::printf("(resumed at round %d)\n", result.resumed_at);
    if (result.checkpoints > 0) std::printf("(%d checkpoints written)\n", result.checkpoints);
  } catch (const sflsim::cli::ScenarioError& e) {
    // Checks made while building the world know the JSON path but not the file.
    const std::string message = e.what();
    const std::string generic = "scenario: ";
    if (message.rfind(generic, 0) != 0) throw;
    throw sflsim::cli::ScenarioError(scenario_path + ": " + message.substr(generic.size()));
  } else if (sweep->parsed()) {
    sflsim::cli::SweepOptions sweep_options;
    sweep_options.out_dir = sweep_out;
    sweep_options.threads = threads;
    sweep_options.progress = !sweep_quiet;
    sweep_options.checkpoint_every = sweep_checkpoint_every;
    sweep_options.only_cell = sweep_cell;
    sflsim::cli::install_stop_handlers();
    at::set_num_threads(1);  // as for run: results must not depend on --threads
    sflsim::cli::SweepResult result;
    if (rank_options.active()) {
      if (sweep_cell >= 0) throw std::invalid_argument("--cell runs one cell here: drop --ranks / --world");
      sflsim::cli::sweep_cells(sweep_path);  // a bad sweep file fails before any worker starts
      sflsim::cli::RankWorld ranks(rank_options, threads, device, "sweep", sweep_path);
      sflsim::cli::RankPool pool(ranks.comm(), sflsim::cli::rank_message(sflsim::cli::RankMessageKind::hello),
                                 sflsim::cli::rank_pool_options(rank_options, ranks));
      sflsim::cli::RankCellRunner runner(pool, threads);
      sweep_options.runner = &runner;
      result = sflsim::cli::run_sweep(sweep_path, sweep_options);
    } else {
      result = sflsim::cli::run_sweep(sweep_path, sweep_options);
    }
    if (sweep_cell >= 0) {
      std::printf("cell %d of %d done; the whole sweep's command (without --cell) writes %s/sweep.csv\n", sweep_cell,
                  result.cells, sweep_out.c_str());
    } else {
      std::printf("%d cells: %d run, %d finished earlier; table in %s/sweep.csv\n", result.cells, result.ran,
                  result.skipped, sweep_out.c_str());
    }
  } else if (schema->parsed()) {
    std::cout << sflsim::cli::schema_markdown();
  } else if (train->parsed()) {
    central.data_dir = data_dir;
    central.csv = csv;
    central.augment = !no_augment;
    sflsim::cli::train_central(central);
  } else if (bench_des->parsed()) {
    std::cout << sflsim::core::to_json(sflsim::core::run_des_benchmark(bench_des_options)) << '\n';
  } else if (bench_train->parsed()) {
    std::cout << sflsim::cli::run_train_benchmark(bench_train_options) << '\n';
  } else if (bench_ranks->parsed()) {
    bench_ranks_options.self = std::filesystem::read_symlink("/proc/self/exe").string();
    bench_ranks_options.threads = threads;
    std::cout << sflsim::cli::run_ranks_benchmark(bench_ranks_options) << '\n';
  } else if (bench_round->parsed() || bench_memory->parsed()) {
    suite.self = std::filesystem::read_symlink("/proc/self/exe").string();
    suite.threads = threads;
    const std::string what = bench_round->parsed() ? "round" : "memory";
    if (child_clients >= 0) {
      std::cout << sflsim::cli::run_suite_child(what, child_clients, suite) << '\n';
    } else {
      std::cout << (what == "round" ? sflsim::cli::run_round_benchmark(suite) : sflsim::cli::run_memory_benchmark(suite))
                << '\n';
    }
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const sflsim::cli::Interrupted& e) {
    std::fprintf(stderr,
                 "sflsim: %s; its checkpoint is saved: continue with `sflsim run --resume OUT_DIR` "
                 "(a sweep: rerun the same sweep command)\n",
                 e.what());
    return 128 + e.signal;
  } catch (const sflsim::datasets::DataError& e) {
    std::fprintf(stderr, "sflsim: error: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "sflsim: error: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sflsim: runtime failure: %s\n", e.what());
    return kExitRuntime;
  }
}
