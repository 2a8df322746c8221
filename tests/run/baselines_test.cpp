// The baselines on the one supernet, each by its defining behaviour.
#include "simulator/run/run_scenario.hpp"
#include "simulator/world/world.hpp"
#include "baseline_run.hpp"
#include "csv_file.hpp"
#include "temp_dir.hpp"

#include <ATen/Parallel.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

using namespace sflsim;
using namespace sflsim::cli;

namespace {
using sflsim::test::csv_rows;
using sflsim::test::read_file;

using Outputs = sflsim::test::RunOutputs;
using sflsim::test::baseline_scenario;

std::string column(const std::string& csv, size_t index) {
  std::string out;
  for (const auto& row : csv_rows(csv)) out += row.at(index) + ";";
  return out;
}
}  // namespace

TEST_CASE("FedAvg and HeteroFL train the whole model on the device: no activations, weights only", "[baselines][heavy]") {
  for (const char* algorithm : {"fedavg", "heterofl"}) {
    const Scenario scenario = baseline_scenario(algorithm);
    World world(scenario);
    int64_t expected_weights = 0;  // plan down + upload up, per client per round
    const auto& arch = world.net->architecture();
    for (const server::ClientProfile& p : world.profiles) {
      CHECK(p.cut == arch.unit_count());
      CHECK(p.head_cuts.empty());
      CHECK_FALSE(p.split);
      expected_weights += 2 * scenario.training.rounds * 4 * arch.params(p.config, 1, arch.unit_count());
    }
    // BatchNorm running statistics travel too: count them from the plans' tensors.
    sflsim::test::TempDir dir;
    RunOptions options;
    options.out_dir = dir.path();
    options.progress = false;
    run_world(world, options);
    int64_t weights = 0;
    for (const auto& row : csv_rows(read_file(dir.path() / "metrics.csv"))) {
      CHECK(row[7] == "0");  // bytes_activations
      CHECK(row[8] == "0");  // bytes_gradients
      weights += std::stoll(row[9]);
    }
    CHECK(weights >= expected_weights);
    CHECK(weights < expected_weights * 11 / 10);
  }
}

TEST_CASE("SFL-V1 equals FedAvg on the same clients: averaged replicas are the averaged whole model", "[baselines]") {
  Scenario v1 = baseline_scenario("sfl-v1");
  v1.algorithm.cut.fixed = 3;
  const Outputs split = sflsim::test::run_outputs(v1);
  const Outputs whole = sflsim::test::run_outputs(baseline_scenario("fedavg"));
  CHECK(column(split.metrics, 2) == column(whole.metrics, 2));  // test accuracy, every round
  CHECK(column(split.metrics, 3) == column(whole.metrics, 3));  // test loss
  CHECK(column(split.metrics, 7) != column(whole.metrics, 7));  // but SFL moves activations
}

TEST_CASE("SFL-V2 shares one server model: same traffic as SFL-V1, different weights", "[baselines]") {
  const Outputs v1 = sflsim::test::run_outputs(baseline_scenario("sfl-v1"));
  const Outputs v2 = sflsim::test::run_outputs(baseline_scenario("sfl-v2"));
  CHECK(column(v1.metrics, 7) == column(v2.metrics, 7));  // bytes_activations
  CHECK(column(v1.metrics, 9) == column(v2.metrics, 9));  // bytes_weights: the server model never travels
  CHECK(column(v1.metrics, 3) != column(v2.metrics, 3));  // test loss: one sequential server model
  for (const auto& row : csv_rows(v2.clients)) CHECK(row[3] == "3");  // the fixed cut for everyone
}

TEST_CASE("FedAvg and SFL exclude clients whose memory cannot hold their part, unless forced", "[baselines]") {
  Scenario scenario = baseline_scenario("fedavg");
  scenario.clients.tiers[0].memory_gb = 0.01;  // 10 MB: less than the whole model's training memory
  {
    World world(scenario);
    CHECK(world.excluded_clients == 3);
    for (size_t r = 1; r < world.selected.size(); ++r) {
      for (int c : world.selected[r]) CHECK(world.profiles[static_cast<size_t>(c)].tier == 1);
    }
  }
  std::set<std::string> tiers;
  for (const auto& row : csv_rows(sflsim::test::run_outputs(scenario).clients)) tiers.insert(row[2]);
  CHECK(tiers == std::set<std::string>{"large"});
  scenario.algorithm.include_excluded = true;
  CHECK(World(scenario).excluded_clients == 0);
  scenario.clients.tiers[1].memory_gb = 0.01;
  scenario.algorithm.include_excluded = false;
  CHECK_THROWS_WITH(World(scenario), Catch::Contains("no client has the memory for its fedavg part"));
}

TEST_CASE("HeteroFL: width by memory share, coverage-normalised aggregation learns", "[baselines]") {
  const Scenario scenario = baseline_scenario("heterofl");
  const World world(scenario);
  for (const server::ClientProfile& p : world.profiles) CHECK(p.config.width[0] == (p.memory_gb == 8.0 ? 1.0 : 0.25));
  const Outputs out = sflsim::test::run_outputs(scenario);
  std::set<std::string> widths;
  for (const auto& row : csv_rows(out.clients)) widths.insert(row[4]);
  CHECK(widths == std::set<std::string>{"0.250", "1.000"});
  for (const auto& row : csv_rows(out.metrics)) CHECK(std::stod(row[3]) < 5.0);  // test loss stays sane
}
