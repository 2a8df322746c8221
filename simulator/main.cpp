// sflsim: the command line (the subcommands are in cli/). Exit codes: 0 ok,
// 1 runtime failure, 2 bad input.
#include "datasets/compute_device.hpp"
#include "datasets/dataset.hpp"
#include "simulator/cli/commands.hpp"
#include "simulator/run/interrupt.hpp"

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <stdexcept>
#include <thread>

namespace {
constexpr int kExitRuntime = 1;
constexpr int kExitBadInput = 2;

int run(int argc, char** argv) {
  CLI::App app{"sflsim: a discrete-event simulator of federated split learning with weight-sharing supernets"};
  app.require_subcommand(1);
  sflsim::cli::GlobalOptions global;
  global.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--threads", global.threads,
                 "Threads (default: number of cores). run: clients' work spread over threads, each with one "
                 "LibTorch thread, so results do not depend on it; train-central and bench: LibTorch intra-op threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--device", global.device,
                 "Where tensors live: cpu, cuda or cuda:N (needs a CUDA LibTorch: cmake -DSFLSIM_TORCH_PREFIX=...). "
                 "On CUDA reruns are close, not byte-identical")
      ->capture_default_str();
  std::vector<sflsim::cli::Command> commands{
      sflsim::cli::add_train_central_command(app), sflsim::cli::add_run_command(app),
      sflsim::cli::add_validate_command(app),      sflsim::cli::add_sweep_command(app),
      sflsim::cli::add_schema_command(app)};
  for (sflsim::cli::Command& c : sflsim::cli::add_bench_commands(app)) commands.push_back(std::move(c));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitBadInput;
  }
  at::set_num_threads(global.threads);
  sflsim::datasets::set_compute_device(global.device);
  for (const sflsim::cli::Command& c : commands) {
    if (c.app->parsed()) return c.run(global);
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
