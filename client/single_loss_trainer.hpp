#pragma once
// Internal to client/: a trainer whose forward() builds one loss that apply()
// minimises with one SGD step (the client trains alone, no server gradient):
// DepthFL's and RaFL's objectives.
#include "client/local_trainer.hpp"

#include <ATen/core/Tensor.h>
#include <torch/optim/sgd.h>

namespace sflsim::client {

class SingleLossTrainer : public LocalTrainer {
 public:
  void apply(double /*lambda*/, const at::Tensor& /*cut_gradient*/) override {
    optimizer_->zero_grad();
    loss_.backward();
    optimizer_->step();
    loss_ = at::Tensor();
  }

 protected:
  // BatchNorm momentum for the next batch: 1/(k+1) makes the running
  // statistics the plain mean over the round's batches (as in TPGF).
  double next_batch_momentum() { return 1.0 / static_cast<double>(++batches_); }

  std::unique_ptr<torch::optim::SGD> optimizer_;
  at::Tensor loss_;  // built by forward(), consumed by apply()

 private:
  int64_t batches_ = 0;
};

}  // namespace sflsim::client
