#pragma once
// A plain torch::nn ResNet with the shape of one whole subnet: the yardstick
// for the supernet code path (same outputs given the same weights; the
// "plain LibTorch" side of the training benchmark).
#include "supernet/subnet.hpp"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace sflsim::supernet {

class ReferenceResNetImpl : public torch::nn::Module {
 public:
  // A full-depth network with the channel widths of `config` (config.depth must be L).
  ReferenceResNetImpl(const Architecture& architecture, const SubnetConfig& config);
  at::Tensor forward(const at::Tensor& x);
  // Copies the weights and BatchNorm statistics of a whole subnet (units 1..L) into this module.
  void load_from(const BodyPart& whole);

 private:
  std::vector<std::shared_ptr<torch::nn::Module>> units_;
};
TORCH_MODULE(ReferenceResNet);

}  // namespace sflsim::supernet
