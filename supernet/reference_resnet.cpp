#include "supernet/reference_resnet.hpp"

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <ATen/ATen.h>

#include <stdexcept>

namespace sflsim::supernet {

namespace {
namespace nn = torch::nn;

nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

class StemImpl : public nn::Module {
 public:
  StemImpl(int64_t in, int64_t out) : conv_(register_module("conv", conv(in, out, 3, 1))),
                                      bn_(register_module("bn", nn::BatchNorm2d(out))) {}
  at::Tensor forward(const at::Tensor& x) { return at::relu(bn_(conv_(x))); }
  nn::Conv2d conv_;
  nn::BatchNorm2d bn_;
};
TORCH_MODULE(Stem);

class BlockImpl : public nn::Module {
 public:
  BlockImpl(int64_t in, int64_t out, int64_t stride, bool projects)
      : conv1_(register_module("conv1", conv(in, out, 3, stride))),
        bn1_(register_module("bn1", nn::BatchNorm2d(out))),
        conv2_(register_module("conv2", conv(out, out, 3, 1))),
        bn2_(register_module("bn2", nn::BatchNorm2d(out))) {
    if (projects) {
      shortcut_ = register_module("shortcut", conv(in, out, 1, stride));
      shortcut_bn_ = register_module("shortcut_bn", nn::BatchNorm2d(out));
    }
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor out = bn2_(conv2_(at::relu(bn1_(conv1_(x)))));
    return at::relu(out + (shortcut_ ? shortcut_bn_(shortcut_(x)) : x));
  }
  nn::Conv2d conv1_;
  nn::BatchNorm2d bn1_;
  nn::Conv2d conv2_;
  nn::BatchNorm2d bn2_;
  nn::Conv2d shortcut_{nullptr};
  nn::BatchNorm2d shortcut_bn_{nullptr};
};
TORCH_MODULE(Block);

class ClassifierImpl : public nn::Module {
 public:
  ClassifierImpl(int64_t in, int64_t classes) : fc_(register_module("fc", nn::Linear(in, classes))) {}
  at::Tensor forward(const at::Tensor& x) { return fc_(x.mean({2, 3})); }
  nn::Linear fc_;
};
TORCH_MODULE(Classifier);
}  // namespace

ReferenceResNetImpl::ReferenceResNetImpl(const Architecture& arch, const SubnetConfig& config) {
  arch.validate(config);
  if (config.depth != arch.unit_count()) throw std::invalid_argument("ReferenceResNet needs a full-depth config");
  for (int unit = 1; unit <= arch.unit_count(); ++unit) {
    const std::string name = "unit" + std::to_string(unit);
    if (unit == 1) {
      units_.push_back(register_module(name, Stem(arch.options().in_channels, arch.unit_output_channels(config, 1))));
    } else if (unit == arch.unit_count()) {
      units_.push_back(register_module(
          name, Classifier(arch.unit_output_channels(config, unit - 1), arch.options().num_classes)));
    } else {
      const bool projects = arch.body_spec_ids(unit, unit).size() > 10;
      units_.push_back(register_module(name, Block(arch.unit_output_channels(config, unit - 1),
                                                   arch.unit_output_channels(config, unit), arch.unit_stride(unit),
                                                   projects)));
    }
  }
}

at::Tensor ReferenceResNetImpl::forward(const at::Tensor& input) {
  at::Tensor x = input;
  for (auto& unit : units_) {
    if (auto* stem = dynamic_cast<StemImpl*>(unit.get())) x = stem->forward(x);
    else if (auto* block = dynamic_cast<BlockImpl*>(unit.get())) x = block->forward(x);
    else x = static_cast<ClassifierImpl*>(unit.get())->forward(x);
  }
  return x;
}

void ReferenceResNetImpl::load_from(const BodyPart& whole) {
  const SliceSet& s = whole.slices();
  if (whole.first_unit() != 1 || whole.last_unit() != s.architecture->unit_count()) {
    throw std::invalid_argument("load_from needs a whole subnet (units 1..L)");
  }
  torch::NoGradGuard no_grad;
  auto named = named_parameters(true);
  auto buffers = named_buffers(true);
  for (size_t i = 0; i < s.spec_ids.size(); ++i) {
    const std::string& name = s.architecture->specs()[s.spec_ids[i]].name;
    at::Tensor* target = named.find(name);
    if (target == nullptr) target = buffers.find(name);
    if (target == nullptr) throw std::logic_error("ReferenceResNet has no tensor " + name);
    target->copy_(s.tensors[i]);
  }
}

}  // namespace sflsim::supernet
