#pragma once
// Test-set evaluation of a whole subnet (units 1..L, BatchNorm in eval mode).
#include "datasets/dataset.hpp"
#include "supernet/subnet.hpp"

#include <cstdint>
#include <functional>

namespace sflsim::supernet {

struct Evaluation {
  double accuracy = 0.0;  // fraction correct
  double loss = 0.0;      // mean cross-entropy
};

// Runs body(0) .. body(count - 1), in any order or at once, and returns when all are done.
using ForEachBatch = std::function<void(int64_t count, const std::function<void(int64_t)>& body)>;

// Batches are independent and their sums are combined in batch order, so the
// result does not depend on how `for_each` schedules them (default: in order).
Evaluation evaluate(const BodyPart& whole, const datasets::ImageDataset& test, int batch_size = 500,
                    const ForEachBatch& for_each = {});

}  // namespace sflsim::supernet
