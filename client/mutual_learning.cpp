// RaFL's local update (spec §4, after the authors' fedlib/FedKEMF code): the
// client's own resource-sized network and its copy of the global knowledge
// network learn together by deep mutual learning; each student's loss is
//   CE(f_i(x), y) + MSE(f_i(x), f_j(x)),   f_j the other network, detached.
// Only the knowledge network is uploaded; the own network stays on the device.
#include "client/single_loss_trainer.hpp"

#include <ATen/ATen.h>

#include <stdexcept>

namespace sflsim::client {

namespace {

class MutualLearningTrainer final : public SingleLossTrainer {
 public:
  MutualLearningTrainer(const RoundModels& models, const OptimizerOptions& options)
      : knowledge_(models.prefix), own_body_(models.own_body), own_head_(models.own_heads.empty() ? nullptr : models.own_heads[0]) {
    std::vector<at::Tensor> parameters = knowledge_->slices().parameters();
    for (const at::Tensor& p : own_body_->slices().parameters()) parameters.push_back(p);
    if (own_head_) {
      for (const at::Tensor& p : own_head_->slices().parameters()) parameters.push_back(p);
    }
    optimizer_ = make_sgd(parameters, options);
  }

  Forward forward(const at::Tensor& images, const at::Tensor& labels) override {
    const double momentum = next_batch_momentum();
    const at::Tensor knowledge = knowledge_->forward(images, supernet::Mode::train, momentum);
    at::Tensor own = own_body_->forward(images, supernet::Mode::train, momentum);
    if (own_head_) own = own_head_->forward(own);
    const at::Tensor knowledge_ce = at::cross_entropy_loss(knowledge, labels);
    loss_ = knowledge_ce + at::mse_loss(knowledge, own.detach()) + at::cross_entropy_loss(own, labels) +
            at::mse_loss(own, knowledge.detach());
    return {at::Tensor(), knowledge_ce.item<double>()};
  }

 private:
  std::shared_ptr<supernet::BodyPart> knowledge_;
  std::shared_ptr<supernet::BodyPart> own_body_;
  std::shared_ptr<supernet::LocalHead> own_head_;  // when the own network is shallower than the supernet
};

}  // namespace

std::unique_ptr<LocalTrainer> make_mutual_learning_trainer(const RoundModels& models, const OptimizerOptions& options) {
  if (!models.prefix || !models.own_body) throw std::invalid_argument("RaFL: needs the knowledge network and an own network");
  return std::make_unique<MutualLearningTrainer>(models, options);
}

}  // namespace sflsim::client
