#include "supernet/architecture.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace sflsim::supernet {

std::string SubnetConfig::to_string() const {
  std::ostringstream out;
  out << "depth " << depth << ", width [" << width[0];
  for (int s = 1; s < kStages; ++s) out << ", " << width[s];
  out << "]";
  return out.str();
}

bool is_trainable(TensorRole role) {
  return role != TensorRole::bn_running_mean && role != TensorRole::bn_running_var;
}

namespace {
int64_t conv_output(int64_t in, int stride) { return (in - 1) / stride + 1; }  // 3x3 pad 1, or 1x1 pad 0
}  // namespace

Architecture::Architecture(const SupernetOptions& options) : options_(options) {
  if (options.in_channels < 1 || options.num_classes < 2 || options.image_height < 1 ||
      options.image_width < 1 || !(options.width_multiplier > 0.0)) {
    throw std::invalid_argument("supernet options: channels, classes, image size and width multiplier must be positive");
  }
  constexpr std::array<int64_t, kStages> base{64, 128, 256, 512};
  for (int s = 0; s < kStages; ++s) {
    if (options.blocks_per_stage[s] < 1) throw std::invalid_argument("supernet options: every stage needs a block");
    stage_channels_[s] = std::max<int64_t>(1, std::llround(static_cast<double>(base[s]) * options.width_multiplier));
  }
  unit_shapes_.push_back({});  // unit 0 unused
  int64_t h = options.image_height, w = options.image_width;
  unit_shapes_.push_back({h, w, h, w, 1});  // stem
  for (int s = 0; s < kStages; ++s) {
    for (int b = 0; b < options.blocks_per_stage[s]; ++b) {
      int stride = (s > 0 && b == 0) ? 2 : 1;
      UnitShape shape{h, w, conv_output(h, stride), conv_output(w, stride), stride};
      unit_shapes_.push_back(shape);
      h = shape.out_h;
      w = shape.out_w;
    }
  }
  unit_shapes_.push_back({h, w, 1, 1, 1});  // pool + classifier
  unit_count_ = static_cast<int>(unit_shapes_.size()) - 1;
  build_specs();
}

SubnetConfig Architecture::full_config() const { return SubnetConfig{unit_count_, {1.0, 1.0, 1.0, 1.0}}; }

int64_t Architecture::channels(const SubnetConfig& config, int stage) const {
  return std::max<int64_t>(1, std::llround(config.width[stage] * static_cast<double>(stage_channels_[stage])));
}

int Architecture::stage_of_unit(int unit) const {
  if (unit == unit_count_) return -1;
  if (unit <= 1) return 0;
  int block = unit - 2;
  for (int s = 0; s < kStages; ++s) {
    if (block < options_.blocks_per_stage[s]) return s;
    block -= options_.blocks_per_stage[s];
  }
  return -1;
}

int64_t Architecture::unit_output_channels(const SubnetConfig& config, int unit) const {
  if (unit == unit_count_) return options_.num_classes;
  return channels(config, stage_of_unit(unit));
}

void Architecture::build_specs() {
  auto add = [this](std::string name, TensorRole role, int unit, bool head, std::vector<int64_t> shape,
                    std::vector<int> dim_stage) {
    specs_.push_back({std::move(name), role, unit, head, std::move(shape), std::move(dim_stage)});
  };
  auto add_bn = [&](const std::string& prefix, int unit, int stage) {
    const int64_t c = stage_channels_[stage];
    add(prefix + ".weight", TensorRole::bn_weight, unit, false, {c}, {stage});
    add(prefix + ".bias", TensorRole::bn_bias, unit, false, {c}, {stage});
    add(prefix + ".running_mean", TensorRole::bn_running_mean, unit, false, {c}, {stage});
    add(prefix + ".running_var", TensorRole::bn_running_var, unit, false, {c}, {stage});
  };
  const int64_t in = options_.in_channels;
  for (int unit = 1; unit <= unit_count_; ++unit) {
    unit_first_spec_.push_back(static_cast<int>(specs_.size()));
    const std::string u = "unit" + std::to_string(unit);
    if (unit == 1) {
      add(u + ".conv.weight", TensorRole::conv_weight, unit, false, {stage_channels_[0], in, 3, 3}, {0, -1, -1, -1});
      add_bn(u + ".bn", unit, 0);
    } else if (unit == unit_count_) {
      add(u + ".fc.weight", TensorRole::linear_weight, unit, false,
          {options_.num_classes, stage_channels_[kStages - 1]}, {-1, kStages - 1});
      add(u + ".fc.bias", TensorRole::linear_bias, unit, false, {options_.num_classes}, {-1});
    } else {
      const int s = stage_of_unit(unit);
      const int in_stage = stage_of_unit(unit - 1);
      const int64_t c = stage_channels_[s], c_in = stage_channels_[in_stage];
      add(u + ".conv1.weight", TensorRole::conv_weight, unit, false, {c, c_in, 3, 3}, {s, in_stage, -1, -1});
      add_bn(u + ".bn1", unit, s);
      add(u + ".conv2.weight", TensorRole::conv_weight, unit, false, {c, c, 3, 3}, {s, s, -1, -1});
      add_bn(u + ".bn2", unit, s);
      if (unit_shapes_[unit].stride != 1 || in_stage != s) {
        add(u + ".shortcut.weight", TensorRole::conv_weight, unit, false, {c, c_in, 1, 1}, {s, in_stage, -1, -1});
        add_bn(u + ".shortcut_bn", unit, s);
      }
    }
  }
  unit_first_spec_.push_back(static_cast<int>(specs_.size()));
  head_first_spec_.assign(1, -1);
  for (int cut = 1; cut < unit_count_; ++cut) {
    head_first_spec_.push_back(static_cast<int>(specs_.size()));
    const int s = stage_of_unit(cut);
    const std::string h = "head" + std::to_string(cut);
    add(h + ".fc.weight", TensorRole::linear_weight, cut, true, {options_.num_classes, stage_channels_[s]}, {-1, s});
    add(h + ".fc.bias", TensorRole::linear_bias, cut, true, {options_.num_classes}, {-1});
  }
}

