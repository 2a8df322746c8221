#include "simulator/run/run_scenario.hpp"
#include "simulator/io/files.hpp"

#include "server/coordinator.hpp"
#include "simulator/checkpoint/checkpoint.hpp"
#include "simulator/run/interrupt.hpp"
#include "simulator/io/progress.hpp"
#include "simulator/rounds/remote_rounds.hpp"
#include "simulator/world/run_log.hpp"
#include "simulator/world/world.hpp"
#include "supernet/evaluate.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <boost/version.hpp>
#include <fcntl.h>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <torch/version.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace sflsim::cli {

namespace {

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

std::string seconds_text(core::SimDuration d) { return fixed(static_cast<double>(d.count()) * 1e-9, 9); }

double total_energy(const World& world) {
  double joules = 0.0;
  for (const core::Device* d : world.devices) joules += d->energy().joules();
  return joules;
}

}  // namespace

bool finished_run(const std::filesystem::path& dir, const std::string& scenario_text) {
  if (std::filesystem::exists(dir / kCheckpointFile) || !std::filesystem::exists(dir / "summary.json")) return false;
  if (read_text(dir / "scenario.resolved.json") != scenario_text) {
    throw std::invalid_argument((dir / "summary.json").string() +
                                ": a finished run of another scenario is here; use a new --out directory");
  }
  return true;
}

// The first evaluated round at or above the target, and the first from which
// every evaluated round to the end stays at or above it.
struct TargetRounds {
  const server::RoundSummary* first = nullptr;
  const server::RoundSummary* sustained = nullptr;
};

