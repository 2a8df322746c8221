#include "client/tpgf_step.hpp"

#include <ATen/ATen.h>
#include <torch/optim/sgd.h>

namespace sflsim::client {

FusedTrainer::FusedTrainer(std::shared_ptr<supernet::BodyPart> prefix, std::shared_ptr<supernet::LocalHead> head,
                           const OptimizerOptions& options)
    : prefix_(std::move(prefix)), head_(std::move(head)) {
  std::vector<at::Tensor> parameters = prefix_->slices().parameters();
  if (head_) {
    for (const at::Tensor& p : head_->slices().parameters()) parameters.push_back(p);
  }
  optimizer_ = std::make_unique<torch::optim::SGD>(
      parameters,
      torch::optim::SGDOptions(options.learning_rate).momentum(options.momentum).weight_decay(options.weight_decay));
}

FusedTrainer::~FusedTrainer() = default;

FusedTrainer::Forward FusedTrainer::forward(const at::Tensor& images, const at::Tensor& labels) {
  // BatchNorm running statistics become the plain mean over this round's
  // batches (momentum 1/(k+1)); averaged over clients at aggregation, they
  // estimate the global statistics even after a few local steps.
  features_ = prefix_->forward(images, supernet::Mode::train, 1.0 / static_cast<double>(++batches_));
  if (whole_model()) {
    // The prefix is the whole network (FedAvg, HeteroFL): its output is the logits.
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

void FusedTrainer::apply(double lambda, const at::Tensor& cut_gradient) {
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
  if (!cut_gradient.defined()) lambda = 0.0;
  if (lambda < 1.0) surrogate = surrogate + (1.0 - lambda) * encoder_loss_;
  surrogate.backward();
  optimizer_->step();
  features_ = at::Tensor();
  head_loss_ = at::Tensor();
  encoder_loss_ = at::Tensor();
}

}  // namespace sflsim::client
