// The strategies' nominal round time is the round a client alone with the
// server is charged, to the nanosecond: the same integer cost functions.
#include "baseline_run.hpp"

#include <catch2/catch.hpp>

#include <cstdio>

using namespace sflsim;

TEST_CASE("a lone client's round lasts exactly its nominal round time", "[run]") {
  for (const char* algorithm : {"sfl-v1", "supersfl", "fedavg", "depthfl", "heterofl"}) {
    CAPTURE(algorithm);
    cli::Scenario s = test::baseline_scenario(algorithm);
    s.clients.count = 1;
    s.clients.tiers = {s.clients.tiers[1]};
    s.training.rounds = 1;
    s.training.max_samples_per_round = 40;  // two full batches of 16 and one of 8
    cli::World world(s);
    const server::ClientProfile& p = world.profiles[0];
    REQUIRE(p.nominal_round_time.count() > 0);
    const auto metrics = test::csv_rows(test::run_outputs(world).metrics);
    REQUIRE(metrics.size() == 1);
    char expected[32];
    std::snprintf(expected, sizeof expected, "%.9f", static_cast<double>(p.nominal_round_time.count()) * 1e-9);
    CHECK(metrics[0][1] == expected);  // virtual_time_s of round 1, which started at 0
    CHECK(metrics[0][11] == "1");      // clients_ok: well inside the deadline (2x nominal)
  }
}
