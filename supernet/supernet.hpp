#pragma once
// The one shared weight-sharing supernet. Clients and servers never train it
// directly: they extract copies of slices, train those, and aggregation
// writes them back with per-element coverage normalisation.
#include "supernet/subnet.hpp"

#include <ATen/core/Tensor.h>

#include <memory>
#include <span>
#include <vector>

namespace sflsim::supernet {

// One trained copy handed to write_back, with its aggregation weight (> 0).
// `share` in (0, 1] is the discount of a late copy (gamma^s; 1 = fresh).
// Where fresh copies of an element exist, a late copy joins their weighted
// mean with weight `weight * share`; where late copies are the element's only
// copies, the element moves `share` of the way toward them (per-element
// normalisation would otherwise divide the discount back out).
struct Contribution {
  const SliceSet* slices;
  double weight;
  double share = 1.0;
};

class Supernet {
 public:
  // Initialises every tensor from `options.init_seed` (Kaiming-normal convs,
  // unit BatchNorm, PyTorch-default linear layers): same seed, same bytes.
  explicit Supernet(const SupernetOptions& options);

  const Architecture& architecture() const { return *architecture_; }
  std::shared_ptr<const Architecture> shared_architecture() const { return architecture_; }

  // Copies of the slices of units [first, last] (default 1..config.depth) for `config`.
  BodyPart extract(const SubnetConfig& config) const;
  BodyPart extract(const SubnetConfig& config, int first_unit, int last_unit) const;
  LocalHead extract_head(const SubnetConfig& config, int cut) const;

  // For every element: the weighted mean over the contributions whose slice
  // covers it (late copies as Contribution says); elements no contribution
  // covers keep their value. BatchNorm
  // running statistics are averaged the same way. (One WriteBack, all added.)
  void write_back(std::span<const Contribution> contributions);

  // The full tensors, indexed by spec id (read-only view for evaluation and tests).
  const std::vector<at::Tensor>& tensors() const { return tensors_; }

 private:
  SliceSet slice(const SubnetConfig& config, std::vector<int> spec_ids) const;

  friend class WriteBack;
  std::shared_ptr<const Architecture> architecture_;
  std::vector<at::Tensor> tensors_;
};

// A write_back built up one contribution at a time, so a trained copy can be
// folded into the running weighted sum (in double precision) and freed as
// soon as it is final, instead of all copies living until the round ends.
// Contributions are summed in the order they are added; apply() writes the
// means into the supernet, which must not change in between.
class WriteBack {
 public:
  explicit WriteBack(Supernet& net);
  ~WriteBack();
  WriteBack(const WriteBack&) = delete;
  WriteBack& operator=(const WriteBack&) = delete;

  // Reads `contribution.slices` now; the caller may free them after the call.
  void add(const Contribution& contribution);
  void apply();  // once; a WriteBack nothing was added to leaves the supernet as it is

 private:
  struct Accumulator;
  Supernet& net_;
  std::vector<Accumulator> acc_;
};

// The leading slice of `full` with `shape` (a view, not a copy).
at::Tensor leading_slice(const at::Tensor& full, const std::vector<int64_t>& shape);

}  // namespace sflsim::supernet
