#pragma once
// The round coordinator: an actor of the server entity that runs the rounds
// as plan -> collect -> aggregate. Per round it asks the strategy for the
// round's period, sends each selected client's session its order (the plan
// and the server model to train), collects every session's result (side by
// side, or one turn after another when the strategy serves clients in
// turns), lets the strategy aggregate them into the supernet, evaluates it
// when due, and reports the round. Each selected client gets a RoundNotice
// when its round (SL: its turn) begins. A round the scenario marks as a
// server outage sends notices but no order: the server is unreachable for
// the period the round would have had.
//
// Virtual time: orders and results are free (in-process mailboxes); a round
// lasts until its last result comes (each session reports by the deadline the
// strategy set); the strategy's server-side step (RaFL's distillation) is
// charged on the server Device by its FLOPs; aggregation and evaluation take
// none.
// Errors: a client's or the server's task exception surfaces here, from the
// fold that waits for it, and ends the run.
#include "server/client_profile.hpp"
#include "server/session.hpp"
#include "server/strategy.hpp"
#include "simulator/core/device.hpp"
#include "simulator/core/simulation.hpp"
#include "simulator/core/work_pool.hpp"
#include "supernet/supernet.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sflsim::server {

// What the coordinator reports after every round.
struct RoundSummary {
  int round = 0;
  core::SimTime end{};
  bool evaluated = false;
  double test_accuracy = 0.0;
  double test_loss = 0.0;
  double train_loss = 0.0;  // mean server loss over the round's batches (local loss if none)
  int clients_ok = 0;
  int clients_failed = 0;
  bool outage = false;
  std::vector<std::pair<int, int>> reintegrated{};  // late uploads folded in: (client, staleness)
};

// Borrowed for the run: everything here must outlive the coordinator.
struct CoordinatorSetup {
  supernet::Supernet* supernet = nullptr;
  const Strategy* strategy = nullptr;
  const std::vector<ClientProfile>* profiles = nullptr;  // by client, parts assigned
  std::vector<OrderLink*> orders;                         // by client
  std::vector<NoticeLink*> notices;                       // by client
  ResultLink* results = nullptr;
  std::vector<std::vector<int>> selected;  // by round (1-based; [0] unused): client indices
  int rounds = 0;  // the scenario's, as eval_every
  int first_round = 1;  // > 1 when a checkpoint is resumed
  std::unordered_set<int>* has_own_model = nullptr;  // RaFL: clients known to hold their own network (kept across runs)
  // Called between rounds (before each round after the first this run
  // plays, inside a run of outage rounds too), with the round about to
  // start, once the actors woken at that instant have run to their next
  // wait; may throw to end the run there.
  std::function<void(int next_round)> at_boundary;
  core::Device* device = nullptr;  // the server's: charged for the strategy's server-side step
  core::WorkPool* work = nullptr;  // runs the folds into the round's sum; null = on the simulation thread
  // Opens the script each plan carries, which its client and session record
  // into and which computes the round (server/round_script.hpp).
  protocol::ScriptRunner* scripts = nullptr;
  std::function<bool(int round)> outage_round;  // server unreachable for the whole round
  std::function<void(core::SimTime from, core::SimTime to)> begin_outage;
  int eval_every = 0;  // rounds between evaluations, >= 1: the scenario's (the last round is always evaluated)
  std::function<std::pair<double, double>(const supernet::Supernet&)> evaluate;  // accuracy, loss
  std::function<void(const RoundSummary&)> on_round;
};

boost::asio::awaitable<void> run_coordinator(core::Simulation& sim, const CoordinatorSetup& setup);

}  // namespace sflsim::server
