#include "supernet/subnet.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <stdexcept>

namespace sflsim::supernet {

namespace {
constexpr double kBatchNormEps = 1e-5;
constexpr int kBatchNormTensors = 4;  // weight, bias, running mean, running var
const int64_t kNoPadding = 0;  // a literal 0 would also convert to the string-padding overload

at::Tensor batch_norm(const std::vector<at::Tensor>& t, size_t at, const at::Tensor& x, Mode mode, double momentum) {
  return at::batch_norm(x, t[at], t[at + 1], t[at + 2], t[at + 3], mode == Mode::train, momentum, kBatchNormEps,
                        /*cudnn_enabled=*/true);
}
}  // namespace

std::vector<at::Tensor> SliceSet::parameters() const {
  std::vector<at::Tensor> out;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (is_trainable(architecture->specs()[spec_ids[i]].role)) out.push_back(tensors[i]);
  }
  return out;
}

int64_t SliceSet::parameter_count() const {
  int64_t count = 0;
  for (const at::Tensor& p : parameters()) count += p.numel();
  return count;
}

SliceSet SliceSet::clone() const {
  SliceSet copy{architecture, config, spec_ids, {}};
  copy.tensors.reserve(tensors.size());
  for (const at::Tensor& t : tensors) copy.tensors.push_back(t.detach().clone().requires_grad_(t.requires_grad()));
  return copy;
}

BodyPart::BodyPart(SliceSet slices, int first_unit, int last_unit)
    : slices_(std::move(slices)), first_(first_unit), last_(last_unit) {
  const Architecture& arch = *slices_.architecture;
  const std::vector<int> expected = arch.body_spec_ids(first_, last_);
  if (expected != slices_.spec_ids || slices_.tensors.size() != expected.size()) {
    throw std::invalid_argument("BodyPart: slices do not match units " + std::to_string(first_) + ".." +
                                std::to_string(last_));
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    const int unit = arch.specs()[expected[i]].unit;
    if (unit_offsets_.size() < static_cast<size_t>(unit - first_ + 1)) unit_offsets_.push_back(static_cast<int>(i));
  }
  unit_offsets_.push_back(static_cast<int>(expected.size()));  // sentinel: end of the last unit
}

at::Tensor BodyPart::forward(const at::Tensor& input, Mode mode, double bn_momentum) const {
  at::Tensor x = input;
  for (int unit = first_; unit <= last_; ++unit) x = forward_unit(unit, x, mode, bn_momentum);
  return x;
}

at::Tensor BodyPart::forward(const at::Tensor& input, Mode mode, double bn_momentum, const std::vector<int>& tap_units,
                             std::vector<at::Tensor>& tapped) const {
  at::Tensor x = input;
  for (int unit = first_; unit <= last_; ++unit) {
    x = forward_unit(unit, x, mode, bn_momentum);
    if (std::find(tap_units.begin(), tap_units.end(), unit) != tap_units.end()) tapped.push_back(x);
  }
  return x;
}

at::Tensor BodyPart::forward_unit(int unit, const at::Tensor& x, Mode mode, double momentum) const {
  const Architecture& arch = *slices_.architecture;
  const std::vector<at::Tensor>& t = slices_.tensors;
  const size_t at = static_cast<size_t>(unit_offsets_[unit - first_]);
  if (unit == arch.unit_count()) {
    return at::linear(x.mean({2, 3}), t[at], t[at + 1]);
  }
  const int64_t stride = arch.unit_stride(unit);
  if (unit == 1) {
    return at::relu(batch_norm(t, at + 1, at::conv2d(x, t[at], at::Tensor(), 1, 1), mode, momentum));
  }
  at::Tensor out = at::relu(batch_norm(t, at + 1, at::conv2d(x, t[at], at::Tensor(), stride, 1), mode, momentum));
  const size_t conv2 = at + 1 + kBatchNormTensors;
  out = batch_norm(t, conv2 + 1, at::conv2d(out, t[conv2], at::Tensor(), 1, 1), mode, momentum);
  const size_t shortcut = conv2 + 1 + kBatchNormTensors;
  const size_t unit_end = static_cast<size_t>(unit_offsets_[unit - first_ + 1]);
  if (unit_end > shortcut) {  // the unit has a projection shortcut
    out = out + batch_norm(t, shortcut + 1, at::conv2d(x, t[shortcut], at::Tensor(), stride, kNoPadding), mode, momentum);
  } else {
    out = out + x;
  }
  return at::relu(out);
}

std::pair<BodyPart, BodyPart> BodyPart::split(int cut) const {
  if (cut < first_ || cut >= last_) {
    throw std::invalid_argument("split: cut " + std::to_string(cut) + " must lie in [" + std::to_string(first_) +
                                ", " + std::to_string(last_ - 1) + "]");
  }
  const size_t boundary = static_cast<size_t>(unit_offsets_[cut + 1 - first_]);
  SliceSet prefix{slices_.architecture, slices_.config, {}, {}};
  SliceSet suffix{slices_.architecture, slices_.config, {}, {}};
  for (size_t i = 0; i < slices_.tensors.size(); ++i) {
    SliceSet& side = i < boundary ? prefix : suffix;
    side.spec_ids.push_back(slices_.spec_ids[i]);
    side.tensors.push_back(slices_.tensors[i].detach().clone().requires_grad_(slices_.tensors[i].requires_grad()));
  }
  return {BodyPart(std::move(prefix), first_, cut), BodyPart(std::move(suffix), cut + 1, last_)};
}

LocalHead::LocalHead(SliceSet slices, int cut) : slices_(std::move(slices)), cut_(cut) {
  if (slices_.spec_ids != slices_.architecture->head_spec_ids(cut) || slices_.tensors.size() != 2) {
    throw std::invalid_argument("LocalHead: slices are not the head of cut " + std::to_string(cut));
  }
}

at::Tensor LocalHead::forward(const at::Tensor& features) const {
  return at::linear(features.mean({2, 3}), slices_.tensors[0], slices_.tensors[1]);
}

void recalibrate_batchnorm(BodyPart& part, const std::vector<at::Tensor>& batches) {
  const Architecture& arch = *part.slices().architecture;
  for (size_t i = 0; i < part.slices().spec_ids.size(); ++i) {
    const TensorRole role = arch.specs()[part.slices().spec_ids[i]].role;
    if (role == TensorRole::bn_running_mean) part.slices().tensors[i].zero_();
    if (role == TensorRole::bn_running_var) part.slices().tensors[i].fill_(1.0);
  }
  at::NoGradGuard no_grad;
  for (size_t k = 0; k < batches.size(); ++k) {
    // momentum 1/(k+1) turns the exponential average into the plain mean over batches.
    part.forward(batches[k], Mode::train, 1.0 / static_cast<double>(k + 1));
  }
}

}  // namespace sflsim::supernet
