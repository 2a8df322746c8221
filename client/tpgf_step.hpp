#pragma once
// Three-Phase Gradient Fusion on one mini-batch, as tensors (spec §1.4):
//   phase 1  z = prefix(x); local loss lc = CE(head(z), y)
//   phase 2  (z, y) go to the server, which returns dz = dls/dz   [done by the caller]
//   phase 3  one SGD step with  lambda * J^T dz + (1 - lambda) * dlc/dtheta  on the
//            prefix, and the full dlc/dphi on the head.
// Split in two calls because phase 2 happens in virtual time between them.
#include "server/protocol.hpp"
#include "supernet/subnet.hpp"

#include <ATen/core/Tensor.h>

#include <memory>

namespace torch::optim {
class SGD;
}

namespace sflsim::client {

using protocol::OptimizerOptions;

// A client's trainable copy of its prefix and local head, with one SGD
// optimizer over both (momentum lives as long as this object: one round).
// Without a head (the SFL baselines) the prefix learns from the server's
// gradient alone; a prefix that is the whole network (FedAvg, HeteroFL)
// learns from its own cross-entropy.
class FusedTrainer {
 public:
  FusedTrainer(std::shared_ptr<supernet::BodyPart> prefix, std::shared_ptr<supernet::LocalHead> head,
               const OptimizerOptions& options);
  ~FusedTrainer();

  struct Forward {
    at::Tensor features;     // z, still attached to the prefix's graph
    double local_loss = 0;   // lc
  };
  // Phase 1. Keeps the graph until apply().
  Forward forward(const at::Tensor& images, const at::Tensor& labels);
  // Phase 3. `cut_gradient` undefined means the server gradient did not come (lambda is then 0).
  void apply(double lambda, const at::Tensor& cut_gradient);

  const std::shared_ptr<supernet::BodyPart>& prefix() const { return prefix_; }
  const std::shared_ptr<supernet::LocalHead>& head() const { return head_; }
  // The prefix ends with the classifier: trained on its own loss, no server and no head.
  bool whole_model() const { return prefix_->last_unit() == prefix_->slices().architecture->unit_count(); }

 private:
  std::shared_ptr<supernet::BodyPart> prefix_;
  std::shared_ptr<supernet::LocalHead> head_;
  std::unique_ptr<torch::optim::SGD> optimizer_;
  at::Tensor features_;
  at::Tensor head_loss_;     // CE through the head's own weights (head gradient)
  at::Tensor encoder_loss_;  // CE through detached head weights (encoder gradient)
  at::Tensor whole_loss_;    // CE of the whole network's logits
  int64_t batches_ = 0;
};

}  // namespace sflsim::client
