#pragma once
// The virtual client: one coroutine that reads like the SuperSFL protocol.
//
// Per selected round: the round's notice (when it begins; see
// protocol::RoundNotice) -> receive the plan (prefix + head weights, cut) -> for
// each mini-batch: forward the prefix and the local head (phase 1), send the
// activations and labels, wait for the cut gradient until a deadline
// (phase 2), one fused SGD step (phase 3; lambda = 0 when the gradient did
// not come) -> upload prefix and head. An upload that cannot be sent is kept
// and sent at the next contact. When no plan comes by the time one was due
// (half the round's period in: server outage, lost plan), the client trains
// its last model locally (local-only round) and keeps that update for the
// next contact, whose staleness counts from the round of the model it
// improved on. If the plan comes while it trains alone, it stops after the
// batch in progress and joins the round: it then has two records for the
// round, local-only and the real one. A batch whose activations or gradient
// are lost costs the full gradient timeout of waiting (idle time and energy).
//
// Virtual time: compute is charged on the client's Device (forward = FLOPs
// of prefix and head per sample, backward = 2x forward); transfers are
// charged by the links. The tensor work of a round is recorded into the
// round's script (server/round_script.hpp), which computes it; nothing in
// the client waits for it:
// the upload leaves when the round ends in virtual time and carries the
// chain's end (ModelUpload::trained), which the server waits for before it
// reads the weights. Errors are values at await points; nothing here
// branches on fault types beyond "the await failed". A task's exception
// surfaces where the server waits for the upload.
#include "client/local_trainer.hpp"
#include "datasets/dataset.hpp"
#include "fusion/lambda_policy.hpp"
#include "server/protocol.hpp"
#include "simulator/core/device.hpp"
#include "simulator/core/link.hpp"
#include "simulator/core/simulation.hpp"
#include "simulator/core/work_pool.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <random>
#include <vector>

namespace sflsim::client {

using Uplink = core::Link<protocol::ClientToServer>;
using Downlink = core::Link<protocol::ServerToClient>;
using Notices = core::Link<protocol::RoundNotice>;  // from the coordinator, free and never lost

enum class Outcome { ok, timeout, local_only, crashed };
const char* to_string(Outcome outcome);

// What one client did in one round (one row of clients.csv).
struct RoundRecord {
  int client = 0;
  int round = 0;
  int cut = 0;
  double width = 1.0;
  int64_t samples = 0;
  core::SimDuration compute{};
  core::SimDuration transmit{};
  core::SimDuration idle{};
  int64_t bytes = 0;  // declared bytes sent and received
  double energy_j = 0.0;
  Outcome outcome = Outcome::ok;
  int64_t gradients_received = 0;
  int64_t batches = 0;
};

// Declared bytes by kind, added to as transfers succeed (shared by all actors).
struct TrafficCounters {
  int64_t up = 0;
  int64_t down = 0;
  int64_t activations = 0;
  int64_t gradients = 0;
  int64_t weights = 0;
};

// Fixed for the run; owned by the world.
struct ClientSetup {
  int index = 0;
  core::EntityId entity{};
  core::Device* device = nullptr;
  Uplink* uplink = nullptr;
  Downlink* downlink = nullptr;
  Notices* notices = nullptr;
  const datasets::ImageDataset* train = nullptr;
  std::vector<int64_t> indices;      // this client's samples
  std::vector<int> selected_rounds;  // ascending; one notice comes for each
  int batch_size = 0;        // the scenario's training options, set by the runner
  bool augment = false;
  OptimizerOptions optimizer;
  fusion::LambdaPolicy lambda;
  core::SimDuration gradient_timeout{};  // per batch, from when the activations are sent
  // Opens the scripts of local-only rounds (a real round's comes with its plan).
  protocol::ScriptRunner* scripts = nullptr;
  protocol::ClientBehaviour behaviour;  // its strategy's
};

// Survives between rounds (and restarts after a crash).
struct ClientState {
  fusion::LossAverages losses;
  std::optional<protocol::ModelUpload> pending;  // deferred upload
  std::shared_ptr<supernet::BodyPart> prefix;    // the last model, for local-only rounds (else only during a round)
  protocol::Heads heads;
  std::shared_ptr<supernet::BodyPart> own_body;  // RaFL: the client's own network, kept across rounds
  protocol::Heads own_heads;
  int64_t samples_per_round = 0;               // from the last plan, for local-only rounds
  int model_round = 0;                         // the round of the last plan (what local-only rounds improve on)
  std::mt19937_64 data_rng;
  std::vector<int64_t> order;  // shuffled sample order, consumed from `cursor`
  size_t cursor = 0;
  core::WorkTicket last_work;  // the last round's chain of tasks (which write `losses` and the models)
};

using RecordSink = std::function<void(const RoundRecord&)>;

// The client's actor body. `setup`, `state`, `traffic` and `sink` must outlive the run.
boost::asio::awaitable<void> run_client(core::Simulation& sim, const ClientSetup& setup, ClientState& state,
                                        TrafficCounters& traffic, const RecordSink& sink);

using protocol::kLabelBytes;
using protocol::weight_bytes;

}  // namespace sflsim::client
