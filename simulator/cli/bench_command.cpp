// `sflsim bench des|train|ranks|round|memory`: each prints one JSON document.
#include "simulator/bench/ranks_bench.hpp"
#include "simulator/bench/suite_bench.hpp"
#include "simulator/bench/train_bench.hpp"
#include "simulator/cli/commands.hpp"
#include "simulator/core/des_benchmark.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

namespace sflsim::cli {

namespace {

std::string this_executable() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

Command add_des(CLI::App& bench) {
  auto options = std::make_shared<core::DesBenchmarkOptions>();
  CLI::App* command =
      bench.add_subcommand("des", "Discrete-event kernel: actors ping-ponging over links (events_per_s, bytes_per_actor)");
  command->add_option("--actors", options->actors, "Actors (even)")->check(CLI::Range(2, 10000000))->capture_default_str();
  command->add_option("--messages", options->messages, "Messages in total")->check(CLI::PositiveNumber)->capture_default_str();
  command->add_option("--seed", options->seed)->capture_default_str();
  return {command, [options](const GlobalOptions&) {
            std::cout << core::to_json(core::run_des_benchmark(*options)) << '\n';
            return 0;
          }};
}

Command add_train(CLI::App& bench) {
  auto options = std::make_shared<TrainBenchmarkOptions>();
  CLI::App* command =
      bench.add_subcommand("train", "Training images/s of one subnet: supernet code path vs a plain torch::nn model");
  command->add_option("--widths", options->widths, "Supernet width multipliers")->capture_default_str();
  command->add_option("--batch-size", options->batch_size)->capture_default_str();
  command->add_option("--image-size", options->image_size, "Image height and width")
      ->check(CLI::Range(8, 512))
      ->capture_default_str();
  command->add_option("--channels", options->channels, "Image channels (1 for Fashion-MNIST)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  command->add_option("--seconds", options->seconds_per_measurement, "Seconds per measurement")->capture_default_str();
  return {command, [options](const GlobalOptions&) {
            std::cout << run_train_benchmark(*options) << '\n';
            return 0;
          }};
}

Command add_ranks(CLI::App& bench) {
  auto options = std::make_shared<RanksBenchOptions>();
  CLI::App* command = bench.add_subcommand(
      "ranks", "Samples/s, bytes between ranks and rank 0's waiting at --ranks 1, 2, 3 vs one process; a model of 16 "
               "and 64 ranks");
  command->add_option("--scenario", options->scenario)->capture_default_str();
  command->add_option("--rounds", options->rounds)->check(CLI::Range(1, 1000))->capture_default_str();
  command->add_option("--ranks", options->ranks, "Worker counts to measure")->capture_default_str();
  command->add_option("--model-threads-per-rank", options->model_threads_per_rank)
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  command->add_option("--model-link-gbps", options->model_link_gbps, "Rank 0's network in the model")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  return {command, [options](const GlobalOptions& global) {
            RanksBenchOptions run = *options;
            run.self = this_executable();
            run.threads = global.threads;
            std::cout << run_ranks_benchmark(run) << '\n';
            return 0;
          }};
}

// `round` and `memory` share their options and measure in child processes of this executable.
std::vector<Command> add_suite(CLI::App& bench) {
  struct Flags {
    SuiteOptions suite;
    int child_clients = -1;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* round = bench.add_subcommand(
      "round", "Wall seconds per round at 10/100/300 clients (Fashion-MNIST, width 0.25) vs a plain LibTorch loop");
  round->add_option("--clients", flags->suite.clients, "Client counts")->capture_default_str();
  CLI::App* memory =
      bench.add_subcommand("memory", "Peak RSS with 1,000 and 10,000 registered, idle clients: bytes_per_idle_client");
  std::vector<Command> commands;
  for (CLI::App* sub : {round, memory}) {
    sub->add_option("--rounds", flags->suite.rounds, "Rounds per measurement (the last one evaluates)")
        ->check(CLI::Range(2, 1000))
        ->capture_default_str();
    sub->add_option("--samples", flags->suite.samples_per_client, "Training samples per client per round")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    sub->add_option("--child", flags->child_clients, "Internal: run one measurement in this process")->group("");
    const std::string what = sub == round ? "round" : "memory";
    commands.push_back({sub, [flags, what](const GlobalOptions& global) {
                          SuiteOptions suite = flags->suite;
                          suite.self = this_executable();
                          suite.threads = global.threads;
                          if (flags->child_clients >= 0) {
                            std::cout << run_suite_child(what, flags->child_clients, suite) << '\n';
                          } else {
                            std::cout << (what == "round" ? run_round_benchmark(suite) : run_memory_benchmark(suite))
                                      << '\n';
                          }
                          return 0;
                        }});
  }
  return commands;
}

}  // namespace

std::vector<Command> add_bench_commands(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks; each prints JSON on stdout");
  bench->require_subcommand(1);
  std::vector<Command> commands{add_train(*bench), add_des(*bench), add_ranks(*bench)};
  for (Command& c : add_suite(*bench)) commands.push_back(std::move(c));
  return commands;
}

}  // namespace sflsim::cli
