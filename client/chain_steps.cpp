#include "client/local_trainer.hpp"

#include <ATen/ATen.h>

namespace sflsim::client {

at::Tensor forward_step(LocalTrainer& trainer, fusion::LossAverages& averages, protocol::RoundLosses& sums,
                        const at::Tensor& images, const at::Tensor& labels) {
  const LocalTrainer::Forward forward = trainer.forward(images, labels);
  averages.add_local(forward.local_loss);
  sums.local_sum += forward.local_loss;
  ++sums.local_batches;
  return forward.features;
}

void fused_step(LocalTrainer& trainer, fusion::LossAverages& averages, protocol::RoundLosses& sums,
                const protocol::ServerStep* step, const fusion::LambdaPolicy& lambda, int cut, int units) {
  at::Tensor cut_gradient;
  if (step) {
    cut_gradient = step->cut_gradient;
    averages.add_server(step->loss);
    sums.server_sum += step->loss;
    ++sums.server_batches;
  }
  trainer.apply(lambda(averages, cut, units, cut_gradient.defined()), cut_gradient);
}

}  // namespace sflsim::client
