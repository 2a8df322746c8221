#include "simulator/cli/rank_flags.hpp"

#include "simulator/ranks/worker.hpp"
#include "simulator/run/interrupt.hpp"

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

namespace sflsim::cli {

void add_rank_flags(CLI::App& command, RankOptions& options) {
  command.add_option("--ranks", options.spawn,
                     "Start N worker processes here and spread the work over them (run: the clients' rounds; "
                     "sweep: the cells); the outputs are the bytes of a run in one process")
      ->check(CLI::Range(0, 4096));
  const char* group = "Ranks started by a launcher (mpirun, srun), on one or several machines";
  command.add_option("--world", options.world, "Processes in all: rank 0 runs, the others serve it")
      ->check(CLI::Range(2, 4096))
      ->group(group);
  command.add_option("--rank", options.rank, "This process's rank, 0..N-1")->check(CLI::Range(0, 4095))->group(group);
  command.add_option("--store", options.store,
                     "Where the ranks meet: HOST:PORT of rank 0 (it listens there) or a file path every rank can open")
      ->group(group);
  command.add_option("--bind", options.bind_host, "This machine's address as the other ranks reach it")->group(group);
  command.add_option("--rank-timeout", options.timeout_s,
                     "Seconds of silence after which a worker rank is lost and its work goes to the others")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
}

int serve_as_worker(const RankOptions& options, int threads, const std::string& device, const std::string& subcommand,
                    const std::string& target) {
  // Rank 0 sends it everything it needs; its jobs spread over threads as a run's clients do.
  at::set_num_threads(1);
  // A stop (Ctrl-C to the group, or passed on by a spawning rank 0) ends a
  // sweep cell here at its next boundary with a checkpoint; rank 0 decides
  // the rest, so a second signal does not kill the worker mid-write.
  install_stop_handlers(SecondSignal::ignored);
  RankWorld ranks(options, threads, device, subcommand, target);
  return serve_rank_zero(ranks.comm(), threads);
}

}  // namespace sflsim::cli
