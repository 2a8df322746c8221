#pragma once
// The split server's per-client sessions. One session actor per client serves
// that client's activations through the server-side model its order names (a
// replica of the suffix per client, as SFL-V1 does, or one model every
// session shares, as SFL-V2 does): it records the model's step on the batch
// (forward, loss, backward, SGD step) into the client's round script
// (round_script.hpp), which computes it, then the cut gradient goes back. At
// the order's deadline, or when the client's upload comes, the session
// reports to the coordinator (coordinator.hpp).
//
// Virtual time: the suffix's forward + backward (3x forward FLOPs per sample)
// is charged on the server Device; the plan and gradients are charged by the
// client's downlink. Orders and results travel through in-process mailboxes
// at no cost.
// Errors: a plan or gradient the downlink loses is not counted as traffic and
// is not resent; the session does not wait for its steps' tasks (their
// exception surfaces where the coordinator's fold waits for them).
// Ownership: the order's plan is moved onto the downlink; the result owns the
// uploads that came and shares the server model with the step tasks.
#include "server/protocol.hpp"
#include "simulator/core/device.hpp"
#include "simulator/core/link.hpp"
#include "simulator/core/simulation.hpp"
#include "simulator/core/work_pool.hpp"
#include "supernet/supernet.hpp"

#include <boost/asio/awaitable.hpp>

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
//
// by_unit: one model for clients of different cuts (SuperSFL's shared server
// side): a batch from cut c trains units c+1..last, unit by unit, each unit's
// BatchNorm averaging over the batches that reached it.
struct ServerModel {
  ServerModel(const supernet::Supernet& net, const supernet::SubnetConfig& config, int first_unit, int last_unit,
              const protocol::OptimizerOptions& options, bool by_unit = false);
  ~ServerModel();
  ServerModel(const ServerModel&) = delete;
  ServerModel& operator=(const ServerModel&) = delete;

  // The model, extracted on first use; called only by the chain's tasks.
  supernet::BodyPart& materialize();
  // One step on a batch of activations leaving unit `cut`, the model's
  // `batches_before`-th of the round (a task of the chain, or a scripted step
  // computed elsewhere).
  protocol::ServerStep step(int cut, const at::Tensor& activations, const at::Tensor& labels, int64_t batches_before);
  // by_unit: the tensors of one unit (shared with the model), for aggregation.
  const supernet::SliceSet& unit_slices(int unit) const;
  int first_unit() const { return first_unit_; }
  int last_unit() const { return last_unit_; }
  const supernet::SubnetConfig& config() const { return config_; }
  const protocol::OptimizerOptions& options() const { return options_; }
  bool by_unit() const { return by_unit_; }

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
  bool by_unit_;
  std::vector<supernet::BodyPart> units_;     // by_unit: views of each unit's tensors, first..last
  std::vector<int64_t> unit_batches_;         // by_unit: batches each unit has seen this round
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
  int cut = 0;                                  // the plan's
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
using NoticeLink = core::Link<protocol::RoundNotice>;  // coordinator -> client, free and never lost
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
};

// One client's session: a daemon actor of the server entity. It serves the
// orders it gets for the whole run (links never close; the run ends without
// waiting for a daemon that still waits for an order).
boost::asio::awaitable<void> run_session(const SessionSetup& setup);

}  // namespace sflsim::server
