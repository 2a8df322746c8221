#pragma once
// A client round's tensor work as data: the one way a round is computed.
//
// A client and its session never compute: they record the round's steps,
// in the order they happen in virtual time, into the round's RoundScript --
// the client its forward passes and fused steps, the session its steps on
// the server model its order names (the client's own replica, or one model
// every session shares). A ScriptRunner opens the scripts and computes them:
// in this process as a chain of tasks per client (simulator/rounds/
// chain_rounds.hpp, which every other runner's computation replays too), or
// on other ranks (simulator/rounds/remote_rounds.hpp, sflsim run --ranks).
// The script's tickets stand for the computation: waiting for one runs what
// it needs, so folds and checkpoints read the models, loss averages and sums
// as final.
//
// Virtual time: none; recording is free, and the tickets block in wall time only.
// Errors: a computation's exception (or a runner's failure to find anywhere
// to compute) is rethrown by the tickets' wait(); waiting for a side's ticket
// before that side ended throws std::logic_error.
// Ownership: the script shares the models it trains and writes back into;
// the computation never holds the script (no cycle through its tickets).
#include "datasets/dataset.hpp"
#include "fusion/lambda_policy.hpp"
#include "server/optimizer_options.hpp"
#include "simulator/core/work_pool.hpp"
#include "supernet/subnet.hpp"

#include <cstdint>
#include <memory>
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
// The session's step on batch `batch`'s activations: its server model's
// next step, after `model_steps_before` steps of this round on that model
// (which set its BatchNorm momentum; a shared model counts every client's).
struct ScriptedServerStep {
  int64_t batch = 0;
  int64_t model_steps_before = 0;
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
  std::shared_ptr<server::ServerModel> model;  // the client's replica, or the model every session shares
  std::shared_ptr<double> loss_sum;
};

// One client's round as it is recorded. The client starts its side before
// its first step and ends it when its round ends or is cut short (a crash);
// the session starts its side before its first server step and ends it
// when it reports. Steps come in virtual-time order: batch k's forward
// before its server step, the server step before a fused step that uses its
// gradient.
class RoundScript {
 public:
  virtual ~RoundScript() = default;
  virtual void start_client(ScriptedClient side) = 0;
  virtual void start_server(ScriptedServer side) = 0;
  virtual void record(ScriptStep step) = 0;
  virtual void end_client() = 0;
  virtual void end_server() = 0;
  // Done when the client's models, averages and sums are final (the client must have ended).
  virtual const core::WorkTicket& client_done() const = 0;
  // Done when this script's server steps are done: the replica's weights and
  // the loss sum final (the session must have ended).
  virtual const core::WorkTicket& server_done() const = 0;
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
