#include "simulator/core/simulation.hpp"

#include "simulator/core/device.hpp"

#include <catch2/catch.hpp>

using namespace sflsim::core;
using namespace std::chrono_literals;

TEST_CASE("sleep_for advances virtual time exactly", "[simulation]") {
  Simulation sim;
  SimTime woke{};
  sim.spawn({.name = "sleeper"}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_for(1500ms);
    woke = sim.now();
  });
  const RunReport report = sim.run();
  REQUIRE(woke == at(1500ms));
  REQUIRE(report.end == at(1500ms));
  REQUIRE_FALSE(report.deadlock);
}
