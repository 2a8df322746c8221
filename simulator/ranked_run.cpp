#include "simulator/ranked_run.hpp"

#include "simulator/rank_pool.hpp"
#include "simulator/ranks/communicator.hpp"
#include "simulator/world.hpp"

#include <sys/resource.h>

#include <cstdio>

namespace sflsim::cli {

namespace {

double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

RankPoolOptions rank_pool_options(const RankOptions& rank_options, RankWorld& ranks) {
  RankPoolOptions pool_options;
  pool_options.timeout = rank_options.timeout();
  pool_options.heartbeat = std::min(std::chrono::milliseconds{1000}, pool_options.timeout / 4);
  pool_options.log = [](const std::string& line) { std::fprintf(stderr, "\nsflsim: %s\n", line.c_str()); };
  pool_options.on_lost = [&ranks](int rank) { ranks.kill_worker(rank); };
  return pool_options;
}

RunResult run_on_ranks(const Scenario& scenario, RunOptions options, RankWorld& ranks, const RankOptions& rank_options) {
  const RankPoolOptions pool_options = rank_pool_options(rank_options, ranks);
  RankMessage hello = rank_message(RankMessageKind::hello);
  hello.text = options.scenario_text;
  RankPool pool(ranks.comm(), hello, pool_options);

  // The computers outlive the world, whose scripts' tickets use them.
  std::unique_ptr<LocalComputer> fallback;
  std::unique_ptr<RankComputer> computer;
  // Rank 0's pool keeps about two requests per worker thread in flight (each
  // waits for its reply), and evaluates the supernet.
  World world(scenario, std::max(options.threads, 2 * pool.worker_threads()));
  const server::ServerMode mode = world.strategy->server_mode();
  if (mode != server::ServerMode::none && mode != server::ServerMode::replica_per_client && options.progress) {
    std::fprintf(stderr, "sflsim: %s trains one server model that every client's steps go through: its rounds run on "
                         "rank 0, the workers wait\n", scenario.algorithm.name.c_str());
  }
  fallback = std::make_unique<LocalComputer>(world.net->architecture().options(), world.data.train);
  computer = std::make_unique<RankComputer>(pool, *fallback);
  options.round_computer = computer.get();
  options.wall_counters = [&pool, &world] {
    const auto* remote = dynamic_cast<const RemoteRounds*>(world.scripts.get());
    const RankPoolStats stats = pool.stats();
    return std::vector<std::pair<std::string, double>>{
        {"rank_bytes", static_cast<double>(pool.bytes())},
        {"worker_compute_s", remote ? remote->compute_seconds() : 0.0},
        {"round_trip_s", stats.round_trip_seconds},
        {"rank0_cpu_s", process_cpu_seconds()},
        {"jobs", remote ? static_cast<double>(remote->jobs()) : 0.0},
        {"jobs_resent", static_cast<double>(stats.resent)}};
  };
  return run_world(world, options);
}

}  // namespace sflsim::cli
