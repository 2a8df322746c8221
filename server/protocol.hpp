#pragma once
// The messages of the split-learning protocol: the only header client/ and
// server/ share. Messages move through core::Link<Message> and are never
// copied; tensors inside them are owned by the message until the receiver
// takes them. Wire sizes are declared by the sender (weight_bytes,
// model_bytes and plan_bytes below), never derived from the in-memory tensors.
#include "server/optimizer_options.hpp"
#include "server/round_script.hpp"
#include "simulator/core/state_codec.hpp"
#include "simulator/core/work_pool.hpp"
#include "supernet/batch_charges.hpp"
#include "supernet/subnet.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <memory>
#include <variant>
#include <vector>

namespace sflsim::protocol {

// How a client's model learns, by algorithm.
enum class Objective {
  fused,              // TPGF (SuperSFL), SFL (server gradient only), FedAvg/HeteroFL (own cross-entropy)
  self_distillation,  // DepthFL: CE at every exit + mutual KL between the exits
  mutual_learning,    // RaFL: own network and knowledge network, deep mutual learning
};

// What the server's strategy tells its clients once, before the first round.
struct ClientBehaviour {
  // Keep the last model between rounds and train it locally when no plan
  // comes by its due date (SuperSFL). Otherwise an idle client holds no model
  // (only RaFL's own network, which is its algorithm's state) and misses the round.
  bool train_when_cut_off = false;
  bool defer_uploads = false;  // an upload that fails is kept for the next contact
  Objective objective = Objective::fused;
};

// Declared wire sizes: fp32 tensors (BatchNorm statistics included), int64 labels.
inline int64_t weight_bytes(const supernet::SliceSet& slices) {
  int64_t elements = 0;
  for (const at::Tensor& t : slices.tensors) elements += t.numel();
  return 4 * elements;
}
inline constexpr int64_t kLabelBytes = supernet::kLabelBytes;
using Heads = std::vector<std::shared_ptr<supernet::LocalHead>>;
// A client model on the wire: prefix (or body) plus its classifiers.
inline int64_t model_bytes(const std::shared_ptr<supernet::BodyPart>& prefix, const Heads& heads) {
  int64_t bytes = prefix ? weight_bytes(prefix->slices()) : 0;
  for (const auto& head : heads) bytes += weight_bytes(head->slices());
  return bytes;
}

// Server -> client at the start of a round: the subnet the client trains and
// its current weights (client prefix units 1..cut, and its classifiers).
struct RoundPlan {
  int round = 0;
  int cut = 0;
  bool split = true;  // false: the client trains its part alone, no server side (FedAvg, HeteroFL, DepthFL, RaFL)
  std::shared_ptr<supernet::BodyPart> prefix;
  Heads heads;  // SuperSFL: the local classifier at the cut; DepthFL: one per exit above the last
  // RaFL: the client's own resource-sized network (body, and a head when it
  // is shallower than the supernet), sent until the client is known to have
  // it; it then stays on the device and is never uploaded.
  std::shared_ptr<supernet::BodyPart> own_body;
  Heads own_heads;
  int64_t samples = 0;  // samples to train this round (local epochs included)
  // Where the client and its session record the round's steps (round_script.hpp).
  std::shared_ptr<RoundScript> script;
};

// Coordinator -> selected client when its round (SL: its turn) begins, free
// and never lost: it stands for a round schedule the client knows in advance,
// so a client notices a missing plan (server outage, lost plan) at a known
// time instead of guessing when the round would start.
struct RoundNotice {
  int round = 0;
  int64_t plan_due_ns = 0;  // a plan not here by then is not coming in time (half the round's period in)
  int64_t deadline_ns = 0;  // the server stops waiting for the round's uploads
};

// Saved by checkpoints while unread (a crashed client's notices).
inline void save_message(core::StateWriter& out, const RoundNotice& n) {
  out.i64(n.round);
  out.i64(n.plan_due_ns);
  out.i64(n.deadline_ns);
}
inline void load_message(core::StateReader& in, RoundNotice& n) {
  n.round = static_cast<int>(in.i64_in(0, std::numeric_limits<int>::max(), "a notice's round"));
  n.plan_due_ns = in.i64();
  n.deadline_ns = in.i64();
}

inline int64_t plan_bytes(const RoundPlan& plan) {
  return model_bytes(plan.prefix, plan.heads) + model_bytes(plan.own_body, plan.own_heads);
}

// The charges of a batch of a client's part, given its models: the prefix
// up to `cut` with its heads, and an own network if it has one.
inline supernet::BatchCharges part_charges(const supernet::BodyPart& prefix, int cut, const Heads& heads,
                                           const supernet::BodyPart* own_body) {
  supernet::PartShape shape{prefix.config(), cut, {}, std::nullopt, 0};
  for (const auto& head : heads) shape.head_cuts.push_back(head->cut());
  if (own_body) {
    shape.own_config = own_body->config();
    shape.own_depth = own_body->last_unit();
  }
  return supernet::batch_charges(*prefix.slices().architecture, shape);
}

// A value a task may still be computing (see core/work_pool.hpp): a message
// can leave before its tensors are computed, because its wire size is
// declared; the receiver's own task calls get(), which waits for them.
template <typename T>
struct Pending {
  core::WorkTicket ready;
  std::shared_ptr<T> value = std::make_shared<T>();
  const T& get() const {
    ready.wait();
    return *value;
  }
};

// Client -> server per mini-batch: cut-layer activations ("smashed data") and
// labels of `samples` samples. The tensors stay in the round's script
// (round_script.hpp), which computes them; the message says which batch.
struct Activations {
  int round = 0;
  int64_t batch = 0;
  int64_t samples = 0;
};

// What the server's step on one batch yields.
struct ServerStep {
  at::Tensor cut_gradient;
  double loss = 0.0;
};

// Server -> client per mini-batch: the gradient at the cut and the server
// loss of batch `batch` (in the round's script, as the activations).
struct CutGradient {
  int round = 0;
  int64_t batch = 0;
};

// A client's losses over one round, summed by its tasks.
struct RoundLosses {
  double local_sum = 0.0;
  int64_t local_batches = 0;
  double server_sum = 0.0;
  int64_t server_batches = 0;
  double mean_local() const { return local_batches > 0 ? local_sum / static_cast<double>(local_batches) : 0.0; }
  // -1 when no server gradient arrived.
  double mean_server() const { return server_batches > 0 ? server_sum / static_cast<double>(server_batches) : -1.0; }
};

// Client -> server at round end (or at the next contact after an outage).
// It may leave before the round's tasks have run (its size is declared):
// prefix, heads and losses are final once `trained.ready` is done, which the
// receiver waits for through trained.get() before it reads any of them.
struct ModelUpload {
  // The round of the plan the weights started from: the round they were
  // trained in, or for a local-only update the last plan's round, so its
  // staleness counts the rounds since the model it improved on.
  int round_trained = 0;
  int cut = 0;
  std::shared_ptr<supernet::BodyPart> prefix;
  Heads heads;
  int64_t samples = 0;
  Pending<RoundLosses> trained;
};

// A marker that the client has finished sending activations for the round.
struct RoundDone {
  int round = 0;
};

using ClientToServer = std::variant<Activations, ModelUpload, RoundDone>;
using ServerToClient = std::variant<RoundPlan, CutGradient>;

}  // namespace sflsim::protocol
