// The fault paths of the client protocol, run through whole small worlds:
// late plans, server outages, lost batches, and the staleness of what a
// cut-off client uploads later. Exact records and virtual times.
#include "baseline_run.hpp"
#include "client/client.hpp"
#include "server/coordinator.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

using namespace sflsim;

namespace {

struct Observed {
  std::vector<client::RoundRecord> records;
  std::vector<server::RoundSummary> rounds;
  test::RunOutputs outputs;
};

Observed run_observed(const cli::Scenario& s) {
  cli::World world(s);
  Observed seen;
  cli::RunOptions options;
  options.observe_record = [&seen](const client::RoundRecord& r) { seen.records.push_back(r); };
  options.observe_round = [&seen](const server::RoundSummary& r) { seen.rounds.push_back(r); };
  seen.outputs = test::run_outputs(world, options);
  return seen;
}

}  // namespace

TEST_CASE("a one-round server outage: every selected client trains alone through it, for the round's own period", "[faults]") {
  cli::Scenario s = test::baseline_scenario("supersfl");
  s.training.rounds = 3;
  s.faults.server_outages = {{2, 1}};
  const Observed seen = run_observed(s);
  REQUIRE(seen.rounds.size() == 3);
  CHECK(seen.rounds[1].outage);
  int local_only = 0;
  for (const client::RoundRecord& r : seen.records) {
    if (r.round == 2) {
      CHECK(r.outcome == client::Outcome::local_only);
      CHECK(r.samples == 48);  // the whole round, finished inside the outage
      ++local_only;
    }
  }
  CHECK(local_only == 6);  // all six clients were selected
  // The outage lasted the period round 2 would have had (that of rounds 1 and 3, same clients).
  const auto length = [&](int i) { return seen.rounds[i].end - (i == 0 ? core::SimTime{} : seen.rounds[i - 1].end); };
  cli::World world(s);
  std::vector<const server::ClientProfile*> everyone;
  for (const server::ClientProfile& p : world.profiles) everyone.push_back(&p);
  CHECK(length(1) == world.strategy->round_period(everyone));
  // Round 3 folds each client's local-only update, trained from round 1's model: staleness 2.
  REQUIRE(seen.rounds[2].reintegrated.size() == 6);
  for (const auto& [client, staleness] : seen.rounds[2].reintegrated) CHECK(staleness == 2);
}

TEST_CASE("an unknown partition name is an error naming its JSON path", "[faults]") {
  cli::Scenario s = test::baseline_scenario("supersfl");
  s.dataset.partition = "by-colour";
  CHECK_THROWS_WITH(cli::World(s), Catch::Contains("$.dataset.partition") && Catch::Contains("by-colour"));
}

TEST_CASE("SuperSFL with lambda = 1 and sample weights is SFL-V1 at the same cut, to the digit", "[faults]") {
  cli::Scenario sfl = test::baseline_scenario("sfl-v1");
  sfl.training.rounds = 3;
  sfl.algorithm.cut.policy = "fixed";
  sfl.algorithm.cut.fixed = 2;
  cli::Scenario super = sfl;
  super.algorithm.name = "supersfl";
  super.algorithm.lambda = "server-only";
  super.algorithm.performance_weights = false;
  const auto accuracy = [](const std::string& metrics) {
    std::vector<std::string> out;
    for (const auto& row : test::csv_rows(metrics)) out.push_back(row[2] + " " + row[3]);  // test accuracy and loss
    return out;
  };
  const std::vector<std::string> a = accuracy(test::run_outputs(sfl).metrics);
  const std::vector<std::string> b = accuracy(test::run_outputs(super).metrics);
  REQUIRE(a.size() == 3);
  CHECK(a == b);
}

TEST_CASE("SuperSFL with one shared server model trains clients of every cut, each batch answered", "[faults]") {
  cli::Scenario s = test::baseline_scenario("supersfl");
  s.training.rounds = 2;
  s.algorithm.server_side = "shared";
  const Observed seen = run_observed(s);
  REQUIRE(seen.records.size() == 12);
  std::set<int> cuts;
  for (const client::RoundRecord& r : seen.records) {
    CHECK(r.outcome == client::Outcome::ok);
    CHECK(r.gradients_received == r.batches);
    cuts.insert(r.cut);
  }
  CHECK(cuts.size() > 1);  // heterogeneous cuts share the one model
  cli::Scenario replicas = s;
  replicas.algorithm.server_side = "replicas";
  CHECK(test::run_outputs(replicas).metrics != seen.outputs.metrics);
}

TEST_CASE("clients.csv says crashed only for a round the client was down in; a later missed round is a timeout", "[faults]") {
  cli::Scenario s = test::baseline_scenario("sfl-v1");
  s.training.rounds = 4;
  const Observed fault_free = run_observed(s);
  REQUIRE(fault_free.rounds.size() == 4);
  const double round2_end = static_cast<double>(fault_free.rounds[1].end.time_since_epoch().count()) * 1e-9;
  s.faults.crashes = {{1, 0.5, 1.0}};                     // down from 0.5 s to 1.5 s, in round 1 (to 2.39 s)
  s.faults.link_down = {{1, round2_end, round2_end + 1e6}};  // cut off from round 3 on, long after it rejoined
  const Observed seen = run_observed(s);
  std::map<int, std::string> outcome_by_round;
  for (const auto& row : test::csv_rows(seen.outputs.clients)) {
    if (row[1] == "1") outcome_by_round[std::stoi(row[0])] = row.back();
  }
  INFO(seen.outputs.clients);
  CHECK(outcome_by_round[1] == "crashed");
  CHECK(outcome_by_round[2] != "crashed");  // up all through round 2 (it misses it all the same: a rejoined SFL-V1 client sits out its next round, a separate question)
  CHECK(outcome_by_round[3] == "timeout");
  CHECK(outcome_by_round[4] == "timeout");
}
