#pragma once
// A client round's tensor work as data, so that another process can compute
// it (sflsim run --ranks; simulator/remote_rounds.hpp runs it).
//
// In one process a client's round is a chain of tasks: closures over this
// process's tensors (core/work_pool.hpp). With a ScriptRunner, the client and
// its session record the same steps instead, in the order they would have
// submitted them, into one RoundScript: the client its forward passes and
// fused steps, the session its steps on the client's own server replica.
// Computing the steps in that order is computing the chain, so the result is
// the same bytes. The script's tickets stand where the chain's tickets stood:
// waiting for one sends the script to be computed and writes what comes back
// into this process's models, loss averages and sums, so folds and
// checkpoints read them as if the chain had run here.
//
// Only rounds whose server side is the client's own (a replica per client,
// or none) are scripted: one shared server model chains every client's steps
// together, and those strategies run in one process.
//
// Virtual time: none; recording is free, and the tickets block in wall time only.
// Errors: a computation's exception (or a runner's failure to find anywhere
// to compute) is rethrown by the tickets' wait(), as a chain's task's would be.
// Ownership: the script shares the models it writes back into; the runner's
// tasks share the script's data, never the RoundScript (no cycle through the
// tickets it holds).
#include "datasets/dataset.hpp"
#include "fusion/lambda_policy.hpp"
#include "server/optimizer_options.hpp"
#include "simulator/core/work_pool.hpp"
#include "supernet/subnet.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <variant>
#include <vector>

namespace sflsim::server {
struct ServerModel;
}
namespace sflsim::supernet {
class Supernet;
}

namespace sflsim::protocol {

enum class Objective;
struct RoundLosses;
using Heads = std::vector<std::shared_ptr<supernet::LocalHead>>;

// The client's forward pass on its next batch (the k-th forward is batch k).
struct ScriptedForward {
  std::vector<int64_t> indices;
  std::vector<datasets::SampleAugment> draws;
};
// The session's step on batch `batch`'s activations (its server replica's next step).
struct ScriptedServerStep {
  int64_t batch = 0;
};
// The client's fused step on batch `batch`, with the server's gradient of that batch or without one.
struct ScriptedApply {
  int64_t batch = 0;
  bool with_gradient = false;
};
using ScriptStep = std::variant<ScriptedForward, ScriptedServerStep, ScriptedApply>;

// The client's side: what it trains and where the results go.
struct ScriptedClient {
  // The models as the round starts. A fresh one is untouched since the
  // coordinator extracted it from the round's supernet, so whoever computes
  // the script can extract it again instead of receiving its tensors.
  std::shared_ptr<supernet::BodyPart> prefix;
  Heads heads;
  std::shared_ptr<supernet::BodyPart> own_body;
  Heads own_heads;
  bool fresh_prefix = false;
  bool fresh_heads = false;
  bool fresh_own = false;
  fusion::LossAverages* losses = nullptr;  // the client's: read when the script is computed, then written back
  std::shared_ptr<RoundLosses> sums;       // the round's loss sums (its upload's)
  Objective objective{};
  OptimizerOptions optimizer;
  fusion::LambdaPolicy lambda;
  int cut = 0;
  core::WorkTicket previous;  // the client's previous chain: its results are this one's inputs
};

// The session's side: the client's own server replica and the session's loss sum.
struct ScriptedServer {
  std::shared_ptr<server::ServerModel> replica;
  std::shared_ptr<double> loss_sum;
};

// What the client and the session recorded; shared with the runner's tasks.
struct ScriptData {
  int client = 0;
  int round = 0;
  std::shared_ptr<const void> supernet;  // the runner's handle on the round's supernet (fresh models, the replica)

  std::mutex mutex;  // guards everything below: recording happens while a runner may read
  std::optional<ScriptedClient> client_side;
  std::optional<ScriptedServer> server_side;
  std::vector<ScriptStep> steps;
  bool client_ended = false;  // the client recorded its last step (or crashed)
  bool server_ended = false;  // the session reported (no more server steps)
  bool client_written = false;  // written back: the client's models, averages and sums
  bool server_written = false;  // written back: the replica and the loss sum
};

class RoundScript {
 public:
  RoundScript(std::shared_ptr<ScriptData> data, core::WorkTicket client_done, core::WorkTicket server_done)
      : data_(std::move(data)), client_done_(std::move(client_done)), server_done_(std::move(server_done)) {}

  // The client, before its first step.
  void start_client(ScriptedClient side) {
    const std::lock_guard lock(data_->mutex);
    data_->client_side = std::move(side);
  }
  // The session, before its first step (a round whose session steps nothing has no server side).
  void start_server(ScriptedServer side) {
    const std::lock_guard lock(data_->mutex);
    data_->server_side = std::move(side);
  }
  void record(ScriptStep step) {
    const std::lock_guard lock(data_->mutex);
    data_->steps.push_back(std::move(step));
  }
  void end_client() {
    const std::lock_guard lock(data_->mutex);
    data_->client_ended = true;
  }
  void end_server() {
    const std::lock_guard lock(data_->mutex);
    data_->server_ended = true;
  }

  // Done when the client's models, averages and sums are final (the client must have ended).
  const core::WorkTicket& client_done() const { return client_done_; }
  // Done when the replica's weights and the loss sum are final (the session must have ended).
  const core::WorkTicket& server_done() const { return server_done_; }

 private:
  std::shared_ptr<ScriptData> data_;
  core::WorkTicket client_done_;
  core::WorkTicket server_done_;
};

// Opens scripts; one per run, shared by the coordinator and the clients.
class ScriptRunner {
 public:
  virtual ~ScriptRunner() = default;
  // Called by the coordinator before it plans round `round`, with the supernet
  // the round's plans and replicas come from (unchanged until the round is aggregated).
  virtual void begin_round(const supernet::Supernet& net, int round) = 0;
  // A script for `client`'s round `round`, its fresh models from the last begun round's supernet.
  virtual std::shared_ptr<RoundScript> open(int client, int round) = 0;
};

}  // namespace sflsim::protocol
