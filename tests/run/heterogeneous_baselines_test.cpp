// SL, DepthFL and RaFL on the one supernet, each by its defining behaviour.
#include "server/parts.hpp"
#include "simulator/run/run_scenario.hpp"
#include "simulator/world/world.hpp"
#include "baseline_run.hpp"
#include "csv_file.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <catch2/catch.hpp>

#include <map>

using namespace sflsim;
using namespace sflsim::cli;

namespace {
using sflsim::test::csv_rows;
using sflsim::test::read_file;

using Outputs = sflsim::test::RunOutputs;
Scenario small_scenario(const std::string& algorithm) { return sflsim::test::baseline_scenario(algorithm); }
Outputs run_world_here(World& world) { return sflsim::test::run_outputs(world); }

double seconds(const std::string& cell) { return std::stod(cell); }
}  // namespace

TEST_CASE("SL: clients take turns, so a round lasts at least the sum of their busy times", "[baselines]") {
  Scenario scenario = small_scenario("sl");
  scenario.training.rounds = 1;
  for (const char* algorithm : {"sl", "sfl-v2"}) {
    scenario.algorithm.name = algorithm;
    const Outputs out = sflsim::test::run_outputs(scenario);
    double busy = 0.0;
    for (const auto& row : csv_rows(out.clients)) {
      CHECK(row[3] == "3");  // the fixed cut
      CHECK(row[11] == "ok");
      busy += seconds(row[6]) + seconds(row[7]);  // compute_s + transmit_s
    }
    const double round_end = seconds(csv_rows(out.metrics).at(0).at(1));
    if (scenario.algorithm.name == "sl") {
      CHECK(round_end >= busy);
    } else {
      CHECK(round_end < busy);  // SFL-V2's clients overlap in time
    }
  }
  // With one client there is nobody to take turns with: SL is SFL-V2.
  scenario.clients.count = 1;
  scenario.training.rounds = 2;
  scenario.algorithm.name = "sl";
  const Outputs sl = sflsim::test::run_outputs(scenario);
  scenario.algorithm.name = "sfl-v2";
  const Outputs v2 = sflsim::test::run_outputs(scenario);
  CHECK(sl.metrics == v2.metrics);
  CHECK(sl.clients == v2.clients);
}

TEST_CASE("DepthFL: depth by memory share, a classifier per stage held, trained and averaged per depth", "[baselines]") {
  const Scenario scenario = small_scenario("depthfl");
  World world(scenario);
  const supernet::Architecture& arch = world.net->architecture();
  REQUIRE(arch.unit_count() == 10);
  for (const server::ClientProfile& p : world.profiles) {
    CHECK_FALSE(p.split);
    CHECK_FALSE(p.excluded);
    if (p.memory_gb == 8.0) {  // level 4 of 4: the whole network, exits after stages 1-3 and its own classifier
      CHECK(p.cut == 10);
      CHECK(p.head_cuts == std::vector<int>{3, 5, 7});
    } else {  // 2 GB is a quarter of the largest: the first stage and its exit
      CHECK(p.cut == 3);
      CHECK(p.head_cuts == std::vector<int>{3});
    }
  }
  std::map<int, at::Tensor> heads_before;
  for (size_t id = 0; id < arch.specs().size(); ++id) {
    if (arch.specs()[id].head) heads_before[static_cast<int>(id)] = world.net->tensors()[id].clone();
  }
  const Outputs out = run_world_here(world);
  for (const auto& row : csv_rows(out.metrics)) {
    CHECK(row[7] == "0");  // no activations: nobody splits
    CHECK(std::stod(row[3]) < 5.0);
  }
  for (const auto& [id, before] : heads_before) {
    const int cut = arch.specs()[static_cast<size_t>(id)].unit;
    const bool exit = cut == 3 || cut == 5 || cut == 7;
    INFO("head tensor " << arch.specs()[static_cast<size_t>(id)].name);
    CHECK(at::equal(before, world.net->tensors()[static_cast<size_t>(id)]) == !exit);
  }
}

TEST_CASE("RaFL: own networks within MAC budgets stay on the device; only the knowledge network is uploaded",
          "[baselines]") {
  Scenario scenario = small_scenario("rafl");
  scenario.algorithm.rafl.proxy_samples = 64;
  World world(scenario);
  const supernet::Architecture& arch = world.net->architecture();
  const int units = arch.unit_count();
  const int64_t full = arch.forward_flops(arch.full_config(), 1, units);
  int64_t knowledge_bytes = 0, own_bytes_total = 0;
  for (size_t id : arch.body_spec_ids(1, units)) {
    knowledge_bytes += 4 * [&] {
      int64_t n = 1;
      for (int64_t d : arch.sliced_shape(arch.specs()[id], world.config)) n *= d;
      return n;
    }();
  }
  for (const server::ClientProfile& p : world.profiles) {
    REQUIRE(p.own_config);
    CHECK(p.config == world.config);
    const int64_t own = server::network_flops(arch, *p.own_config, p.own_depth);
    CHECK(own <= full * p.flops_per_s / 50'000'000'000);  // the budget: the device's share of the fastest's speed
    for (int s = 0; s < 4; ++s) CHECK(world.config.width[static_cast<size_t>(s)] <= 1.0);
  }
  const Outputs out = run_world_here(world);
  const auto rows = csv_rows(out.metrics);
  REQUIRE(rows.size() == 2);
  for (const auto& row : rows) {
    CHECK(row[7] == "0");                                 // no activations
    CHECK(std::stoll(row[5]) == 6 * knowledge_bytes);     // bytes_up: six knowledge networks, nothing else
  }
  // Round 1 sends each client its own network once; round 2 only the knowledge network.
  CHECK(std::stoll(rows[1][6]) == 6 * knowledge_bytes);
  own_bytes_total = std::stoll(rows[0][6]) - 6 * knowledge_bytes;
  CHECK(own_bytes_total > 0);
  // The server's distillation changes the model and costs server time.
  scenario.algorithm.rafl.distill_epochs = 0;
  const Outputs plain = sflsim::test::run_outputs(scenario);
  CHECK(csv_rows(plain.metrics)[0][3] != rows[0][3]);
  CHECK(seconds(csv_rows(plain.metrics)[0][1]) < seconds(rows[0][1]));
}

TEST_CASE("Between rounds a client holds no model unless its algorithm keeps one", "[baselines]") {
  for (const char* algorithm : {"fedavg", "sfl-v1", "depthfl", "rafl", "supersfl"}) {
    Scenario scenario = small_scenario(algorithm);
    scenario.training.rounds = 1;
    scenario.algorithm.rafl.proxy_samples = 16;
    World world(scenario);
    run_world_here(world);
    INFO(algorithm);
    for (const client::ClientState& state : world.client_states) {
      // SuperSFL keeps its last model to train through a server outage; RaFL keeps its own network.
      CHECK(static_cast<bool>(state.prefix) == (scenario.algorithm.name == "supersfl"));
      CHECK(state.heads.size() == (scenario.algorithm.name == "supersfl" ? 1u : 0u));
      CHECK(static_cast<bool>(state.own_body) == (scenario.algorithm.name == "rafl"));
    }
  }
}
