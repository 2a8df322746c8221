#pragma once
// Test-set evaluation of a whole subnet (units 1..L, BatchNorm in eval mode).
#include "datasets/dataset.hpp"
#include "supernet/subnet.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace sflsim::supernet {

struct Evaluation {
  double accuracy = 0.0;  // fraction correct
  double loss = 0.0;      // mean cross-entropy
};

// One batch's share: what evaluate() adds up (also computed by other
// processes for `sflsim run --ranks`, and combined here in batch order).
struct BatchScore {
  int64_t correct = 0;
  double loss_sum = 0.0;  // summed cross-entropy
};
// Samples [begin, begin + count) of `test`.
BatchScore score_batch(const BodyPart& whole, const datasets::ImageDataset& test, int64_t begin, int64_t count);
// The evaluation of `samples` samples from their batches' scores, in batch order.
Evaluation combine(const std::vector<BatchScore>& scores, int64_t samples);

// Runs body(0) .. body(count - 1), in any order or at once, and returns when all are done.
using ForEachBatch = std::function<void(int64_t count, const std::function<void(int64_t)>& body)>;

// Batches are independent and their sums are combined in batch order, so the
// result does not depend on how `for_each` schedules them (default: in order).
Evaluation evaluate(const BodyPart& whole, const datasets::ImageDataset& test, int batch_size = 500,
                    const ForEachBatch& for_each = {});

}  // namespace sflsim::supernet
