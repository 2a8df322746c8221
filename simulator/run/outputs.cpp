#include "simulator/run/outputs.hpp"

#include "simulator/checkpoint/checkpoint.hpp"
#include "simulator/io/build_identity.hpp"
#include "simulator/io/files.hpp"
#include "simulator/world/world.hpp"

#include <boost/version.hpp>
#include <nlohmann/json.hpp>
#include <torch/version.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

namespace sflsim::cli {

namespace {

std::string seconds_text(core::SimDuration d) { return fixed(static_cast<double>(d.count()) * 1e-9, 9); }

double seconds_of(core::SimTime t) { return static_cast<double>(t.time_since_epoch().count()) * 1e-9; }

// Whether `client` was down at some time in [from, to] (a crash window overlaps the round).
bool down_during(const Scenario& scenario, int client, double from, double to) {
  for (const Crash& crash : scenario.faults.crashes) {
    if (crash.client != client) continue;
    const bool rejoined_before = crash.rejoin_after_s >= 0 && crash.at_s + crash.rejoin_after_s <= from;
    if (crash.at_s <= to && !rejoined_before) return true;
  }
  return false;
}

}  // namespace

TargetRounds target_rounds(const std::vector<MetricsRow>& rows, double target) {
  TargetRounds out;
  for (const MetricsRow& r : rows) {
    if (!r.summary.evaluated) continue;
    if (r.summary.test_accuracy >= target) {
      if (!out.first) out.first = &r.summary;
      if (!out.sustained) out.sustained = &r.summary;
    } else {
      out.sustained = nullptr;
    }
  }
  return out;
}

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

void write_metrics_csv(const std::filesystem::path& dir, const RunLog& log) {
  std::ostringstream csv;
  csv << "round,virtual_time_s,test_accuracy,test_loss,train_loss,bytes_up,bytes_down,bytes_activations,"
         "bytes_gradients,bytes_weights,energy_j,clients_ok,clients_failed\n";
  for (const MetricsRow& r : log.rows) {
    const server::RoundSummary& s = r.summary;
    csv << s.round << ',' << seconds_text(s.end.time_since_epoch()) << ','
        << (s.evaluated ? fixed(s.test_accuracy, 6) : "") << ',' << (s.evaluated ? fixed(s.test_loss, 6) : "") << ','
        << fixed(s.train_loss, 6) << ',' << r.traffic.up << ',' << r.traffic.down << ',' << r.traffic.activations
        << ',' << r.traffic.gradients << ',' << r.traffic.weights << ',' << fixed(r.energy_j, 6) << ','
        << s.clients_ok << ',' << s.clients_failed << '\n';
  }
  write_atomically(dir / "metrics.csv", csv.str());
}

WallTable::WallTable(Counters counters) : counters_(std::move(counters)) {
  if (counters_) before_ = counters_();
}

void WallTable::end_round() {
  if (!counters_) return;
  std::vector<std::pair<std::string, double>> now = counters_();
  std::vector<double>& increase = increases_.emplace_back();
  for (size_t c = 0; c < now.size(); ++c) increase.push_back(now[c].second - before_[c].second);
  before_ = std::move(now);
}

void WallTable::write(const std::filesystem::path& dir, const RunLog& log) const {
  std::ostringstream wall;
  wall << "round,wall_s";
  for (const auto& [name, value] : before_) wall << ',' << name;
  wall << '\n';
  const size_t first_here = log.wall_seconds.size() - increases_.size();  // rounds of earlier runs have none
  for (size_t i = 0; i < log.wall_seconds.size(); ++i) {
    wall << i + 1 << ',' << fixed(log.wall_seconds[i], 3);
    for (size_t c = 0; c < before_.size(); ++c) {
      const bool seconds = before_[c].first.ends_with("_s");  // the others count (bytes, jobs)
      wall << ',' << (i >= first_here ? fixed(increases_[i - first_here][c], seconds ? 3 : 0) : "");
    }
    wall << '\n';
  }
  write_atomically(dir / "wall.csv", wall.str());
}

void write_clients_csv(const std::filesystem::path& dir, const World& world, const RunLog& log) {
  const Scenario& scenario = world.scenario;
  std::vector<std::pair<std::pair<int, int>, const client::RoundRecord*>> rows_by_key;
  std::set<std::pair<int, int>> recorded;
  for (const client::RoundRecord& r : log.records) {
    rows_by_key.push_back({{r.round, r.client}, &r});
    recorded.insert({r.round, r.client});
  }
  for (int round = 1; round <= scenario.training.rounds; ++round) {
    for (int c : world.selected[static_cast<size_t>(round)]) {
      if (!recorded.contains({round, c})) rows_by_key.push_back({{round, c}, nullptr});
    }
  }
  std::stable_sort(rows_by_key.begin(), rows_by_key.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::ostringstream csv;
  csv << "round,client,tier,cut,width,samples,compute_s,transmit_s,idle_s,bytes,energy_j,outcome\n";
  for (const auto& [key, record] : rows_by_key) {
    const auto [round, c] = key;
    const server::ClientProfile& p = world.profiles[static_cast<size_t>(c)];
    csv << round << ',' << c << ',' << scenario.clients.tiers[static_cast<size_t>(p.tier)].name << ',';
    if (record == nullptr) {
      const auto row = static_cast<size_t>(round - 1);
      const double from = row >= 1 && row <= log.rows.size() ? seconds_of(log.rows[row - 1].summary.end) : 0.0;
      const double to = row < log.rows.size() ? seconds_of(log.rows[row].summary.end) : from;
      csv << p.cut << ",1,0,0,0,0,0,0," << (down_during(scenario, c, from, to) ? "crashed" : "timeout") << '\n';
      continue;
    }
    const client::RoundRecord& r = *record;
    csv << r.cut << ',' << fixed(r.width, 3) << ',' << r.samples << ',' << seconds_text(r.compute) << ','
        << seconds_text(r.transmit) << ',' << seconds_text(r.idle) << ',' << r.bytes << ',' << fixed(r.energy_j, 6)
        << ',' << client::to_string(r.outcome) << '\n';
  }
  write_atomically(dir / "clients.csv", csv.str());
}

void write_summary_json(const std::filesystem::path& dir, const World& world, const RunLog& log,
                        const RunResult& result, double wall_seconds, const std::string& scenario_text) {
  const Scenario& scenario = world.scenario;
  nlohmann::json summary{{"scenario", scenario.name},
                         {"algorithm", scenario.algorithm.name},
                         {"clients_excluded", world.excluded_clients},
                         {"scenario_hash", std::to_string(scenario_hash(scenario_text))},
                         {"rounds", log.rows.size()},
                         {"final_accuracy", result.final_accuracy},
                         {"best_accuracy", result.best_accuracy},
                         {"virtual_time_s", result.virtual_seconds},
                         {"wall_time_s", wall_seconds},
                         {"versions", {{"sflsim", sflsim_version()}, {"libtorch", TORCH_VERSION}, {"boost", BOOST_LIB_VERSION}}}};
  int64_t up = 0, down = 0, activations = 0, gradients = 0, weights = 0;
  double energy = 0.0;
  for (const MetricsRow& r : log.rows) {
    up += r.traffic.up;
    down += r.traffic.down;
    activations += r.traffic.activations;
    gradients += r.traffic.gradients;
    weights += r.traffic.weights;
    energy += r.energy_j;
  }
  summary["totals"] = {{"bytes_up", up}, {"bytes_down", down}, {"bytes_activations", activations},
                       {"bytes_gradients", gradients}, {"bytes_weights", weights}, {"energy_j", energy}};
  if (scenario.training.target_accuracy > 0) {
    summary["target_accuracy"] = scenario.training.target_accuracy;
    summary["rounds_to_target"] = nullptr;
    summary["virtual_time_to_target_s"] = nullptr;
    const TargetRounds reached = target_rounds(log.rows, scenario.training.target_accuracy);
    if (reached.first) {
      summary["rounds_to_target"] = reached.first->round;
      summary["virtual_time_to_target_s"] = seconds_of(reached.first->end);
    }
    summary["rounds_to_sustained_target"] = nullptr;
    summary["virtual_time_to_sustained_target_s"] = nullptr;
    if (reached.sustained) {
      summary["rounds_to_sustained_target"] = reached.sustained->round;
      summary["virtual_time_to_sustained_target_s"] = seconds_of(reached.sustained->end);
    }
  }
  write_atomically(dir / "summary.json", summary.dump(2) + "\n");
}

}  // namespace sflsim::cli
