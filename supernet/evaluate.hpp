#pragma once
// Test-set evaluation of a whole subnet (units 1..L, BatchNorm in eval mode).
#include "datasets/dataset.hpp"
#include "supernet/subnet.hpp"

namespace sflsim::supernet {

struct Evaluation {
  double accuracy = 0.0;  // fraction correct
  double loss = 0.0;      // mean cross-entropy
};

Evaluation evaluate(const BodyPart& whole, const datasets::ImageDataset& test, int batch_size = 500);

}  // namespace sflsim::supernet
