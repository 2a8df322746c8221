#include "simulator/run/run_wiring.hpp"

#include "simulator/rounds/remote_rounds.hpp"
#include "simulator/run/interrupt.hpp"
#include "simulator/world/world.hpp"
#include "supernet/evaluate.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

namespace sflsim::cli {

namespace {

double total_energy(const World& world) {
  double joules = 0.0;
  for (const core::Device* d : world.devices) joules += d->energy().joules();
  return joules;
}

}  // namespace

server::CoordinatorSetup coordinator_setup(World& world, RunLog& log, const RunOptions& options, int first_round) {
  const Scenario& scenario = world.scenario;
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
  return coordinator;
}

void spawn_clients(World& world, const client::RecordSink& sink) {
  for (size_t c = 0; c < world.client_setups.size(); ++c) {
    world.sim->spawn({"client" + std::to_string(c), world.client_entity(static_cast<int>(c)), false, true},
                     [&world, &sink, c]() {
                       return client::run_client(*world.sim, world.client_setups[c], world.client_states[c],
                                                 world.traffic, sink);
                     });
    world.sim->spawn({"session" + std::to_string(c), core::EntityId{0}, true, false},
                     [&world, c]() { return server::run_session(world.session_setups[c]); });
  }
}

void log_round(const World& world, RunLog& log, const server::RoundSummary& summary, double wall_seconds) {
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
  log.wall_seconds.push_back(wall_seconds);
  if (summary.evaluated) {
    log.last_accuracy = summary.test_accuracy;
    log.best_accuracy = std::max(log.best_accuracy, summary.test_accuracy);
  }
}

void CheckpointPolicy::at_boundary(int next_round) {
  if (options_.checkpoint_every > 0 && (next_round - 1) % options_.checkpoint_every == 0) due_ = true;
  const int signal_number = stop_requested();
  const bool stop = signal_number != 0 || (options_.stop_after_round > 0 && next_round > options_.stop_after_round);
  if (!due_ && !stop) return;
  if (const std::string busy = world_.sim->busy_reason(); !busy.empty()) {
    if (std::getenv("SFLSIM_DEBUG_CHECKPOINT")) {
      const double seconds = static_cast<double>(world_.sim->now().time_since_epoch().count()) * 1e-9;
      std::fprintf(stderr, "\nround %d at %.3f s: not at rest: %s\n", next_round, seconds, busy.c_str());
    }
    return;
  }
  save_();
  due_ = false;
  ++written_;
  if (stop) throw Interrupted(signal_number, next_round - 1);
}

}  // namespace sflsim::cli
