#pragma once
// `sflsim bench des`: how fast the kernel runs, with toy payloads.
//
// actors / 2 pairs of actors ping-pong a small message over a private pair of
// links (1 ms + a per-pair offset of latency, 100 Mbit/s, 1,000 bytes), so
// the timer heap holds one event per pair at distinct instants, as in a
// federation of clients on different networks.
#include <cstdint>
#include <string>

namespace sflsim::core {

struct DesBenchmarkOptions {
  int actors = 1000;                // even; actors / 2 ping-pong pairs
  std::int64_t messages = 2'000'000;  // in total, over all pairs
  std::uint64_t seed = 1;
};

struct DesBenchmarkResult {
  int actors = 0;
  std::int64_t messages = 0;        // messages delivered
  std::int64_t events = 0;          // kernel timer events fired (2 per message: end of transmission, arrival)
  double wall_s = 0;                // wall-clock time of the run (world construction excluded)
  double events_per_s = 0;
  double messages_per_s = 0;
  // Resident memory growth from before the world was built to the warm state
  // (every actor suspended with a message in flight), divided by actors.
  double bytes_per_actor = 0;
  double virtual_s = 0;             // simulated time at the end
  std::uint64_t fingerprint = 0;    // trace fingerprint (same on every run)
};

DesBenchmarkResult run_des_benchmark(const DesBenchmarkOptions& options);
std::string to_json(const DesBenchmarkResult& result);

}  // namespace sflsim::core
