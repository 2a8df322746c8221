#pragma once
// The split server. One session actor per client serves that client's
// activations through a per-round replica of the server-side suffix (as
// SFL-V1 does): forward, loss, backward, SGD step, then the cut gradient goes
// back. The coordinator actor runs the rounds: it hands each selected
// client's session its orders, waits for every session's result (or the
// round deadline), aggregates into the supernet, and evaluates it.
//
// Virtual time: the suffix's forward + backward (3x forward FLOPs per sample)
// is charged on the server Device; plans and gradients are charged by the
// links. Aggregation and evaluation take no virtual time; a server_update
// (RaFL's distillation) is charged on the server Device by its FLOPs.
#include "fusion/aggregation.hpp"
#include "server/protocol.hpp"
#include "simulator/core/device.hpp"
#include "simulator/core/link.hpp"
#include "simulator/core/simulation.hpp"
#include "simulator/core/work_pool.hpp"
#include "supernet/supernet.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <vector>

namespace torch::optim {
class SGD;
}

namespace sflsim::server {

using Uplink = core::Link<protocol::ClientToServer>;
using Downlink = core::Link<protocol::ServerToClient>;

// The server-side model a session trains for one round: a replica per client
// (SuperSFL, SFL-V1) or one model every session shares (SFL-V2), with its
// optimizer and the chain of its steps, which run in the order the server
// receives the batches (see core/work_pool.hpp).
//
// The weights are extracted from the supernet by the first step task, not
// when the round is planned, so a replica takes memory only from its first
// batch until the coordinator folds it into the round's sum (the supernet
// does not change in between).
struct ServerModel {
  ServerModel(const supernet::Supernet& net, const supernet::SubnetConfig& config, int first_unit, int last_unit,
              const protocol::OptimizerOptions& options);
  ~ServerModel();
  ServerModel(const ServerModel&) = delete;
  ServerModel& operator=(const ServerModel&) = delete;

  // The model, extracted on first use; called only by the chain's tasks.
  supernet::BodyPart& materialize();

  std::shared_ptr<supernet::BodyPart> suffix;  // null before the first step
  std::unique_ptr<torch::optim::SGD> optimizer;
  core::WorkTicket last_step;
  int64_t batches = 0;  // steps so far this round: BatchNorm momentum 1/(k+1)

 private:
  const supernet::Supernet& net_;
  supernet::SubnetConfig config_;
  int first_unit_;
  int last_unit_;
  protocol::OptimizerOptions options_;
};

// Coordinator -> session (an in-process mailbox: no wire cost).
struct SessionOrder {
  protocol::RoundPlan plan;
  std::shared_ptr<ServerModel> server_model;  // null when the client trains the whole model
  core::SimTime deadline{};
};

// Session -> coordinator at the end of the client's round.
struct SessionResult {
  int client = -1;
  int round = 0;
  bool plan_delivered = false;
  std::optional<protocol::ModelUpload> upload;  // this round's upload, if it came in time
  std::vector<protocol::ModelUpload> stale_uploads;
  // The server side, which may still be training when the result is sent:
  // its replica's weights and the loss sum are final once server_loss_sum.ready is done.
  std::shared_ptr<ServerModel> server_model;  // null if it saw no batch
  int64_t server_batches = 0;
  int64_t server_samples = 0;
  protocol::Pending<double> server_loss_sum;
};

using OrderLink = core::Link<SessionOrder>;
using ResultLink = core::Link<SessionResult>;

struct Traffic {
  int64_t* down = nullptr;
  int64_t* gradients = nullptr;
  int64_t* weights = nullptr;
};

struct SessionSetup {
  int client = 0;
  core::Device* device = nullptr;  // the server's
  Uplink* uplink = nullptr;
  Downlink* downlink = nullptr;
  OrderLink* orders = nullptr;
  ResultLink* results = nullptr;
  Traffic traffic;
  core::WorkPool* work = nullptr;  // runs the suffix steps; null = on the simulation thread
};

// One client's session: a daemon actor of the server entity. It serves the
// orders it gets until its order link closes.
boost::asio::awaitable<void> run_session(const SessionSetup& setup);

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
};

// Everything the coordinator decides per client per round, provided by the runner.
struct ClientAssignment {
  supernet::SubnetConfig config;
  int cut = 1;             // the prefix is units 1..cut
  bool split = true;       // a server side trains units cut+1..L; false: the client trains alone
  std::vector<int> head_cuts;  // local classifiers in the plan (SuperSFL: the cut; DepthFL: its exits)
  // RaFL: the client's own network (units 1..own_depth of own_config, with a
  // head at own_depth when that is not L), sent until the client has it.
  std::optional<supernet::SubnetConfig> own_config;
  int own_depth = 0;
  int64_t samples = 0;
  core::SimDuration expected_round_time{};  // at nominal speeds, without contention
};

struct CoordinatorSetup {
  supernet::Supernet* supernet = nullptr;
  std::vector<OrderLink*> orders;  // by client
  ResultLink* results = nullptr;
  std::vector<std::vector<int>> selected;  // by round (1-based; [0] unused): client indices
  std::function<ClientAssignment(int client)> assignment;
  int rounds = 1;
  double timeout_factor = 2.0;
  fusion::AggregationOptions aggregation;
  protocol::OptimizerOptions optimizer;  // of the server-side models
  bool shared_server_model = false;      // SFL-V2, SL: one server model for all clients, not averaged
  // SL: clients take turns; each starts from the weights the previous one
  // uploaded (the round's deadline is the sum of their turns).
  bool sequential = false;
  core::Device* device = nullptr;  // the server's: charged for server_update
  core::WorkPool* work = nullptr;  // runs the folds into the round's sum; null = on the simulation thread
  // After aggregation (RaFL's ensemble distillation): updates the supernet
  // from the round's uploads and returns the FLOPs it cost on the server.
  std::function<int64_t(supernet::Supernet&, const std::vector<const protocol::ModelUpload*>&)> server_update;
  std::function<bool(int round)> outage_round;  // server unreachable for the whole round
  std::function<void(core::SimTime from, core::SimTime to)> begin_outage;
  int eval_every = 1;
  std::function<std::pair<double, double>(const supernet::Supernet&)> evaluate;  // accuracy, loss
  std::function<void(const RoundSummary&)> on_round;
};

boost::asio::awaitable<void> run_coordinator(core::Simulation& sim, const CoordinatorSetup& setup);

}  // namespace sflsim::server