template <typename Rows>
TargetRounds target_rounds(const Rows& rows, double target) {
  TargetRounds out;
  for (const auto& r : rows) {
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

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  World world(scenario, options.threads);
  return run_world(world, options);
}

RunResult run_world(World& world, const RunOptions& options) {
  const Scenario& scenario = world.scenario;
  std::filesystem::create_directories(options.out_dir);
  const std::filesystem::path checkpoint_file = options.out_dir / kCheckpointFile;
  RunLog log;
  int first_round = 1;
  if (options.resume && std::filesystem::exists(checkpoint_file)) {
    first_round = load_checkpoint(world, log, options.scenario_text, checkpoint_file);
  } else {
    std::filesystem::remove(checkpoint_file);  // an earlier run's, if any: this one starts over
  }
  write_atomically(options.out_dir / "scenario.resolved.json", options.scenario_text);

  const client::RecordSink sink = [&log, &options](const client::RoundRecord& r) {
    log.records.push_back(r);
    if (options.observe_record) options.observe_record(r);
  };
  for (size_t c = 0; c < world.client_setups.size(); ++c) {
    world.sim->spawn({"client" + std::to_string(c), world.client_entity(static_cast<int>(c)), false, true},
                     [&world, &sink, c]() {
                       return client::run_client(*world.sim, world.client_setups[c], world.client_states[c],
                                                 world.traffic, sink);
                     });
    world.sim->spawn({"session" + std::to_string(c), core::EntityId{0}, true, false},
                     [&world, c]() { return server::run_session(world.session_setups[c]); });
  }

  ProgressBar bar("rounds", scenario.training.rounds);
  if (options.progress && first_round > 1) bar.update(first_round - 1, "resumed from " + checkpoint_file.string());
  const auto wall_start = std::chrono::steady_clock::now();
  auto wall_last = wall_start;
  const auto wall_total = [&] {
    return log.wall_before_s + std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  };
  RunResult result;
  if (first_round > 1) result.resumed_at = first_round;
  std::vector<std::pair<std::string, double>> wall_before;  // the counters when the last round ended
  if (options.wall_counters) wall_before = options.wall_counters();
  std::vector<std::vector<double>> wall_increases;  // by round played in this process

  auto write_metrics = [&] {
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
    write_atomically(options.out_dir / "metrics.csv", csv.str());
    std::ostringstream wall;
    wall << "round,wall_s";
    for (const auto& [name, value] : wall_before) wall << ',' << name;
    wall << '\n';
    const size_t first_here = log.wall_seconds.size() - wall_increases.size();  // rounds of earlier runs have none
    for (size_t i = 0; i < log.wall_seconds.size(); ++i) {
      wall << i + 1 << ',' << fixed(log.wall_seconds[i], 3);
      for (size_t c = 0; c < wall_before.size(); ++c) {
        const bool seconds = wall_before[c].first.ends_with("_s");  // the others count (bytes, jobs)
        wall << ',' << (i >= first_here ? fixed(wall_increases[i - first_here][c], seconds ? 3 : 0) : "");
      }
      wall << '\n';
    }
    write_atomically(options.out_dir / "wall.csv", wall.str());
  };

  server::CoordinatorSetup coordinator;
  if (options.round_computer && world.strategy->rounds_are_independent()) {
    world.use_scripts(std::make_unique<RemoteRounds>(*options.round_computer));
  }
  coordinator.scripts = world.scripts.get();
  coordinator.supernet = world.net.get();
  coordinator.orders = world.orders;
  coordinator.notices = world.notices;
  coordinator.results = world.results;
  coordinator.work = world.work.get();
  coordinator.selected = world.selected;
  coordinator.strategy = world.strategy.get();
  coordinator.profiles = &world.profiles;
  coordinator.rounds = scenario.training.rounds;
  coordinator.first_round = first_round;
  coordinator.has_own_model = &log.has_own_model;
  // A checkpoint is due every `checkpoint_every` rounds, and on SIGINT/SIGTERM;
  // a boundary that is not at rest (a client still busy, a message in
  // flight) passes it on to the next one.
  bool checkpoint_due = false;
  coordinator.at_boundary = [&](int next_round) {
    if (options.checkpoint_every > 0 && (next_round - 1) % options.checkpoint_every == 0) checkpoint_due = true;
    const int signal_number = stop_requested();
    const bool stop = signal_number != 0 || (options.stop_after_round > 0 && next_round > options.stop_after_round);
    if (!checkpoint_due && !stop) return;
    if (const std::string busy = world.sim->busy_reason(); !busy.empty()) {
      if (std::getenv("SFLSIM_DEBUG_CHECKPOINT")) std::fprintf(stderr, "\nround %d: not at rest: %s\n", next_round, busy.c_str());
      return;
    }
    save_checkpoint(world, log, wall_total(), options.scenario_text, checkpoint_file);
    checkpoint_due = false;
    ++result.checkpoints;
    if (stop) throw Interrupted(signal_number, next_round - 1);
  };
  coordinator.device = world.server_device;
  coordinator.outage_round = [&scenario](int round) {
    for (const ServerOutage& o : scenario.faults.server_outages) {
      if (round >= o.start_round && round < o.start_round + o.rounds) return true;
    }
    return false;
  };
  coordinator.begin_outage = [&world](core::SimTime from, core::SimTime to) {
    world.sim->add_outage(core::OutageWindow{core::EntityId{0}, core::TimeWindow{from, to}});
  };
  coordinator.eval_every = scenario.training.eval_every;
  coordinator.evaluate = [&world, &options](const supernet::Supernet& net) {
    const auto for_each_batch = [&world](int64_t count, const std::function<void(int64_t)>& body) {
      std::vector<core::WorkTicket> tickets;
      for (int64_t b = 0; b < count; ++b) tickets.push_back(core::submit_work(world.work.get(), [&body, b] { body(b); }));
      // Left to the workers: a third forward pass on this thread would only add its feature maps.
      for (core::WorkTicket& ticket : tickets) ticket.wait_for_workers();
    };
    supernet::BodyPart whole = net.extract(world.config);
    world.strategy->prepare_evaluation(whole);
    // Batches of 100: they run in parallel beside the clients' chains, and
    // 500-sample feature maps (25 MB each) were the peak at 100 clients.
    constexpr int kBatch = 100;
    std::optional<supernet::Evaluation> e;
    if (options.evaluate_elsewhere) e = options.evaluate_elsewhere(whole, kBatch);
    if (!e) e = supernet::evaluate(whole, world.data.test, kBatch, for_each_batch);
    return std::make_pair(e->accuracy, e->loss);
  };
  coordinator.on_round = [&](const server::RoundSummary& summary) {
    if (options.observe_round) options.observe_round(summary);
    MetricsRow row{summary, {}, 0.0};
    const client::TrafficCounters& before = log.traffic_before;
    row.traffic = {world.traffic.up - before.up, world.traffic.down - before.down,
                   world.traffic.activations - before.activations, world.traffic.gradients - before.gradients,
                   world.traffic.weights - before.weights};
    log.traffic_before = world.traffic;
    const double energy = total_energy(world);
    row.energy_j = energy - log.energy_before;
    log.energy_before = energy;
    log.rows.push_back(row);
    const auto now = std::chrono::steady_clock::now();
    log.wall_seconds.push_back(std::chrono::duration<double>(now - wall_last).count());
    wall_last = now;
    if (options.wall_counters) {
      std::vector<std::pair<std::string, double>> counters = options.wall_counters();
      std::vector<double>& increase = wall_increases.emplace_back();
      for (size_t c = 0; c < counters.size(); ++c) increase.push_back(counters[c].second - wall_before[c].second);
      wall_before = std::move(counters);
    }
    if (summary.evaluated) {
      log.last_accuracy = summary.test_accuracy;
      log.best_accuracy = std::max(log.best_accuracy, summary.test_accuracy);
    }
    write_metrics();
    if (options.progress) {
      bar.update(summary.round, "acc " + fixed(log.last_accuracy, 4) + "  virtual " +
                                    fixed(static_cast<double>(summary.end.time_since_epoch().count()) * 1e-9, 1) + " s");
    }
  };
  world.sim->spawn({"coordinator", core::EntityId{0}, false, false},
                   [&world, &coordinator]() { return server::run_coordinator(*world.sim, coordinator); });
  const core::RunReport report = world.sim->run();
  if (options.progress) bar.finish("acc " + fixed(log.last_accuracy, 4));
  if (report.deadlock && log.rows.size() < static_cast<size_t>(scenario.training.rounds)) {
    throw std::runtime_error("simulation deadlocked: " + report.deadlock->to_string());
  }

  // clients.csv: rows by (round, client), a client's records of a round in
  // the order it made them (local-only, then the real round when its plan
  // came late); a selected client with no record crashed or never heard of the round.
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
      bool crashed = false;
      for (const Crash& crash : scenario.faults.crashes) crashed = crashed || crash.client == c;
      csv << p.cut << ",1,0,0,0,0,0,0," << (crashed ? "crashed" : "timeout") << '\n';
      continue;
    }
    const client::RoundRecord& r = *record;
    csv << r.cut << ',' << fixed(r.width, 3) << ',' << r.samples << ',' << seconds_text(r.compute) << ','
        << seconds_text(r.transmit) << ',' << seconds_text(r.idle) << ',' << r.bytes << ',' << fixed(r.energy_j, 6)
        << ',' << client::to_string(r.outcome) << '\n';
  }
  write_atomically(options.out_dir / "clients.csv", csv.str());

  result.final_accuracy = log.last_accuracy;
  result.best_accuracy = log.best_accuracy;
  result.virtual_seconds = static_cast<double>(report.end.time_since_epoch().count()) * 1e-9;
  nlohmann::json summary{{"scenario", scenario.name},
                         {"algorithm", scenario.algorithm.name},
                         {"clients_excluded", world.excluded_clients},
                         {"scenario_hash", std::to_string(scenario_hash(options.scenario_text))},
                         {"rounds", log.rows.size()},
                         {"final_accuracy", result.final_accuracy},
                         {"best_accuracy", result.best_accuracy},
                         {"virtual_time_s", result.virtual_seconds},
                         {"wall_time_s", wall_total()},
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
      summary["virtual_time_to_target_s"] = static_cast<double>(reached.first->end.time_since_epoch().count()) * 1e-9;
    }
    summary["rounds_to_sustained_target"] = nullptr;
    summary["virtual_time_to_sustained_target_s"] = nullptr;
    if (reached.sustained) {
      summary["rounds_to_sustained_target"] = reached.sustained->round;
      summary["virtual_time_to_sustained_target_s"] =
          static_cast<double>(reached.sustained->end.time_since_epoch().count()) * 1e-9;
    }
  }
  write_atomically(options.out_dir / "summary.json", summary.dump(2) + "\n");
  std::filesystem::remove(checkpoint_file);  // the outputs are complete: nothing left to resume
  return result;
}

}  // namespace sflsim::cli
