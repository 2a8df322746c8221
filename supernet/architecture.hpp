#pragma once
// The supernet's shape as data: which tensors exist, their shapes for any
// subnet, and the analytic costs the simulator charges (FLOPs, parameters,
// activation bytes). Torch-free on purpose: virtual time and bytes must not
// depend on LibTorch.
#include "supernet/subnet_config.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sflsim::supernet {

struct SupernetOptions {
  int in_channels = 3;
  int num_classes = 10;
  int image_height = 32;
  int image_width = 32;
  double width_multiplier = 1.0;  // 1.0 = ResNet-18 (64-128-256-512); 0.25 = 16-32-64-128
  std::array<int, kStages> blocks_per_stage{2, 2, 2, 2};
  uint64_t init_seed = 1;
};

enum class TensorRole {
  conv_weight,
  bn_weight,
  bn_bias,
  bn_running_mean,  // buffer: not trained by gradients, still aggregated
  bn_running_var,
  linear_weight,
  linear_bias,
};

bool is_trainable(TensorRole role);

// One tensor of the supernet. `unit` is the body unit it belongs to (1..L), or
// for a local head the cut it serves. Slicing is always a leading slice along
// every dimension, so a subnet's tensor is full[:s0, :s1, ...].
struct TensorSpec {
  std::string name;
  TensorRole role;
  int unit = 0;
  bool head = false;
  std::vector<int64_t> shape;  // full supernet shape
  // Per dimension, the stage whose width fraction slices it (-1: never sliced,
  // e.g. kernel size, classes, image channels).
  std::vector<int> dim_stage;
};

// Per-sample costs of one body unit under a given subnet config.
struct UnitCost {
  int64_t params = 0;            // trainable parameters (conv, BN affine, linear)
  int64_t forward_flops = 0;     // 2 x multiply-accumulates of conv and linear layers
  int64_t output_elements = 0;   // C x H x W of the unit's output (classes for the last unit)
};

class Architecture {
 public:
  explicit Architecture(const SupernetOptions& options);

  const SupernetOptions& options() const { return options_; }
  int unit_count() const { return unit_count_; }  // L
  SubnetConfig full_config() const;
  // Channels of each stage in the supernet (width multiplier applied).
  const std::array<int64_t, kStages>& stage_channels() const { return stage_channels_; }
  // Channels of stage s (0-based) kept by `config`: round(fraction x channels), at least 1.
  int64_t channels(const SubnetConfig& config, int stage) const;
  // The stage a body unit belongs to (the stem belongs to stage 0; -1 for the classifier).
  int stage_of_unit(int unit) const;
  // Stride of the unit's first convolution (2 where a stage halves the map).
  int unit_stride(int unit) const { return unit_shapes_.at(unit).stride; }
  // Output channels of unit `unit` (the cut width) under `config`.
  int64_t unit_output_channels(const SubnetConfig& config, int unit) const;

  // All tensors of the supernet, units first, then the local heads for cuts 1..L-1.
  const std::vector<TensorSpec>& specs() const { return specs_; }
  // Indices into specs() of the tensors of units [first, last].
  std::vector<int> body_spec_ids(int first, int last) const;
  // Indices into specs() of the local head at `cut`.
  std::vector<int> head_spec_ids(int cut) const;
  // The shape a spec takes in `config` (a leading slice of spec.shape).
  std::vector<int64_t> sliced_shape(const TensorSpec& spec, const SubnetConfig& config) const;

  UnitCost unit_cost(const SubnetConfig& config, int unit) const;
  // Sums over units [first, last].
  int64_t params(const SubnetConfig& config, int first, int last) const;
  int64_t forward_flops(const SubnetConfig& config, int first, int last) const;
  int64_t head_params(const SubnetConfig& config, int cut) const;
  int64_t head_forward_flops(const SubnetConfig& config, int cut) const;
  // Declared wire bytes of the tensors of units [first, last] / of the head at
  // `cut` under `config`: 4 per element, BatchNorm statistics included (what
  // protocol::weight_bytes counts of the extracted copies).
  int64_t weight_bytes(const SubnetConfig& config, int first, int last) const;
  int64_t head_weight_bytes(const SubnetConfig& config, int cut) const;
  // fp32 bytes per sample of the activation leaving unit `cut` (what a client sends).
  int64_t activation_bytes(const SubnetConfig& config, int cut) const;
  // Device memory needed to train units [first, last] on `batch` samples:
  // fp32 weights, gradients, momentum and the received copy (16 bytes per
  // parameter) plus three fp32 maps per unit output kept for the backward
  // pass (convolution, BatchNorm and ReLU outputs). A model, not a measurement.
  int64_t training_memory_bytes(const SubnetConfig& config, int first, int last, int64_t batch) const;
  // Throws std::invalid_argument naming the problem if `config` is not a subnet of this supernet.
  void validate(const SubnetConfig& config) const;

 private:
  struct UnitShape {
    int64_t in_h, in_w, out_h, out_w;
    int stride;
  };
  void build_specs();

  SupernetOptions options_;
  int unit_count_ = 0;
  std::array<int64_t, kStages> stage_channels_{};
  std::vector<UnitShape> unit_shapes_;  // index = unit
  std::vector<TensorSpec> specs_;
  std::vector<int> unit_first_spec_;  // index = unit, plus one sentinel
  std::vector<int> head_first_spec_;  // index = cut
};

}  // namespace sflsim::supernet
