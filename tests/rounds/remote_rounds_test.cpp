// Client rounds recorded as scripts and computed through their bytes (what
// `sflsim run --ranks` sends to other processes) give the bytes of the run
// whose chains ran in this process: every algorithm with a per-client server
// side, and every kind of fault.
#include "baseline_run.hpp"
#include "simulator/rounds/remote_rounds.hpp"

#include <catch2/catch.hpp>

using namespace sflsim;

namespace {

test::RunOutputs computed_elsewhere(const cli::Scenario& s, int threads) {
  std::unique_ptr<cli::LocalComputer> computer;  // outlives the world, whose tasks use it
  cli::World world(s, threads);
  computer = std::make_unique<cli::LocalComputer>(world.net->architecture().options(), world.data.train);
  cli::RunOptions options;
  options.round_computer = computer.get();
  test::RunOutputs out = test::run_outputs(world, options);
  const auto* rounds = dynamic_cast<const cli::RemoteRounds*>(world.scripts.get());
  REQUIRE(rounds != nullptr);
  CHECK(rounds->jobs() > 0);
  return out;
}

}  // namespace

TEST_CASE("scripted rounds computed through their bytes equal the in-process chains", "[remote][heavy]") {
  for (const char* algorithm : {"supersfl", "sfl-v1", "fedavg", "heterofl", "depthfl", "rafl"}) {
    INFO(algorithm);
    cli::Scenario s = test::baseline_scenario(algorithm);
    s.training.rounds = 3;
    s.training.eval_every = 1;
    s.algorithm.include_excluded = true;
    cli::World world(s, 2);
    const test::RunOutputs reference = test::run_outputs(world);
    const test::RunOutputs scripted = computed_elsewhere(s, 2);
    CHECK(scripted.metrics == reference.metrics);
    CHECK(scripted.clients == reference.clients);
  }
}

TEST_CASE("scripted rounds with drops, a link-down window, crashes and a server outage equal the in-process chains",
          "[remote][faults]") {
  cli::Scenario s = test::baseline_scenario("supersfl");
  s.training.rounds = 6;
  s.faults.drop_probability = 0.2;
  s.faults.server_outages = {{3, 1}};
  s.faults.link_down = {{1, 20.0, 40.0}};
  s.faults.crashes = {{2, 15.0, 60.0}, {4, 30.0, -1.0}};
  cli::World world(s, 2);
  const test::RunOutputs reference = test::run_outputs(world);
  for (int threads : {1, 2}) {
    INFO("--threads " << threads);
    const test::RunOutputs scripted = computed_elsewhere(s, threads);
    CHECK(scripted.metrics == reference.metrics);
    CHECK(scripted.clients == reference.clients);
  }
}
