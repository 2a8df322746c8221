// `sflsim run` end to end on the synthetic dataset: exact traffic accounting,
// byte-identical reruns across thread counts, and fault tolerance.
#include "simulator/run/run_scenario.hpp"
#include "simulator/world/world.hpp"
#include "csv_file.hpp"
#include "temp_dir.hpp"

#include <ATen/Parallel.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace sflsim;
using namespace sflsim::cli;

namespace {
using sflsim::test::csv_rows;
using sflsim::test::read_file;

Scenario small_scenario(int clients, int rounds) {
  Scenario s;
  s.dataset.name = "synthetic";
  s.dataset.augment = false;
  s.training.rounds = rounds;
  s.training.batch_size = 16;
  s.training.max_samples_per_round = 64;
  s.training.eval_samples = 200;
  s.clients.count = clients;
  DeviceTier slow{"slow", 0.5, 2.0, 5.0, "3g"};
  DeviceTier fast{"fast", 0.5, 8.0, 50.0, "wifi"};
  s.clients.tiers = {slow, fast};
  return s;
}

RunOptions quiet(const std::filesystem::path& dir) {
  RunOptions options;
  options.out_dir = dir;
  options.progress = false;
  return options;
}
}  // namespace

TEST_CASE("fault-free traffic: activation bytes are samples x activation bytes at each client's cut", "[run][heavy]") {
  const Scenario scenario = small_scenario(4, 2);
  World world(scenario);
  int64_t expected = 0;
  for (int c = 0; c < scenario.clients.count; ++c) {
    expected += world.samples_per_round(c) *
                world.net->architecture().activation_bytes(world.config, world.profiles[static_cast<size_t>(c)].cut);
  }
  sflsim::test::TempDir dir;
  run_world(world, quiet(dir.path()));
  const auto metrics = csv_rows(read_file(dir.path() / "metrics.csv"));
  REQUIRE(metrics.size() == 2);
  for (const auto& row : metrics) {
    CHECK(std::stoll(row[7]) == expected);   // bytes_activations
    CHECK(std::stoll(row[8]) == expected);   // bytes_gradients
    CHECK(row[11] == "4");                   // clients_ok
  }
}

// Each task runs on one thread with one LibTorch thread (as `sflsim run`
// sets it), so the worker count must not change a byte; the crash checks
// that an actor destroyed mid-round waits for its tasks.
TEST_CASE("same scenario and seed, 1, 2 or 3 threads: byte-identical metrics and clients", "[run][slow]") {
  Scenario scenario = small_scenario(6, 3);
  scenario.faults.drop_probability = 0.1;
  scenario.faults.crashes = {Crash{2, 40.0, 30.0}};
  at::set_num_threads(1);
  std::vector<std::string> outputs;
  for (int threads : {1, 1, 2, 3}) {
    sflsim::test::TempDir dir;
    RunOptions options = quiet(dir.path());
    options.threads = threads;
    run_scenario(scenario, options);
    outputs.push_back(read_file(dir.path() / "metrics.csv") + read_file(dir.path() / "clients.csv"));
  }
  CHECK(outputs[0].size() > 200);
  CHECK(outputs[0] == outputs[1]);
  CHECK(outputs[0] == outputs[2]);
  CHECK(outputs[0] == outputs[3]);
}

TEST_CASE("drops and a two-round server outage: every round reported, local-only training, recovery", "[run][slow]") {
  Scenario scenario = small_scenario(12, 7);
  scenario.faults.drop_probability = 0.3;
  scenario.faults.server_outages = {ServerOutage{3, 2}};
  sflsim::test::TempDir dir;
  run_scenario(scenario, quiet(dir.path()));
  const std::string metrics_text = read_file(dir.path() / "metrics.csv");
  const std::string clients_text = read_file(dir.path() / "clients.csv");
  CHECK(metrics_text.find("nan") == std::string::npos);
  CHECK(clients_text.find("nan") == std::string::npos);
  const auto metrics = csv_rows(metrics_text);
  REQUIRE(metrics.size() == 7);
  for (size_t r = 0; r < metrics.size(); ++r) CHECK(metrics[r][0] == std::to_string(r + 1));
  CHECK(metrics[2][11] == "0");  // nobody completes a round with the server while it is out
  CHECK(metrics[3][11] == "0");
  int local_only_in_outage = 0;
  for (const auto& row : csv_rows(clients_text)) {
    if ((row[0] == "3" || row[0] == "4") && row.back() == "local-only") ++local_only_in_outage;
  }
  CHECK(local_only_in_outage >= 6);
  const double during = std::stod(metrics[3][2]);
  const double after = std::stod(metrics[6][2]);
  CHECK(after > during);
}
