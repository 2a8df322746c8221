#pragma once
// `sflsim bench round` and `sflsim bench memory`: whole-simulator benchmarks
// on Fashion-MNIST at supernet width 0.25. Each measurement runs in a child
// process (this executable, re-run with --child), so peak RSS is per
// measurement and one measurement's freed memory cannot hide in the next.
#include <string>
#include <vector>

namespace sflsim::cli {

struct SuiteOptions {
  std::string self;                     // path of this executable
  int threads = 1;                      // workers of the simulator; intra-op threads of the plain loop
  std::vector<int> clients{10, 100, 300};
  int rounds = 3;                       // round: the last evaluates; the others are timed
  int samples_per_client = 128;
};

// round: wall seconds per round and training samples/s at each client count
// (all clients every round, no evaluation in the timed rounds), next to a
// plain LibTorch loop on the same model and shape; ratio = simulator / plain.
std::string run_round_benchmark(const SuiteOptions& options);

// memory: peak RSS with 1,000 and 10,000 registered clients of which one
// trains for one round; bytes_per_idle_client = the difference / 9,000.
std::string run_memory_benchmark(const SuiteOptions& options);

// The child side: one measurement, printed as one JSON line.
std::string run_suite_child(const std::string& what, int clients, const SuiteOptions& options);

}  // namespace sflsim::cli
