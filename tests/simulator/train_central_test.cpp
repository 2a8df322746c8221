// train-central learns the real Fashion-MNIST: the model and data path work end to end.
#include "simulator/train_central.hpp"

#include <ATen/Parallel.h>
#include <catch2/catch.hpp>

TEST_CASE("one epoch on 12,000 real Fashion-MNIST images reaches 80 % test accuracy", "[slow][train-central]") {
  at::set_num_threads(2);
  sflsim::cli::TrainCentralOptions options;
  options.epochs = 1;
  options.train_samples = 12000;
  const double accuracy = sflsim::cli::train_central(options);
  CHECK(accuracy >= 0.80);
}
