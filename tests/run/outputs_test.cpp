// The run's summary figures computed from its rows: rounds to the target
// accuracy, first crossed and sustained (never below it again).
#include "simulator/run/outputs.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <vector>

using namespace sflsim;

namespace {

// One row per accuracy; nullopt: a round that was not evaluated.
std::vector<cli::MetricsRow> rows_of(const std::vector<std::optional<double>>& accuracies) {
  std::vector<cli::MetricsRow> rows;
  for (const std::optional<double>& a : accuracies) {
    cli::MetricsRow row;
    row.summary.round = static_cast<int>(rows.size()) + 1;
    row.summary.evaluated = a.has_value();
    row.summary.test_accuracy = a.value_or(0.0);
    rows.push_back(row);
  }
  return rows;
}

int round_of(const server::RoundSummary* s) { return s ? s->round : 0; }

}  // namespace

TEST_CASE("the sustained target is the first round from which no evaluated round falls below it", "[run]") {
  const auto rows = rows_of({0.5, 0.82, std::nullopt, 0.79, 0.80, std::nullopt, 0.9});
  const cli::TargetRounds reached = cli::target_rounds(rows, 0.8);
  CHECK(round_of(reached.first) == 2);
  CHECK(round_of(reached.sustained) == 5);  // 0.80 counts as reached; unevaluated rounds do not break it
  CHECK(round_of(cli::target_rounds(rows, 0.85).first) == 7);
  CHECK(round_of(cli::target_rounds(rows, 0.85).sustained) == 7);
  const auto fell_back = rows_of({0.9, 0.7});
  CHECK(round_of(cli::target_rounds(fell_back, 0.8).first) == 1);
  CHECK(round_of(cli::target_rounds(fell_back, 0.8).sustained) == 0);  // not held to the end
  CHECK(round_of(cli::target_rounds(rows, 0.95).first) == 0);
}
