#pragma once
// What a client computes on one mini-batch, whatever the algorithm, split in
// two calls because the server's part (phase 2) happens in virtual time
// between them. One trainer lives for one round of one client; it owns an
// SGD optimizer (fresh momentum each round) over the models it was given,
// which it trains in place.
#include "fusion/lambda_policy.hpp"
#include "server/protocol.hpp"

#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

namespace torch::optim {
class SGD;
}

namespace sflsim::client {

using protocol::OptimizerOptions;

class LocalTrainer {
 public:
  virtual ~LocalTrainer() = default;
  struct Forward {
    at::Tensor features;    // what goes to the server (detached; undefined when the client trains alone)
    double local_loss = 0;  // the client's own loss on the batch (0 if it has none)
  };
  // Phase 1: forward on one batch; the graph is kept until apply().
  virtual Forward forward(const at::Tensor& images, const at::Tensor& labels) = 0;
  // Phase 3: one optimizer step. `cut_gradient` undefined: no server gradient
  // came, and then lambda is 0 (the policy's rule; std::invalid_argument otherwise).
  virtual void apply(double lambda, const at::Tensor& cut_gradient) = 0;
};

using protocol::Objective;

// The models of one round: the plan's (prefix, heads) and, for RaFL, the
// client's own network kept across rounds.
struct RoundModels {
  std::shared_ptr<supernet::BodyPart> prefix;
  protocol::Heads heads;
  std::shared_ptr<supernet::BodyPart> own_body;
  protocol::Heads own_heads;
};

// The two steps of a batch as a chain runs them (here, or recorded in a
// protocol::RoundScript and computed elsewhere), updating the client's loss
// averages and the round's sums. forward_step returns the features for the server.
at::Tensor forward_step(LocalTrainer& trainer, fusion::LossAverages& averages, protocol::RoundLosses& sums,
                        const at::Tensor& images, const at::Tensor& labels);
// `step`: the server's step on the batch, null when its gradient did not come.
void fused_step(LocalTrainer& trainer, fusion::LossAverages& averages, protocol::RoundLosses& sums,
                const protocol::ServerStep* step, const fusion::LambdaPolicy& lambda, int cut, int units);

// Throws std::invalid_argument when `models` lacks what `objective` needs.
std::unique_ptr<LocalTrainer> make_trainer(Objective objective, const RoundModels& models,
                                           const OptimizerOptions& options);

// The trainers (one file each); make_trainer picks one.
std::unique_ptr<LocalTrainer> make_fused_trainer(const RoundModels& models, const OptimizerOptions& options);
std::unique_ptr<LocalTrainer> make_self_distillation_trainer(const RoundModels& models, const OptimizerOptions& options);
std::unique_ptr<LocalTrainer> make_mutual_learning_trainer(const RoundModels& models, const OptimizerOptions& options);

// An SGD optimizer over `parameters` with `options` (torch-free callers hold it opaquely).
std::unique_ptr<torch::optim::SGD> make_sgd(const std::vector<at::Tensor>& parameters, const OptimizerOptions& options);

}  // namespace sflsim::client
