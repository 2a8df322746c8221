#pragma once
// The coordinator tests' hand-built world (coordinator_test.cpp): the
// coordinator and one run_session per client on the server's end of a tiny
// world, links built as simulator/world.cpp builds them, and clients played by
// scripted coroutines that record every notice and plan, and upload or stay
// silent as told.
#include "hand_script.hpp"
#include "server/coordinator.hpp"
#include "server/strategies.hpp"
#include "tiny_world.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sflsim::test {


inline server::StrategyOptions strategy_options() {
  server::StrategyOptions o;
  o.batch_size = 8;
  o.server_flops_per_s = 1'000'000'000;
  o.timeout_factor = 2.0;
  o.cut = {server::CutRule::Policy::fixed, 0.0, 0.0, kCut, 0.0, false};
  o.aggregation = {true, 1.0, 0.5};
  o.server_optimizer = {0.05, 0.0, 0.0};
  return o;
}

// A client's device and links as the runner describes them.
struct Net {
  int64_t flops_per_s;
  int64_t up_ns_per_byte;    // 8000 / Mbit/s
  int64_t down_ns_per_byte;
  int64_t latency_ns;
};
// c0: fast; c1: the slowest (it sets the pace of any round it is in); c2: in between.
inline const std::vector<Net> kNets = {
    {1'000'000'000, 1000, 1000, 10'000'000},
    {100'000'000, 4000, 2000, 50'000'000},
    {500'000'000, 2000, 1000, 20'000'000},
};

inline server::ClientProfile profile(const Net& n) {
  server::ClientProfile p;
  p.memory_gb = 4.0;
  p.flops_per_s = n.flops_per_s;
  p.up_bps = 8'000'000'000 / n.up_ns_per_byte;
  p.down_bps = 8'000'000'000 / n.down_ns_per_byte;
  p.latency = SimDuration{n.latency_ns};
  p.samples = 16;
  return p;
}

// What a scripted client does with a round's plan.
enum class Action {
  silent,             // nothing: its session reports at the deadline without an upload
  upload,             // uploads the plan's model at once, every element set to `value`
  stale_then_upload,  // first an update it trained alone from round 1's model, then as `upload`
  batches_only,       // two batches of 8 with the server (each waits for its gradient), then no upload
};

// One notice as a client saw it, and the plan that followed by its due date.
struct Seen {
  int round = 0;
  int64_t plan_due_ns = 0;
  int64_t deadline_ns = 0;
  int64_t at_ns = -1;
  int64_t plan_at_ns = -1;  // -1: no plan by the due date
  double plan_min = 0.0, plan_max = 0.0;  // of the plan's first prefix tensor
  int64_t upload_sent_ns = -1;
};

struct ScriptedClient {
  int notices = 0;                 // how many it waits for (its selected rounds)
  std::map<int, Action> actions;   // by round; silent if absent
  double value = 0.5;
  std::vector<Seen> seen;
  // batches_only: when each batch left and its gradient came, the server's losses.
  std::vector<int64_t> batch_sent_ns, gradient_at_ns, features_numel;
  std::vector<double> server_losses;
};

inline protocol::Heads clone_heads(const protocol::Heads& heads) {
  protocol::Heads out;
  for (const auto& h : heads) out.push_back(std::make_shared<supernet::LocalHead>(h->slices().clone(), h->cut()));
  return out;
}

inline void fill(supernet::SliceSet& slices, double value) {
  at::NoGradGuard no_grad;
  for (at::Tensor& t : slices.tensors) t.fill_(value);
}

struct World : TinyServerWorld {
  std::unique_ptr<server::Strategy> strategy;
  std::vector<server::ClientProfile> profiles;
  core::FaultPlan faults;
  server::ResultLink& results = mailbox<server::ResultLink>("server.results");
  std::vector<server::Uplink*> uplinks;
  std::vector<server::Downlink*> downlinks;
  std::vector<server::OrderLink*> orders;
  std::vector<server::NoticeLink*> notices;
  int64_t down = 0, gradients = 0, weights = 0;
  std::vector<server::SessionSetup> sessions;
  std::vector<ScriptedClient> clients;
  server::CoordinatorSetup setup;
  HandRunner scripts{kCut};  // the plans' scripts: a batches_only client's batches are stepped at once

  // What the coordinator told the world.
  std::vector<server::RoundSummary> summaries;
  std::vector<std::vector<at::Tensor>> supernet_after;  // by summary
  std::vector<int> boundaries;
  std::vector<std::pair<int64_t, int64_t>> outages;
  int evaluations = 0;

  template <typename Link>
  Link& mailbox(const std::string& name) {
    faults.link_drop_probability[name] = 0.0;
    return TinyServerWorld::mailbox<Link>(name);
  }

  // The simulation goes first: its actors' frames and tasks refer to the members above.
  ~World() { simulation.reset(); }

  World(std::unique_ptr<server::Strategy> chosen, size_t count, std::vector<std::vector<int>> selected)
      : strategy(std::move(chosen)) {
    for (size_t c = 0; c < count; ++c) profiles.push_back(profile(kNets[c]));
    strategy->assign_parts(arch, profiles);
    clients.resize(count);
    for (size_t c = 0; c < count; ++c) {
      std::string name = "c";
      name += std::to_string(c);
      const core::EntityId me{c + 1}, srv{0};
      const server::ClientProfile& p = profiles[c];
      uplinks.push_back(&sim.create<server::Uplink>(core::LinkOptions{name + ".up", me, srv, p.latency, p.up_bps, {}, nullptr}));
      downlinks.push_back(
          &sim.create<server::Downlink>(core::LinkOptions{name + ".down", srv, me, p.latency, p.down_bps, {}, nullptr}));
      orders.push_back(&mailbox<server::OrderLink>(name + ".orders"));
      notices.push_back(&mailbox<server::NoticeLink>(name + ".notices"));
      server::SessionSetup session;
      session.client = static_cast<int>(c);
      session.device = &server;
      session.uplink = uplinks.back();
      session.downlink = downlinks.back();
      session.orders = orders.back();
      session.results = &results;
      session.traffic = {&down, &gradients, &weights};
      sessions.push_back(session);
      for (size_t r = 1; r < selected.size(); ++r) {
        if (std::find(selected[r].begin(), selected[r].end(), static_cast<int>(c)) != selected[r].end()) {
          ++clients[c].notices;
        }
      }
    }
    setup.supernet = &net;
    setup.strategy = strategy.get();
    setup.profiles = &profiles;
    setup.orders = orders;
    setup.notices = notices;
    setup.results = &results;
    setup.rounds = static_cast<int>(selected.size()) - 1;
    setup.selected = std::move(selected);
    setup.device = &server;
    setup.scripts = &scripts;
    setup.eval_every = 2;
    setup.at_boundary = [this](int next_round) { boundaries.push_back(next_round); };
    setup.outage_round = [](int) { return false; };
    setup.begin_outage = [this](SimTime from, SimTime to) {
      outages.emplace_back(ns(from), ns(to));
      sim.add_outage(core::OutageWindow{core::EntityId{0}, core::TimeWindow{from, to}});
    };
    setup.evaluate = [this](const supernet::Supernet&) {
      ++evaluations;
      return std::make_pair(0.25, 2.0);
    };
    setup.on_round = [this](const server::RoundSummary& s) {
      summaries.push_back(s);
      std::vector<at::Tensor> snapshot;
      for (const at::Tensor& t : net.tensors()) snapshot.push_back(t.clone());
      supernet_after.push_back(std::move(snapshot));
    };
  }

  // The client's script: each notice, the plan by its due date, then the round's action.
  asio::awaitable<void> play(size_t c) {
    ScriptedClient& me = clients[c];
    for (int k = 0; k < me.notices; ++k) {
      auto receiving = notices[c]->receive_until(core::kNever);
      auto received = co_await std::move(receiving);
      auto& [closed, notice] = received;
      REQUIRE_FALSE(closed);
      Seen seen{notice.round, notice.plan_due_ns, notice.deadline_ns, ns(sim.now())};
      std::optional<protocol::RoundPlan> plan;
      while (!plan) {
        auto waiting = downlinks[c]->receive_until(at_ns(notice.plan_due_ns));
        auto arrived = co_await std::move(waiting);
        auto& [late, message] = arrived;
        if (late) break;
        auto* p = std::get_if<protocol::RoundPlan>(&message);
        if (p != nullptr && p->round == notice.round) plan = std::move(*p);
      }
      const auto action = me.actions.find(notice.round);
      if (plan) {
        seen.plan_at_ns = ns(sim.now());
        const at::Tensor& first = plan->prefix->slices().tensors.front();
        seen.plan_min = first.min().item<double>();
        seen.plan_max = first.max().item<double>();
      }
      if (plan && action != me.actions.end() && action->second == Action::batches_only) {
        const int64_t bytes = 8 * (arch.activation_bytes(plan->prefix->config(), plan->cut) + protocol::kLabelBytes);
        for (int64_t b = 0; b < 2; ++b) {
          auto& script = dynamic_cast<HandScript&>(*plan->script);
          at::Tensor features = plan->prefix->forward(at::rand({8, 1, 8, 8}), supernet::Mode::train).detach();
          me.features_numel.push_back(features.numel());
          script.inputs[b] = {features, at::randint(0, 10, {8}, at::kLong)};
          me.batch_sent_ns.push_back(ns(sim.now()));
          auto sending = uplinks[c]->send(protocol::Activations{plan->round, b, 8}, bytes);
          co_await std::move(sending);
          auto waiting = downlinks[c]->receive_until(core::kNever);
          auto arrived = co_await std::move(waiting);
          auto& [lost, message] = arrived;
          REQUIRE_FALSE(lost);
          auto* gradient = std::get_if<protocol::CutGradient>(&message);
          REQUIRE(gradient != nullptr);
          CHECK(gradient->batch == b);
          me.gradient_at_ns.push_back(ns(sim.now()));
          me.server_losses.push_back(script.outcomes.at(b).loss);
        }
      } else if (plan && action != me.actions.end() && action->second != Action::silent) {
        if (action->second == Action::stale_then_upload) {
          protocol::ModelUpload stale;
          stale.round_trained = 1;
          stale.cut = plan->cut;
          stale.prefix = std::make_shared<supernet::BodyPart>(plan->prefix->slices().clone(), 1, plan->cut);
          stale.heads = clone_heads(plan->heads);
          stale.samples = 16;
          const int64_t bytes = protocol::model_bytes(stale.prefix, stale.heads);
          auto sending = uplinks[c]->send(std::move(stale), bytes);
          co_await std::move(sending);
        }
        protocol::ModelUpload upload;
        upload.round_trained = plan->round;
        upload.cut = plan->cut;
        upload.prefix = plan->prefix;
        upload.heads = plan->heads;
        fill(upload.prefix->slices(), me.value);
        for (const auto& head : upload.heads) fill(head->slices(), me.value);
        upload.samples = 16;
        upload.trained.value->local_sum = 3.0;  // mean local loss 1.5
        upload.trained.value->local_batches = 2;
        const int64_t bytes = protocol::model_bytes(upload.prefix, upload.heads);
        seen.upload_sent_ns = ns(sim.now());
        auto sending = uplinks[c]->send(std::move(upload), bytes);
        co_await std::move(sending);
      }
      me.seen.push_back(seen);
    }
  }

  void run() {
    sim.set_fault_plan(faults);
    for (size_t c = 0; c < sessions.size(); ++c) {
      sim.spawn({"session" + std::to_string(c), core::EntityId{0}, true, false},
                [this, c]() { return server::run_session(sessions[c]); });
      sim.spawn({"client" + std::to_string(c), core::EntityId{c + 1}, false, true}, [this, c]() { return play(c); });
    }
    sim.spawn({"coordinator", core::EntityId{0}, false, false},
              [this]() { return server::run_coordinator(sim, setup); });
    const core::RunReport report = sim.run();
    REQUIRE_FALSE(report.deadlock.has_value());
  }

  int64_t nominal(size_t c) const { return profiles[c].nominal_round_time.count(); }
  // The prefix and its head at the cut, as the plan carries them.
  int64_t model_bytes() const { return arch.weight_bytes(full, 1, kCut) + arch.head_weight_bytes(full, kCut); }
};

}  // namespace sflsim::test
