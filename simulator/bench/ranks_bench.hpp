#pragma once
// `sflsim bench ranks`: one scenario run in one process and with --ranks N
// (child processes of this executable), reporting per rank count the
// training samples per wall second, the bytes between ranks per round, the
// workers' compute and the communication per client job, rank 0's CPU per
// round and the fraction of the time it waits, and whether the outputs are
// the one-process run's bytes; then a model of 16 and 64 ranks from the
// largest measured count (see run_ranks_benchmark).
#include <string>
#include <vector>

namespace sflsim::cli {

struct RanksBenchOptions {
  std::string self;  // this executable
  int threads = 1;   // --threads of every run (workers share them)
  std::string scenario = "scenarios/paper/fmnist-100.json";
  int rounds = 4;
  std::vector<int> ranks{1, 2, 3};
  int model_threads_per_rank = 1;  // the model's workers: threads (cores) each
  double model_link_gbps = 10;     // the model's rank-0 network link
};

// JSON (pretty-printed).
std::string run_ranks_benchmark(const RanksBenchOptions& options);

}  // namespace sflsim::cli
