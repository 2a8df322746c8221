// Three-Phase Gradient Fusion on one mini-batch, as tensors (spec §1.4):
//   phase 1  z = prefix(x); local loss lc = CE(head(z), y)
//   phase 2  (z, y) go to the server, which returns dz = dls/dz   [done by the caller]
//   phase 3  one SGD step with  lambda * J^T dz + (1 - lambda) * dlc/dtheta  on the
//            prefix, and the full dlc/dphi on the head.
// Without a head (the SFL baselines) the prefix learns from the server's
// gradient alone; a prefix that is the whole network (FedAvg, HeteroFL)
// learns from its own cross-entropy.
#include "client/local_trainer.hpp"

#include <ATen/ATen.h>
#include <torch/optim/sgd.h>

#include <stdexcept>

namespace sflsim::client {

std::unique_ptr<torch::optim::SGD> make_sgd(const std::vector<at::Tensor>& parameters, const OptimizerOptions& options) {
  return std::make_unique<torch::optim::SGD>(
      parameters,
      torch::optim::SGDOptions(options.learning_rate).momentum(options.momentum).weight_decay(options.weight_decay));
}

namespace {

class FusedTrainer final : public LocalTrainer {
 public:
  FusedTrainer(std::shared_ptr<supernet::BodyPart> prefix, std::shared_ptr<supernet::LocalHead> head,
               const OptimizerOptions& options)
      : prefix_(std::move(prefix)), head_(std::move(head)) {
    std::vector<at::Tensor> parameters = prefix_->slices().parameters();
    if (head_) {
      for (const at::Tensor& p : head_->slices().parameters()) parameters.push_back(p);
    }
    optimizer_ = make_sgd(parameters, options);
  }

  Forward forward(const at::Tensor& images, const at::Tensor& labels) override {
    // BatchNorm running statistics become the plain mean over this round's
    // batches (momentum 1/(k+1)); averaged over clients at aggregation, they
    // estimate the global statistics even after a few local steps.
    features_ = prefix_->forward(images, supernet::Mode::train, 1.0 / static_cast<double>(++batches_));
    if (whole_model()) {
      whole_loss_ = at::cross_entropy_loss(features_, labels);
      return {at::Tensor(), whole_loss_.item<double>()};
    }
    if (!head_) return {features_.detach(), 0.0};  // SFL: no local loss
    const at::Tensor pooled = features_.mean({2, 3});
    const std::vector<at::Tensor>& head = head_->slices().tensors;
    // The head learns from lc alone; the encoder's share of lc is scaled by
    // (1 - lambda) in apply(), so the two paths are kept apart.
    head_loss_ = at::cross_entropy_loss(at::linear(pooled.detach(), head[0], head[1]), labels);
    encoder_loss_ = at::cross_entropy_loss(at::linear(pooled, head[0].detach(), head[1].detach()), labels);
    return {features_.detach(), head_loss_.item<double>()};
  }

  void apply(double lambda, const at::Tensor& cut_gradient) override {
    if (!cut_gradient.defined() && lambda != 0.0) {
      throw std::invalid_argument("tpgf: lambda must be 0 when no server gradient came");
    }
    optimizer_->zero_grad();
    if (whole_model()) {
      whole_loss_.backward();
      optimizer_->step();
      features_ = whole_loss_ = at::Tensor();
      return;
    }
    if (!head_) {
      // SFL: the prefix learns from the server's gradient only; none came, no step.
      if (cut_gradient.defined()) {
        features_.backward(cut_gradient);
        optimizer_->step();
      }
      features_ = at::Tensor();
      return;
    }
    at::Tensor surrogate = head_loss_;
    if (cut_gradient.defined() && lambda > 0.0) {
      // d/dtheta of <z, dz> is J^T dz: the server's gradient backpropagated through the prefix.
      surrogate = surrogate + lambda * (features_ * cut_gradient).sum();
    }
    if (lambda < 1.0) surrogate = surrogate + (1.0 - lambda) * encoder_loss_;
    surrogate.backward();
    optimizer_->step();
    features_ = head_loss_ = encoder_loss_ = at::Tensor();
  }

 private:
  // The prefix ends with the classifier: trained on its own loss, no server and no head.
  bool whole_model() const { return prefix_->last_unit() == prefix_->slices().architecture->unit_count(); }

  std::shared_ptr<supernet::BodyPart> prefix_;
  std::shared_ptr<supernet::LocalHead> head_;
  std::unique_ptr<torch::optim::SGD> optimizer_;
  at::Tensor features_;
  at::Tensor head_loss_;     // CE through the head's own weights (head gradient)
  at::Tensor encoder_loss_;  // CE through detached head weights (encoder gradient)
  at::Tensor whole_loss_;    // CE of the whole network's logits
  int64_t batches_ = 0;
};

}  // namespace

std::unique_ptr<LocalTrainer> make_fused_trainer(const RoundModels& models, const OptimizerOptions& options) {
  if (!models.prefix || models.heads.size() > 1) throw std::invalid_argument("TPGF: needs a prefix and at most one head");
  return std::make_unique<FusedTrainer>(models.prefix, models.heads.empty() ? nullptr : models.heads[0], options);
}

std::unique_ptr<LocalTrainer> make_trainer(Objective objective, const RoundModels& models,
                                           const OptimizerOptions& options) {
  switch (objective) {
    case Objective::fused: return make_fused_trainer(models, options);
    case Objective::self_distillation: return make_self_distillation_trainer(models, options);
    case Objective::mutual_learning: return make_mutual_learning_trainer(models, options);
  }
  throw std::invalid_argument("unknown training objective");
}

}  // namespace sflsim::client
