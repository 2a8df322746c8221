#include "server/ensemble_distillation.hpp"

#include <ATen/ATen.h>
#include <torch/optim/sgd.h>

namespace sflsim::server {

int64_t distill_ensemble(supernet::Supernet& net, const supernet::SubnetConfig& knowledge,
                         const std::vector<const protocol::ModelUpload*>& teachers,
                         const std::vector<at::Tensor>& proxy_batches, const DistillationOptions& options) {
  if (teachers.empty() || proxy_batches.empty()) return 0;
  supernet::BodyPart student = net.extract(knowledge);
  torch::optim::SGD optimizer(student.slices().parameters(),
                              torch::optim::SGDOptions(options.optimizer.learning_rate)
                                  .momentum(options.optimizer.momentum)
                                  .weight_decay(options.optimizer.weight_decay));
  const double t = options.temperature;
  int64_t samples = 0, steps = 0;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (const at::Tensor& images : proxy_batches) {
      at::Tensor ensemble;
      {
        at::NoGradGuard no_grad;
        for (const protocol::ModelUpload* teacher : teachers) {
          const at::Tensor p = at::softmax(teacher->prefix->forward(images, supernet::Mode::eval) / t, 1);
          ensemble = ensemble.defined() ? ensemble + p : p;
        }
        ensemble = ensemble / static_cast<double>(teachers.size());
      }
      optimizer.zero_grad();
      const at::Tensor log_student =
          at::log_softmax(student.forward(images, supernet::Mode::train, 1.0 / static_cast<double>(++steps)) / t, 1);
      const at::Tensor loss = (ensemble * (ensemble.clamp_min(1e-12).log() - log_student)).sum(1).mean() * (t * t);
      loss.backward();
      optimizer.step();
      samples += images.size(0);
    }
  }
  const supernet::Contribution replace{&student.slices(), 1.0};
  net.write_back(std::span(&replace, 1));
  const int64_t forward = net.architecture().forward_flops(knowledge, 1, net.architecture().unit_count());
  return samples * forward * (static_cast<int64_t>(teachers.size()) + 3);
}

}  // namespace sflsim::server