std::vector<int> Architecture::body_spec_ids(int first, int last) const {
  if (first < 1 || last > unit_count_ || first > last) {
    throw std::invalid_argument("unit range [" + std::to_string(first) + ", " + std::to_string(last) +
                                "] is outside 1.." + std::to_string(unit_count_));
  }
  std::vector<int> ids;
  for (int i = unit_first_spec_[first - 1]; i < unit_first_spec_[last]; ++i) ids.push_back(i);
  return ids;
}

std::vector<int> Architecture::head_spec_ids(int cut) const {
  if (cut < 1 || cut >= unit_count_) {
    throw std::invalid_argument("cut " + std::to_string(cut) + " is outside 1.." + std::to_string(unit_count_ - 1));
  }
  const int first = head_first_spec_[cut];
  return {first, first + 1};
}

std::vector<int64_t> Architecture::sliced_shape(const TensorSpec& spec, const SubnetConfig& config) const {
  std::vector<int64_t> shape = spec.shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (spec.dim_stage[d] >= 0) shape[d] = channels(config, spec.dim_stage[d]);
  }
  return shape;
}

UnitCost Architecture::unit_cost(const SubnetConfig& config, int unit) const {
  UnitCost cost;
  const UnitShape& shape = unit_shapes_.at(unit);
  for (int id : body_spec_ids(unit, unit)) {
    const TensorSpec& spec = specs_[id];
    if (!is_trainable(spec.role)) continue;
    const std::vector<int64_t> s = sliced_shape(spec, config);
    int64_t numel = 1;
    for (int64_t d : s) numel *= d;
    cost.params += numel;
    if (spec.role == TensorRole::conv_weight) {
      // Every convolution of a unit (conv1, conv2, shortcut, stem) produces the unit's output map.
      cost.forward_flops += 2 * numel * shape.out_h * shape.out_w;
    } else if (spec.role == TensorRole::linear_weight) {
      cost.forward_flops += 2 * numel;
    }
  }
  cost.output_elements = unit == unit_count_ ? options_.num_classes
                                             : unit_output_channels(config, unit) * shape.out_h * shape.out_w;
  return cost;
}

int64_t Architecture::params(const SubnetConfig& config, int first, int last) const {
  int64_t total = 0;
  for (int unit = first; unit <= last; ++unit) total += unit_cost(config, unit).params;
  return total;
}

int64_t Architecture::forward_flops(const SubnetConfig& config, int first, int last) const {
  int64_t total = 0;
  for (int unit = first; unit <= last; ++unit) total += unit_cost(config, unit).forward_flops;
  return total;
}

int64_t Architecture::head_params(const SubnetConfig& config, int cut) const {
  return unit_output_channels(config, cut) * options_.num_classes + options_.num_classes;
}

int64_t Architecture::head_forward_flops(const SubnetConfig& config, int cut) const {
  return 2 * unit_output_channels(config, cut) * options_.num_classes;
}

namespace {
int64_t elements(const Architecture& arch, const SubnetConfig& config, const std::vector<int>& spec_ids) {
  int64_t total = 0;
  for (int id : spec_ids) {
    int64_t n = 1;
    for (int64_t d : arch.sliced_shape(arch.specs()[static_cast<size_t>(id)], config)) n *= d;
    total += n;
  }
  return total;
}
}  // namespace

int64_t Architecture::weight_bytes(const SubnetConfig& config, int first, int last) const {
  return 4 * elements(*this, config, body_spec_ids(first, last));
}

int64_t Architecture::head_weight_bytes(const SubnetConfig& config, int cut) const {
  return 4 * elements(*this, config, head_spec_ids(cut));
}

int64_t Architecture::activation_bytes(const SubnetConfig& config, int cut) const {
  if (cut < 1 || cut >= unit_count_) {
    throw std::invalid_argument("cut " + std::to_string(cut) + " is outside 1.." + std::to_string(unit_count_ - 1));
  }
  return 4 * unit_cost(config, cut).output_elements;
}

int64_t Architecture::training_memory_bytes(const SubnetConfig& config, int first, int last, int64_t batch) const {
  int64_t maps = 0;
  for (int unit = first; unit <= last; ++unit) maps += 4 * unit_cost(config, unit).output_elements;
  return 16 * params(config, first, last) + 3 * batch * maps;
}

void Architecture::validate(const SubnetConfig& config) const {
  if (config.depth < 1 || config.depth > unit_count_) {
    throw std::invalid_argument("subnet depth " + std::to_string(config.depth) + " is outside 1.." +
                                std::to_string(unit_count_));
  }
  for (int s = 0; s < kStages; ++s) {
    if (!(config.width[s] > 0.0 && config.width[s] <= 1.0)) {
      throw std::invalid_argument("subnet width of stage " + std::to_string(s + 1) + " is " +
                                  std::to_string(config.width[s]) + ", must be in (0, 1]");
    }
  }
}

}  // namespace sflsim::supernet
