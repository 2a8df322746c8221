// DepthFL's local objective (Kim et al., ICLR 2023): a client of depth level k
// trains the first k stages with a classifier after each, on
//   sum_i CE(z_i, y) + 1/(n-1) sum_i sum_{j != i} KL(softmax(z_j) || softmax(z_i)),
// the teacher side of each KL detached (mutual self-distillation).
// The deepest exit of a full-depth client is the supernet's own classifier.
#include "client/single_loss_trainer.hpp"

#include <ATen/ATen.h>

#include <stdexcept>

namespace sflsim::client {

namespace {

class SelfDistillationTrainer final : public SingleLossTrainer {
 public:
  SelfDistillationTrainer(const RoundModels& models, const OptimizerOptions& options)
      : body_(models.prefix), exits_(models.heads) {
    std::vector<at::Tensor> parameters = body_->slices().parameters();
    for (const auto& head : exits_) {
      exit_units_.push_back(head->cut());
      for (const at::Tensor& p : head->slices().parameters()) parameters.push_back(p);
    }
    optimizer_ = make_sgd(parameters, options);
  }

  Forward forward(const at::Tensor& images, const at::Tensor& labels) override {
    std::vector<at::Tensor> tapped;
    const at::Tensor out =
        body_->forward(images, supernet::Mode::train, next_batch_momentum(), exit_units_, tapped);
    std::vector<at::Tensor> logits;
    for (size_t i = 0; i < exits_.size(); ++i) logits.push_back(exits_[i]->forward(tapped[i]));
    if (body_->last_unit() == body_->slices().architecture->unit_count()) logits.push_back(out);
    at::Tensor deepest_loss;
    loss_ = at::zeros({}, images.options());
    for (const at::Tensor& z : logits) loss_ = loss_ + (deepest_loss = at::cross_entropy_loss(z, labels));
    if (logits.size() > 1) {
      std::vector<at::Tensor> log_p, p;
      for (const at::Tensor& z : logits) {
        log_p.push_back(at::log_softmax(z, 1));
        p.push_back(log_p.back().exp().detach());
      }
      at::Tensor distillation = at::zeros({}, images.options());
      for (size_t i = 0; i < logits.size(); ++i) {
        for (size_t j = 0; j < logits.size(); ++j) {
          if (i != j) distillation = distillation + (p[j] * (p[j].log() - log_p[i])).sum(1).mean();
        }
      }
      loss_ = loss_ + distillation / static_cast<double>(logits.size() - 1);
    }
    return {at::Tensor(), deepest_loss.item<double>()};
  }

 private:
  std::shared_ptr<supernet::BodyPart> body_;
  protocol::Heads exits_;  // ascending cuts
  std::vector<int> exit_units_;
};

}  // namespace

std::unique_ptr<LocalTrainer> make_self_distillation_trainer(const RoundModels& models,
                                                             const OptimizerOptions& options) {
  if (!models.prefix) throw std::invalid_argument("DepthFL: needs a body");
  return std::make_unique<SelfDistillationTrainer>(models, options);
}

}  // namespace sflsim::client
