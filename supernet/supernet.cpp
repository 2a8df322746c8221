#include "supernet/supernet.hpp"

#include "datasets/compute_device.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <stdexcept>

namespace sflsim::supernet {

at::Tensor leading_slice(const at::Tensor& full, const std::vector<int64_t>& shape) {
  at::Tensor view = full;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] != full.size(static_cast<int64_t>(d))) view = view.narrow(static_cast<int64_t>(d), 0, shape[d]);
  }
  return view;
}

Supernet::Supernet(const SupernetOptions& options) : architecture_(std::make_shared<Architecture>(options)) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.init_seed);
  at::NoGradGuard no_grad;
  const std::vector<TensorSpec>& specs = architecture_->specs();
  for (size_t id = 0; id < specs.size(); ++id) {
    const TensorSpec& spec = specs[id];
    at::Tensor t = at::empty(spec.shape, at::kFloat);
    switch (spec.role) {
      case TensorRole::conv_weight: {  // Kaiming normal, fan-out, ReLU gain (as torchvision's ResNet)
        const double fan_out = static_cast<double>(spec.shape[0] * spec.shape[2] * spec.shape[3]);
        t.normal_(0.0, std::sqrt(2.0 / fan_out), generator);
        break;
      }
      case TensorRole::bn_weight:
      case TensorRole::bn_running_var: t.fill_(1.0); break;
      case TensorRole::bn_bias:
      case TensorRole::bn_running_mean: t.zero_(); break;
      case TensorRole::linear_weight:
      case TensorRole::linear_bias: {  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as torch::nn::Linear
        const TensorSpec& weight = spec.role == TensorRole::linear_weight ? spec : specs[id - 1];
        const double bound = 1.0 / std::sqrt(static_cast<double>(weight.shape[1]));
        t.uniform_(-bound, bound, generator);
        break;
      }
    }
    // Initialised on the CPU from the seed, so every device starts from the same bytes.
    tensors_.push_back(t.to(datasets::compute_device()));
  }
}

SliceSet Supernet::slice(const SubnetConfig& config, std::vector<int> spec_ids) const {
  architecture_->validate(config);
  SliceSet out{architecture_, config, std::move(spec_ids), {}};
  out.tensors.reserve(out.spec_ids.size());
  for (int id : out.spec_ids) {
    const TensorSpec& spec = architecture_->specs()[id];
    at::Tensor copy = leading_slice(tensors_[id], architecture_->sliced_shape(spec, config)).clone();
    out.tensors.push_back(copy.requires_grad_(is_trainable(spec.role)));
  }
  return out;
}

BodyPart Supernet::extract(const SubnetConfig& config) const { return extract(config, 1, config.depth); }

BodyPart Supernet::extract(const SubnetConfig& config, int first_unit, int last_unit) const {
  if (last_unit > config.depth) {
    throw std::invalid_argument("extract: unit " + std::to_string(last_unit) + " is deeper than the subnet (" +
                                config.to_string() + ")");
  }
  return BodyPart(slice(config, architecture_->body_spec_ids(first_unit, last_unit)), first_unit, last_unit);
}

LocalHead Supernet::extract_head(const SubnetConfig& config, int cut) const {
  return LocalHead(slice(config, architecture_->head_spec_ids(cut)), cut);
}

struct WriteBack::Accumulator {
  // Sum of weight * share * value over every copy covering an element.
  at::Tensor weighted_sum;
  // The contributions' shapes, weights and shares, in order: the coverage
  // tensors are built from them only in apply(), one tensor at a time (they
  // would double the sum's memory for the whole round otherwise).
  struct Cover {
    std::vector<int64_t> shape;
    double weight;
    double share;
  };
  std::vector<Cover> covers;
};

WriteBack::WriteBack(Supernet& net) : net_(net), acc_(net.tensors_.size()) {}

WriteBack::~WriteBack() = default;

void WriteBack::add(const Contribution& c) {
  if (!(c.weight > 0.0) || !std::isfinite(c.weight)) {
    throw std::invalid_argument("write_back: contribution weights must be positive and finite");
  }
  if (!(c.share > 0.0 && c.share <= 1.0)) throw std::invalid_argument("write_back: a contribution's share must be in (0, 1]");
  if (c.slices->architecture != net_.architecture_) {
    throw std::invalid_argument("write_back: contribution was extracted from another supernet");
  }
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < c.slices->spec_ids.size(); ++i) {
    const int id = c.slices->spec_ids[i];
    Accumulator& a = acc_[static_cast<size_t>(id)];
    if (!a.weighted_sum.defined()) {
      a.weighted_sum = at::zeros_like(net_.tensors_[static_cast<size_t>(id)], at::kDouble);
    }
    const at::Tensor& update = c.slices->tensors[i];
    std::vector<int64_t> shape(update.sizes().begin(), update.sizes().end());
    at::Tensor target = leading_slice(a.weighted_sum, shape);
    target.add_(update.detach().to(at::kDouble), c.weight * c.share);
    a.covers.push_back({std::move(shape), c.weight, c.share});
  }
}

// Per element: where a fresh copy (share 1) covers it, the mean of all
// covering copies, a late one weighted weight * share; where only late copies
// cover it, the element moves toward their mean by their combined share (for
// one copy: share of the way), the rest of their weight staying on the
// element's current value. So a late copy never holds fresh ones back, and
// its discount still holds where it is alone.
void WriteBack::apply() {
  at::NoGradGuard no_grad;
  for (size_t id = 0; id < net_.tensors_.size(); ++id) {
    Accumulator& a = acc_[id];
    if (!a.weighted_sum.defined()) continue;
    at::Tensor& current = net_.tensors_[id];
    const at::Tensor fresh_weight = at::zeros_like(a.weighted_sum);
    at::Tensor late_weight;    // sum of weight * share over late copies
    at::Tensor late_coverage;  // sum of weight over late copies
    for (const Accumulator::Cover& cover : a.covers) {
      if (cover.share == 1.0) {
        leading_slice(fresh_weight, cover.shape).add_(cover.weight);
        continue;
      }
      if (!late_weight.defined()) {
        late_weight = at::zeros_like(a.weighted_sum);
        late_coverage = at::zeros_like(a.weighted_sum);
      }
      leading_slice(late_weight, cover.shape).add_(cover.weight * cover.share);
      leading_slice(late_coverage, cover.shape).add_(cover.weight);
    }
    if (!late_weight.defined()) {
      const at::Tensor mean = (a.weighted_sum / fresh_weight.clamp_min(1e-300)).to(at::kFloat);
      current.copy_(at::where(fresh_weight > 0, mean, current));
    } else {
      const at::Tensor with_fresh = a.weighted_sum / (fresh_weight + late_weight).clamp_min(1e-300);
      const at::Tensor late_only =
          (a.weighted_sum + (late_coverage - late_weight) * current.to(at::kDouble)) / late_coverage.clamp_min(1e-300);
      const at::Tensor blended = at::where(fresh_weight > 0, with_fresh, late_only).to(at::kFloat);
      current.copy_(at::where((fresh_weight > 0).logical_or(late_coverage > 0), blended, current));
    }
    a = Accumulator{};
  }
}

void Supernet::write_back(std::span<const Contribution> contributions) {
  WriteBack write(*this);
  for (const Contribution& c : contributions) write.add(c);
  write.apply();
}

}  // namespace sflsim::supernet
