// Scenario files: strict keys and types with JSON paths, overrides, round trip.
#include "simulator/scenario/json_reader.hpp"
#include "simulator/scenario/scenario_io.hpp"
#include "simulator/sweep/sweep.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace sflsim::cli;

TEST_CASE("a scenario maps onto the option structs and keeps defaults for absent keys", "[scenario]") {
  const Scenario s = parse_scenario(R"({"name": "t", "seed": 9, "clients": {"count": 50,
      "tiers": [{"name": "low", "fraction": 0.5, "memory_gb": 2, "network": "3g"}, {"fraction": 0.5}]},
      "faults": {"drop_probability": 0.3, "server_outages": [{"start_round": 4, "rounds": 2}]}})", "t.json");
  CHECK(s.seed == 9);
  CHECK(s.clients.count == 50);
  REQUIRE(s.clients.tiers.size() == 2);
  CHECK(s.clients.tiers[0].network == "3g");
  CHECK(s.clients.tiers[1].memory_gb == 4.0);
  CHECK(s.faults.server_outages.at(0).rounds == 2);
  CHECK(s.training.batch_size == TrainingOptions{}.batch_size);
}

TEST_CASE("bad scenarios fail with one line naming the file and the JSON path", "[scenario]") {
  CHECK_THROWS_WITH(parse_scenario(R"({"clients": {"cuont": 5}})", "s.json"),
                    "s.json: $.clients.cuont: unknown key");
  CHECK_THROWS_WITH(parse_scenario(R"({"clients": {"count": "many"}})", "s.json"),
                    "s.json: $.clients.count: expected an integer, got a string");
  CHECK_THROWS_WITH(parse_scenario(R"({"server": {"ingress_mbps": -5}})", "s.json"),
                    Catch::StartsWith("s.json: $.server.ingress_mbps: -5 is out of range"));
  CHECK_THROWS_WITH(parse_scenario(R"({"algorithm": {"cut": {"fixed": 0}}})", "s.json"),
                    Catch::StartsWith("s.json: $.algorithm.cut.fixed: 0 is out of range"));
  CHECK_THROWS_WITH(parse_scenario(R"({"clients": {"tiers": [{"network": "6g"}]}})", "s.json"),
                    Catch::StartsWith("s.json: $.clients.tiers[0].network: '6g' is not one of"));
  CHECK_THROWS_WITH(parse_scenario(R"({"dataset": 3})", "s.json"),
                    "s.json: $.dataset: expected an object, got an integer");
  CHECK_THROWS_WITH(parse_scenario(R"({"seed": 1,})", "s.json"), Catch::StartsWith("s.json: not valid JSON at byte offset"));
  CHECK_THROWS_AS(load_scenario("/nonexistent/s.json"), ScenarioError);
}

TEST_CASE("--set overrides are applied before validation", "[scenario]") {
  const Scenario s = parse_scenario(R"({"clients": {"count": 5}})", "s.json",
                                    {"clients.count=100", "algorithm.lambda=server-only", "model.width_multiplier=0.5"});
  CHECK(s.clients.count == 100);
  CHECK(s.algorithm.lambda == "server-only");
  CHECK(s.model.width_multiplier == 0.5);
  CHECK_THROWS_WITH(parse_scenario("{}", "s.json", {"clients.count=lots"}),
                    "s.json: $.clients.count: expected an integer, got a string");
  CHECK_THROWS_WITH(parse_scenario("{}", "s.json", {"nonsense"}), Catch::Contains("expected path=value"));
}

TEST_CASE("the resolved scenario reads back to the same scenario", "[scenario]") {
  const Scenario s = parse_scenario(R"({"clients": {"count": 7}, "faults": {"crashes": [{"client": 2, "at_s": 3}]}})",
                                    "s.json");
  const std::string resolved = resolved_json(s);
  CHECK(resolved_json(parse_scenario(resolved, "resolved.json")) == resolved);
  CHECK(resolved.find("\"rejoin_after_s\": -1.0") != std::string::npos);
  const std::string schema = schema_markdown();
  CHECK(schema.find("| `clients.tiers[].network` |") != std::string::npos);
  CHECK(schema.find("| `faults.drop_probability` |") != std::string::npos);
}

TEST_CASE("the shipped scenarios parse and scenarios/SCHEMA.md is current", "[scenario]") {
  for (const auto& entry : std::filesystem::directory_iterator("scenarios")) {
    if (entry.path().extension() == ".json") CHECK_NOTHROW(load_scenario(entry.path()));
  }
  // Sweeps and the paper kit: every cell of every sweep parses (the CIFAR data need not be here).
  int sweeps = 0;
  for (const char* folder : {"scenarios/sweeps", "scenarios/paper"}) {
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      if (entry.path().extension() != ".json") continue;
      std::ifstream in(entry.path());
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      INFO(entry.path());
      if (text.find("\"axes\"") != std::string::npos) {
        ++sweeps;
        CHECK(sweep_scenarios(entry.path()).size() >= 2);
      } else {
        CHECK_NOTHROW(load_scenario(entry.path()));
      }
    }
  }
  CHECK(sweeps >= 8);
  std::ifstream schema_file("scenarios/SCHEMA.md");
  std::stringstream schema;
  schema << schema_file.rdbuf();
  CHECK(schema.str().find(schema_markdown()) != std::string::npos);  // regenerate with `sflsim schema`
}
