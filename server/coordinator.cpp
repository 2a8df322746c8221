#include "server/coordinator.hpp"

#include "simulator/core/in_order.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <unordered_set>

namespace sflsim::server {

namespace asio = boost::asio;
using core::SimDuration;
using core::SimTime;

namespace {

// One round in flight.
struct Round {
  core::Simulation& sim;
  const CoordinatorSetup& setup;
  std::unordered_set<int>& has_own_model;  // RaFL: clients known to hold their own network
  int number = 0;
  std::vector<int> clients;                // selected, ascending
  std::vector<const ClientProfile*> profiles;  // of `clients`, in their order
  SimTime deadline{};                      // the clients' due dates
  SimDuration period{};
  std::shared_ptr<ServerModel> shared;     // the model every session of the round shares, if the strategy makes one
  std::vector<SessionResult> results;

  const ClientProfile& profile(size_t i) const { return (*setup.profiles)[static_cast<size_t>(clients[i])]; }
};

// The order for the i-th selected client; its session stops at `session_deadline`.
SessionOrder make_order(Round& round, size_t i, SimTime session_deadline) {
  supernet::Supernet& net = *round.setup.supernet;
  const int units = net.architecture().unit_count();
  const int c = round.clients[i];
  const ClientProfile& a = round.profile(i);
  protocol::RoundPlan plan;
  plan.round = round.number;
  plan.cut = a.cut;
  plan.split = a.split;
  plan.prefix = std::make_shared<supernet::BodyPart>(net.extract(a.config, 1, a.cut));
  for (int cut : a.head_cuts) plan.heads.push_back(std::make_shared<supernet::LocalHead>(net.extract_head(a.config, cut)));
  if (a.own_config && !round.has_own_model.contains(c)) {
    plan.own_body = std::make_shared<supernet::BodyPart>(net.extract(*a.own_config, 1, a.own_depth));
    if (a.own_depth < units) {
      plan.own_heads.push_back(std::make_shared<supernet::LocalHead>(net.extract_head(*a.own_config, a.own_depth)));
    }
  }
  plan.samples = a.samples;
  plan.script = round.setup.scripts->open(c, round.number);
  std::shared_ptr<ServerModel> model = round.setup.strategy->server_model(net, a, round.profiles, round.shared);
  return SessionOrder{std::move(plan), std::move(model), session_deadline};
}

asio::awaitable<bool> collect(Round& round) {
  auto received_result = co_await round.setup.results->receive_until(core::kNever);
  auto& [error, result] = received_result;
  if (error) co_return false;
  if (result.plan_delivered) round.has_own_model.insert(result.client);
  round.results.push_back(std::move(result));
  co_return true;
}

// Folds the last result into the round's sum once its tasks are done, in the
// order results came (which sets the sum's rounding); a replica is freed
// then, so finished clients' replicas do not wait for the slowest one.
void fold_last(Round& round, supernet::WriteBack& sum, core::InOrder& folds) {
  SessionResult& r = round.results.back();
  std::vector<core::WorkTicket> inputs;
  if (r.upload) inputs.push_back(r.upload->trained.ready);
  inputs.push_back(r.server_loss_sum.ready);
  for (const protocol::ModelUpload& stale : r.stale_uploads) inputs.push_back(stale.trained.ready);
  auto mine = std::make_shared<const SessionResult>(r);
  r.server_model.reset();
  folds.add(std::move(inputs), [&strategy = *round.setup.strategy, &sum, number = round.number, mine] {
    strategy.fold(sum, *mine, number);
  });
}

// Tells the i-th client that its round (or turn) of length `period` begins now.
asio::awaitable<void> notify(Round& round, size_t i, SimDuration period) {
  const SimTime now = round.sim.now();
  const protocol::RoundNotice notice{round.number, (now + period / 2).time_since_epoch().count(),
                                     (now + period).time_since_epoch().count()};
  auto sending = round.setup.notices[static_cast<size_t>(round.clients[i])]->send(notice, 0);
  co_await std::move(sending);
}

// Orders and collects the round's sessions, folding each result as it comes.
asio::awaitable<void> serve(Round& round, supernet::WriteBack& sum, core::InOrder& folds) {
  const Strategy& strategy = *round.setup.strategy;
  const auto order = [&](size_t i, SimTime session_deadline) {
    return round.setup.orders[static_cast<size_t>(round.clients[i])]->send(make_order(round, i, session_deadline), 0);
  };
  if (!strategy.serves_in_turns()) {
    for (size_t i = 0; i < round.clients.size(); ++i) co_await notify(round, i, round.period);
    for (size_t i = 0; i < round.clients.size(); ++i) {
      auto ordering = order(i, round.deadline);
      co_await std::move(ordering);
    }
    for (size_t i = 0; i < round.clients.size(); ++i) {
      if (!co_await collect(round)) break;  // not in the loop's condition: GCC 12 loses the await there
      fold_last(round, sum, folds);
    }
    co_return;
  }
  // One client at a time, each given its own share of the round; its upload
  // is written before the next one starts.
  for (size_t i = 0; i < round.clients.size(); ++i) {
    const SimDuration turn = strategy.turn_period(round.profile(i));
    co_await notify(round, i, turn);
    auto ordering = order(i, round.sim.now() + turn);
    co_await std::move(ordering);
    if (!co_await collect(round)) break;
    strategy.after_turn(*round.setup.supernet, round.results.back(), round.number);
    fold_last(round, sum, folds);
  }
}

// The round's counts and mean training loss, from results whose tasks are done.
void summarize(const std::vector<SessionResult>& results, RoundSummary& summary) {
  double loss_sum = 0.0, local_loss_sum = 0.0;
  int64_t loss_batches = 0, local_samples = 0;
  for (const SessionResult& r : results) {
    if (r.upload) {
      local_loss_sum += r.upload->trained.get().mean_local() * static_cast<double>(r.upload->samples);
      local_samples += r.upload->samples;
    }
    loss_sum += r.server_loss_sum.get();
    loss_batches += r.server_batches;
    ++(r.upload ? summary.clients_ok : summary.clients_failed);
  }
  summary.train_loss = loss_batches > 0    ? loss_sum / static_cast<double>(loss_batches)
                       : local_samples > 0 ? local_loss_sum / static_cast<double>(local_samples)
                                           : 0.0;
}

// The late uploads the strategy folded in, as (client, staleness).
std::vector<std::pair<int, int>> reintegrated(const Strategy& strategy, const Round& round) {
  std::vector<std::pair<int, int>> out;
  if (!strategy.reintegrates_late_uploads()) return out;
  for (const SessionResult& r : round.results) {
    for (const protocol::ModelUpload& stale : r.stale_uploads) out.emplace_back(r.client, round.number - stale.round_trained);
  }
  return out;
}

// Between two rounds: actors woken at this very instant (a wait whose
// deadline is the round's end) first run to their next wait, so a
// checkpoint taken here sees them settled; then the boundary's callback.
// Done at every boundary, checkpointing or not, so both runs order events alike.
asio::awaitable<void> reach_boundary(core::Simulation& sim, const CoordinatorSetup& setup, int next_round) {
  co_await sim.sleep_for(SimDuration{0});
  if (setup.at_boundary) setup.at_boundary(next_round);
}

// The first round of the run of outage rounds that holds `number`.
int outage_block_start(const CoordinatorSetup& setup, int number) {
  while (number > 1 && setup.outage_round(number - 1)) --number;
  return number;
}

}  // namespace

asio::awaitable<void> run_coordinator(core::Simulation& sim, const CoordinatorSetup& setup) {
  if (setup.eval_every < 1) throw std::logic_error("run_coordinator: eval_every must be set (>= 1)");
  supernet::Supernet& net = *setup.supernet;
  const Strategy& strategy = *setup.strategy;
  std::unordered_set<int> own_models;
  std::unordered_set<int>& has_own_model = setup.has_own_model ? *setup.has_own_model : own_models;
  // Evaluates the supernet when the round is due for it, then reports the round.
  const auto report = [&](RoundSummary& summary) {
    if (summary.round % setup.eval_every == 0 || summary.round == setup.rounds) {
      std::tie(summary.test_accuracy, summary.test_loss) = setup.evaluate(net);
      summary.evaluated = true;
    }
    setup.on_round(summary);
  };
  // Round `number`, planned to start now with its own period.
  const auto plan_round = [&](int number) {
    Round round{sim, setup, has_own_model, number, setup.selected[static_cast<size_t>(number)], {}, {}, {}, {}, {}};
    for (size_t i = 0; i < round.clients.size(); ++i) round.profiles.push_back(&round.profile(i));
    round.period = strategy.round_period(round.profiles);
    round.deadline = sim.now() + round.period;
    return round;
  };
  for (int number = setup.first_round; number <= setup.rounds; ++number) {
    if (number > setup.first_round) co_await reach_boundary(sim, setup, number);
    const SimTime start = sim.now();
    setup.scripts->begin_round(net, number);
    if (setup.outage_round && setup.outage_round(number)) {
      // Each outage round lasts the period it would have had, so its clients'
      // notices and local-only rounds fit in it as in any other round.
      std::vector<Round> outage;  // their deadlines are not used: each starts when the last ends
      for (int k = number; k <= setup.rounds && setup.outage_round(k); ++k) outage.push_back(plan_round(k));
      SimDuration length{};
      for (const Round& round : outage) length += round.period;
      // Resumed inside a run of outage rounds, the window begins where the
      // first of them began (its periods are the plans' again), so it is the
      // window the uninterrupted run added.
      SimDuration before{};
      for (int k = outage_block_start(setup, number); k < number; ++k) before += plan_round(k).period;
      setup.begin_outage(start - before, start + length);
      for (Round& round : outage) {
        if (round.number > number) co_await reach_boundary(sim, setup, round.number);
        for (size_t i = 0; i < round.clients.size(); ++i) co_await notify(round, i, round.period);
        co_await sim.sleep_for(round.period);
        RoundSummary summary{.round = round.number, .end = sim.now(), .outage = true};
        summary.clients_failed = static_cast<int>(round.clients.size());
        report(summary);
      }
      number += static_cast<int>(outage.size()) - 1;
      continue;
    }
    Round round = plan_round(number);

    supernet::WriteBack sum(net);
    core::InOrder folds(setup.work);  // after `sum`: waited for before it goes
    co_await serve(round, sum, folds);
    folds.wait();  // every session's tasks are done: uploads and losses are final
    std::sort(round.results.begin(), round.results.end(), [](const auto& a, const auto& b) { return a.client < b.client; });
    const RoundResults results{number, &round.results, round.shared};
    if (const std::optional<int64_t> flops = strategy.finish(net, sum, results)) co_await setup.device->compute(*flops);
    RoundSummary summary{.round = number, .end = sim.now()};
    summarize(round.results, summary);
    summary.reintegrated = reintegrated(strategy, round);
    report(summary);
  }
}

}  // namespace sflsim::server
