#pragma once
// A client's or server's own copy of part of a subnet: the tensors are leading
// slices copied out of the supernet (never views of it), so training them
// never touches the shared supernet; only Supernet::write_back does.
#include "supernet/architecture.hpp"

#include <ATen/core/Tensor.h>

#include <memory>
#include <utility>
#include <vector>

namespace sflsim::supernet {

// Tensors copied from the supernet, in spec order. Trainable tensors require
// grad; BatchNorm running statistics are plain buffers.
struct SliceSet {
  std::shared_ptr<const Architecture> architecture;
  SubnetConfig config;
  std::vector<int> spec_ids;        // indices into architecture->specs()
  std::vector<at::Tensor> tensors;  // same order as spec_ids

  std::vector<at::Tensor> parameters() const;  // the trainable tensors (shared, not copied)
  int64_t parameter_count() const;
  SliceSet clone() const;  // deep copy
};

enum class Mode { train, eval };

// Body units [first, last] of a subnet. A whole subnet is units 1..depth; a
// client prefix at cut d is 1..d and the server suffix d+1..L, and
// suffix.forward(prefix.forward(x)) == whole.forward(x).
class BodyPart {
 public:
  BodyPart(SliceSet slices, int first_unit, int last_unit);

  // Feature map after unit `last_unit`, or logits when it is the classifier
  // unit. In train mode BatchNorm uses batch statistics and updates its running
  // statistics with `bn_momentum`; in eval mode it uses the running statistics.
  at::Tensor forward(const at::Tensor& input, Mode mode, double bn_momentum = 0.1) const;
  // As forward(), and appends to `tapped` the output of each unit listed in
  // `tap_units` (units of this part; DepthFL's early exits).
  at::Tensor forward(const at::Tensor& input, Mode mode, double bn_momentum, const std::vector<int>& tap_units,
                     std::vector<at::Tensor>& tapped) const;

  // Deep copies of units [first, cut] and [cut + 1, last].
  std::pair<BodyPart, BodyPart> split(int cut) const;

  int first_unit() const { return first_; }
  int last_unit() const { return last_; }
  const SubnetConfig& config() const { return slices_.config; }
  SliceSet& slices() { return slices_; }
  const SliceSet& slices() const { return slices_; }

 private:
  at::Tensor forward_unit(int unit, const at::Tensor& x, Mode mode, double bn_momentum) const;

  SliceSet slices_;
  int first_;
  int last_;
  std::vector<int> unit_offsets_;  // where each unit starts in slices_.tensors, plus an end sentinel
};

// The local classifier for a cut: global average pool + linear.
class LocalHead {
 public:
  LocalHead(SliceSet slices, int cut);
  at::Tensor forward(const at::Tensor& features) const;
  int cut() const { return cut_; }
  SliceSet& slices() { return slices_; }
  const SliceSet& slices() const { return slices_; }

 private:
  SliceSet slices_;
  int cut_;
};

// Re-estimates the BatchNorm running statistics of `part` from `batches`
// (cumulative average, as in once-for-all): needed when a width-sliced subnet
// is evaluated, since its channel statistics differ from the widest network's.
void recalibrate_batchnorm(BodyPart& part, const std::vector<at::Tensor>& batches);

}  // namespace sflsim::supernet
